// Package client is a Go client of the Leaderboard API, generated from openapi.yaml by
// oapi-codegen (a tool dependency in go.mod). Regenerate it with `go generate
// ./pkg/client` after changing the document, never by hand: a test fails while it is
// stale, and client_test.go runs the README walkthrough through it.
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../openapi.yaml
