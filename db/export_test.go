package db

import (
	"github.com/uptrace/bun"

	"studio/models"
)

// NodeFilterSQL exposes Channel.nodes' WHERE clause to the query-plan test.
func (d *DB) NodeFilterSQL(q *bun.SelectQuery, channelID models.ID, f NodeQuery) *bun.SelectQuery {
	return d.nodeFilter(q, channelID, f)
}
