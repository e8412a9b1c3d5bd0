package db

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"studio/models"
)

// canCopy says whether the transaction in ctx can use COPY: on PostgreSQL,
// where InTx keeps the transaction's pgx connection beside it.
func canCopy(ctx context.Context) bool {
	_, ok := ctx.Value(pgxConnKey{}).(*pgx.Conn)
	return ok
}

// copyRows writes rows with PostgreSQL's COPY, in the transaction in ctx
// (canCopy must hold). COPY skips parsing a statement as large as the rows,
// which is most of the cost of a bulk INSERT.
func copyRows(ctx context.Context, table string, columns []string, rows [][]any) error {
	pc := ctx.Value(pgxConnKey{}).(*pgx.Conn)
	if c := CounterFrom(ctx); c != nil {
		c.Add(1)
	}
	if _, err := pc.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("db: copy into %s: %w", table, err)
	}
	return nil
}

// Values for COPY's binary encoding.

func uuidValue(id models.ID) any { return [16]byte(id) }

func uuidOrNil(id *models.ID) any {
	if id == nil {
		return nil
	}
	return [16]byte(*id)
}

func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

var nodeColumns = []string{"id", "channel_id", "root_id", "parent_id", "sort_order", "node_id", "content_id", "kind",
	"title", "description", "author", "aggregator", "provider", "copyright_holder", "license", "license_description",
	"language", "role_visibility", "extra_fields", "thumbnail_encoding", "grade_levels", "resource_types",
	"learning_activities", "accessibility_labels", "categories", "learner_needs", "suggested_duration", "complete",
	"changed", "published", "freeze_authoring_data", "source_channel_id", "source_node_id", "original_channel_id",
	"original_source_node_id", "created_at", "modified_at", "created_by_id", "modified_by_id"}

func nodeRow(n *models.ContentNode) ([]any, error) {
	row := []any{uuidValue(n.ID), uuidValue(n.ChannelID), uuidValue(n.RootID), uuidOrNil(n.ParentID), n.SortOrder,
		uuidValue(n.NodeID), uuidValue(n.ContentID), n.Kind, n.Title, n.Description, n.Author, n.Aggregator, n.Provider,
		n.CopyrightHolder, n.LicenseName, n.LicenseDescription, n.LanguageCode, n.RoleVisibility}
	for _, m := range []map[string]any{n.ExtraFields, n.ThumbnailEncoding, n.GradeLevels, n.ResourceTypes,
		n.LearningActivities, n.AccessibilityLabels, n.Categories, n.LearnerNeeds} {
		j, err := jsonValue(m)
		if err != nil {
			return nil, err
		}
		row = append(row, j)
	}
	return append(row, n.SuggestedDuration, n.Complete, n.Changed, n.Published, n.FreezeAuthoringData,
		uuidOrNil(n.SourceChannelID), uuidOrNil(n.SourceNodeID), uuidOrNil(n.OriginalChannelID),
		uuidOrNil(n.OriginalSourceNodeID), n.CreatedAt, n.ModifiedAt, uuidOrNil(n.CreatedByID), uuidOrNil(n.ModifiedByID)), nil
}

var changeColumns = []string{"server_rev", "channel_id", "user_id", "created_by_id", "client_rev", "table_name",
	"change_type", "key", "payload", "created_at"}

func changeRow(c *models.Change) ([]any, error) {
	key, err := jsonValue(c.Key)
	if err != nil {
		return nil, err
	}
	payload, err := jsonValue(c.Payload)
	if err != nil {
		return nil, err
	}
	return []any{c.ServerRev, uuidOrNil(c.ChannelID), uuidOrNil(c.UserID), uuidOrNil(c.CreatedByID), c.ClientRev,
		c.Table, int(c.Type), key, payload, c.CreatedAt}, nil
}
