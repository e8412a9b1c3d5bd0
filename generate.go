// Package studio is the root of the module: the API contract lives in
// schema.graphqls beside this file, the code in the packages below it.
package studio

//go:generate go tool gqlgen generate
