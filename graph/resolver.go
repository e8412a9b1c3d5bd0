package graph

import "studio/db"

// Resolver holds what resolvers need; they parse arguments, call one
// function, and return.
type Resolver struct {
	DB *db.DB
}
