// Package graph is the GraphQL API: the generated executor, thin resolvers
// over dataloaders, and the wiring of both. It is generated from
// ../schema.graphqls by `go generate ./...` (see ../generate.go).
package graph
