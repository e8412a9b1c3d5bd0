package models

import (
	"io"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// ChangeType numbers are Studio's (cc/viewsets/sync/constants.py), so its payloads carry over.
type ChangeType int

// The change types.
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

// changeTypeNames are the GraphQL names of the change types the API offers.
var changeTypeNames = map[ChangeType]string{
	ChangeCreated: "CREATED", ChangeUpdated: "UPDATED", ChangeDeleted: "DELETED", ChangeMoved: "MOVED",
	ChangeCopied: "COPIED", ChangePublished: "PUBLISHED", ChangeUpdatedDescendants: "UPDATED_DESCENDANTS",
}

// MarshalGQL writes the type's GraphQL enum name.
func (t ChangeType) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(changeTypeNames[t]))
}

// UnmarshalGQL reads a GraphQL enum name.
func (t *ChangeType) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	for typ, name := range changeTypeNames {
		if name == s {
			*t = typ
			return nil
		}
	}
	return Errorf(CodeBadUserInput, "%v is not a change type", v)
}
