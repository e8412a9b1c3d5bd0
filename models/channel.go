package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Channel is a channels row: what editors curate and publish, with the
// roots of its main and trash trees.
type Channel struct {
	bun.BaseModel `bun:"table:channels,alias:c"`

	ID                 ID             `bun:"id,pk,type:uuid"`
	Name               string         `bun:"name"`
	Description        string         `bun:"description"`
	Tagline            string         `bun:"tagline"`
	LanguageCode       string         `bun:"language"`
	Thumbnail          string         `bun:"thumbnail"`
	ThumbnailEncoding  map[string]any `bun:"thumbnail_encoding,type:jsonb"`
	Public             bool           `bun:"public"`
	Deleted            bool           `bun:"deleted"`
	Version            int            `bun:"version"`
	LastPublished      *time.Time     `bun:"last_published"`
	PublishedSize      int64          `bun:"published_size"`
	TotalResourceCount int            `bun:"total_resource_count"`
	PublishedKindCount []any          `bun:"published_kind_count,type:jsonb"`
	IncludedLanguages  []string       `bun:"included_languages,type:jsonb"`
	ContentDefaults    map[string]any `bun:"content_defaults,type:jsonb"`
	RootID             ID             `bun:"root_id,type:uuid"`
	TrashRootID        ID             `bun:"trash_root_id,type:uuid"`
	// ChefRootID is the tree a chef is uploading, StagingRootID one uploaded
	// for editors to review and deploy (db/chef.go).
	ChefRootID        *ID       `bun:"chef_root_id,type:uuid"`
	StagingRootID     *ID       `bun:"staging_root_id,type:uuid"`
	SourceID          string    `bun:"source_id"`
	SourceDomain      string    `bun:"source_domain"`
	RicecookerVersion string    `bun:"ricecooker_version"`
	CreatedAt         time.Time `bun:"created_at"`
	ModifiedAt        time.Time `bun:"modified_at"`
}

// Role is a user's membership of a channel.
type Role string

// The roles; RoleNone is no membership.
const (
	RoleNone   Role = ""
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
)

// ChannelMember gives a user a role on a channel.
type ChannelMember struct {
	bun.BaseModel `bun:"table:channel_members,alias:cm"`

	ChannelID ID   `bun:"channel_id,pk,type:uuid"`
	UserID    ID   `bun:"user_id,pk,type:uuid"`
	Role      Role `bun:"role"`
}

// ChannelToken is a secret by which Kolibri looks a channel up.
type ChannelToken struct {
	bun.BaseModel `bun:"table:channel_tokens,alias:ct"`

	Token     string `bun:"token,pk"`
	ChannelID ID     `bun:"channel_id,type:uuid"`
	IsPrimary bool   `bun:"is_primary"`
}
