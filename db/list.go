package db

import (
	"github.com/uptrace/bun"

	"studio/models"
)

// list is an IN (…) argument; an empty one matches nothing on both databases.
func list(ids []models.ID) any {
	if len(ids) == 0 {
		return bun.Safe("NULL")
	}
	return bun.List(ids)
}
