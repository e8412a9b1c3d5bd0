package graph

import (
	"studio/blobs"
	"studio/db"
	"studio/jobs"
)

// Resolver holds what resolvers need; they parse arguments, call one
// function, and return.
type Resolver struct {
	DB    *db.DB
	Blobs *blobs.Store
	// MaxUpload is the largest file uploadFile takes, in bytes.
	MaxUpload int64
	// Jobs enqueues and reads jobs; nil on a server that runs none.
	Jobs *jobs.Client
}
