package apidocs_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leaderboardapi/leaderboard"
	"github.com/leaderboardapi/leaderboard/pkg/apidocs"
)

func TestOpenAPIServesTheDocumentAsJSON(t *testing.T) {
	resp, err := apidocs.OpenAPI(leaderboard.OpenAPI)(context.Background(), events.APIGatewayV2HTTPRequest{})
	if err != nil || resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("GET /openapi.json = %d %v %v", resp.StatusCode, resp.Headers, err)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &doc); err != nil || doc.OpenAPI != "3.0.3" || doc.Paths["/v1/token"] == nil {
		t.Errorf("document = %.200s (%v)", resp.Body, err)
	}
}

func TestDocsServesThePageAndItsScripts(t *testing.T) {
	for _, tc := range []struct {
		proxy, contentType, holds string
		status                    int
	}{
		{"", "text/html; charset=utf-8", `<script type="module" src="/docs/docs.js">`, 200},
		{"index.html", "text/html; charset=utf-8", `<div id="reference">`, 200},
		{"docs.js", "text/javascript; charset=utf-8", "disableTelemetry: true", 200},
		{"redoc.standalone.js", "text/javascript; charset=utf-8", "Version: 3.0.1", 200},
		{"../apidocs.go", "application/json", `{"message":"Not Found"}`, 404},
		{"web/index.html", "application/json", `{"message":"Not Found"}`, 404},
	} {
		t.Run(tc.proxy, func(t *testing.T) {
			req := events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"proxy": tc.proxy}}
			resp, err := apidocs.Docs()(context.Background(), req)
			if err != nil || resp.StatusCode != tc.status || resp.Headers["Content-Type"] != tc.contentType || !strings.Contains(resp.Body, tc.holds) {
				t.Fatalf("GET /docs/%s = %d %q %.100q %v", tc.proxy, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, err)
			}
			if tc.status == 200 {
				csp := resp.Headers["Content-Security-Policy"]
				if !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "connect-src 'self'") {
					t.Errorf("CSP %q: scripts and connections must be this origin's alone", csp)
				}
			}
		})
	}
}
