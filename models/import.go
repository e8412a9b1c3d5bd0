package models

import (
	"time"

	"github.com/uptrace/bun"
)

// ChannelImport is one import of a published channel (importChannel): where
// it came from and what it found.
type ChannelImport struct {
	bun.BaseModel `bun:"table:channel_imports,alias:ci"`

	JobID     int64 `bun:"job_id,pk"`
	ChannelID ID    `bun:"channel_id,type:uuid"`
	UserID    *ID   `bun:"user_id,type:uuid"`
	// Source is the base URL or directory imported from.
	Source          string `bun:"source"`
	SourceChannelID ID     `bun:"source_channel_id,type:uuid"`
	// SourceVersion is the version the source published, once it is read.
	SourceVersion *int `bun:"source_version"`
	// Staged says the import became the channel's staging tree (as), not its main tree.
	Staged bool `bun:"staged"`
	// Nodes are a digest of each imported node, by node_id, for the next
	// import's UpstreamChanges.
	Nodes map[string]string `bun:"nodes,type:jsonb"`
	// Changes compares this import with the channel's previous import of
	// the same source channel; nil for the first.
	Changes    *UpstreamChanges `bun:"changes,type:jsonb"`
	Warnings   []string         `bun:"warnings,type:jsonb"`
	CreatedAt  time.Time        `bun:"created_at"`
	FinishedAt *time.Time       `bun:"finished_at"`
}

// UpstreamChanges is what changed in a source channel between two imports
// of it, by node_id.
type UpstreamChanges struct {
	PreviousVersion int `json:"previous_version"`
	Added           int `json:"added"`
	Removed         int `json:"removed"`
	Changed         int `json:"changed"`
	Unchanged       int `json:"unchanged"`
}

// UpstreamChanges is Changes, as the API names it.
func (c *ChannelImport) UpstreamChanges() *UpstreamChanges { return c.Changes }
