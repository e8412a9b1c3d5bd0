package graph

import (
	"studio/blobs"
	"studio/db"
)

// Resolver holds what resolvers need; they parse arguments, call one
// function, and return.
type Resolver struct {
	DB    *db.DB
	Blobs *blobs.Store
	// MaxUpload is the largest file uploadFile takes, in bytes.
	MaxUpload int64
}
