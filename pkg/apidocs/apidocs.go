// Package apidocs serves the API's contract: the OpenAPI document as JSON, and a
// human-readable reference rendered from it by Redoc, whose bundle (the npm package
// redoc@3.0.1, bundles/redoc.standalone.js, MIT) is embedded in the binary: nothing is
// fetched at run time.
package apidocs

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

//go:embed web
var web embed.FS

// OpenAPI answers GET /openapi.json: the document, given as YAML, converted to JSON once
// here. A document that is not YAML stops the function's init.
func OpenAPI(document []byte) apigw.Handler {
	var doc any
	if err := yaml.Unmarshal(document, &doc); err != nil {
		panic(fmt.Sprintf("apidocs: the OpenAPI document is not YAML: %v", err))
	}
	body, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("apidocs: the OpenAPI document has no JSON form: %v", err))
	}
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		return apigw.Response{
			StatusCode: http.StatusOK,
			Headers: map[string]string{
				"Content-Type":                "application/json",
				"Cache-Control":               "public, max-age=300",
				"Access-Control-Allow-Origin": "*", // any tool may read the contract
			},
			Body: string(body),
		}, nil
	}
}

// docsPolicy lets Redoc run from this origin only. Redoc styles its page with inline
// style elements (styled-components), so styles, and styles alone, may be inline; its
// search runs in a worker made from a blob.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var docsFiles = map[string]string{
	"index.html":          "text/html; charset=utf-8",
	"docs.js":             "text/javascript; charset=utf-8",
	"redoc.standalone.js": "text/javascript; charset=utf-8",
}

// Docs answers GET /docs (the reference page) and GET /docs/{proxy+} (its script).
func Docs() apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		name := strings.TrimPrefix(req.PathParameters["proxy"], "/")
		if name == "" {
			name = "index.html"
		}
		contentType, ok := docsFiles[name]
		if !ok {
			return apigw.Message(http.StatusNotFound, "Not Found"), nil
		}
		body, err := web.ReadFile("web/" + name)
		if err != nil {
			return apigw.Response{}, fmt.Errorf("read embedded %s: %w", name, err)
		}
		cache := "no-cache"
		if name != "index.html" {
			cache = "public, max-age=86400"
		}
		return apigw.Response{
			StatusCode: http.StatusOK,
			Headers: map[string]string{
				"Content-Type":            contentType,
				"Cache-Control":           cache,
				"Content-Security-Policy": docsPolicy,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
			},
			Body: string(body),
		}, nil
	}
}
