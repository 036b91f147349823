// Package leaderboard holds what belongs to the whole API rather than to one part of
// it: its contract, openapi.yaml, which the code is tested against (see openapi_test.go)
// and which GET /openapi.json serves.
package leaderboard

import _ "embed"

// OpenAPI is openapi.yaml, the API's contract.
//
//go:embed openapi.yaml
var OpenAPI []byte
