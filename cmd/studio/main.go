// Command studio serves the studio GraphQL API and administers its database.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
