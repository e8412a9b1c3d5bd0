package models

import (
	"time"

	"github.com/uptrace/bun"
)

// ChangeType numbers are Studio's (cc/viewsets/sync/constants.py), so its payloads carry over.
type ChangeType int

const (
	ChangeCreated            ChangeType = 1
	ChangeUpdated            ChangeType = 2
	ChangeDeleted            ChangeType = 3
	ChangeMoved              ChangeType = 4
	ChangeCopied             ChangeType = 5
	ChangePublished          ChangeType = 6
	ChangeSynced             ChangeType = 7
	ChangeDeployed           ChangeType = 8
	ChangeUpdatedDescendants ChangeType = 9
	ChangePublishedNext      ChangeType = 10
)

// Change is one entry of the change log. Every write appends its changes in
// the transaction that makes it.
type Change struct {
	bun.BaseModel `bun:"table:changes,alias:chg"`

	ServerRev   int64          `bun:"server_rev,pk,autoincrement"`
	ChannelID   *ID            `bun:"channel_id,type:uuid"`
	UserID      *ID            `bun:"user_id,type:uuid"`
	CreatedByID *ID            `bun:"created_by_id,type:uuid"`
	ClientRev   *int64         `bun:"client_rev"`
	Table       string         `bun:"table_name"`
	Type        ChangeType     `bun:"change_type"`
	Key         any            `bun:"key,type:jsonb"`
	Payload     map[string]any `bun:"payload,type:jsonb"`
	CreatedAt   time.Time      `bun:"created_at"`
}
