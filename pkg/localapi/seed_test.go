package localapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/internal/localtest"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

// TestSeedClient runs the seed spec's examples as a client written from it would (ping,
// token, team create, get, update and delete, and a leaderboard created with `teams`
// alone) and holds the answers to the seed's status codes and fields. The only
// differences allowed are the README's documented deviations: DELETE answers 204, not
// 201, and answers carry more fields than the seed shows.
func TestSeedClient(t *testing.T) {
	srv := localtest.Start(t)
	creds := auth.NewCredentials()
	if _, err := srv.Store.CreateTenant(context.Background(), creds); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		body   map[string]any
	}
	do := func(method, path string, headers map[string]string, body string) answer {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		a := answer{status: resp.StatusCode}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &a.body); err != nil {
				t.Fatalf("%s %s: %d %q is not a JSON object", method, path, resp.StatusCode, raw)
			}
		}
		return a
	}
	want := func(name string, got answer, status int, fields ...string) {
		t.Helper()
		if got.status != status {
			t.Errorf("%s: status %d, the seed says %d (%v)", name, got.status, status, got.body)
		}
		for _, f := range fields {
			if _, ok := got.body[f]; !ok {
				t.Errorf("%s: no %q in %v, which the seed shows", name, f, got.body)
			}
		}
	}
	same := func(name string, got answer, field string, value any) {
		t.Helper()
		if got.body[field] != value {
			t.Errorf("%s: %s = %v, want %v", name, field, got.body[field], value)
		}
	}

	// GET /ping: 200 { "status": "OK" }.
	ping := do("GET", "/ping", nil, "")
	want("ping", ping, 200, "status")
	same("ping", ping, "status", "OK")

	// GET /v1/token with x-api-key, x-client-secret, x-client-id: 200 { authToken }; else
	// 401 { "message": "Invalid Credentials" }.
	bad := do("GET", "/v1/token", map[string]string{"x-api-key": creds.APIKey, "x-client-id": creds.ClientID, "x-client-secret": "wrong"}, "")
	want("token, wrong secret", bad, 401, "message")
	same("token, wrong secret", bad, "message", "Invalid Credentials")
	tok := do("GET", "/v1/token", map[string]string{"x-api-key": creds.APIKey, "x-client-id": creds.ClientID, "x-client-secret": creds.ClientSecret}, "")
	want("token", tok, 200, "authToken")
	auth := map[string]string{"Authorization": "Bearer " + tok.body["authToken"].(string)}

	// POST /v1/team: 201 { teamName, id, createdAt, modifiedAt }; 401 { "message": "Not Authorized" }.
	noAuth := do("POST", "/v1/team", nil, `{"teamName":"A Team"}`)
	want("team create without a token", noAuth, 401, "message")
	same("team create without a token", noAuth, "message", "Not Authorized")
	team := do("POST", "/v1/team", auth, `{"teamName":"A Team"}`)
	want("team create", team, 201, "teamName", "id", "createdAt", "modifiedAt")
	same("team create", team, "teamName", "A Team")
	id, _ := team.body["id"].(string)

	// PUT /v1/team/:id with { team: {...} }: 200, the team.
	put := do("PUT", "/v1/team/"+id, auth, `{"team":{"teamName":"B Team"}}`)
	want("team update", put, 200, "teamName", "id", "createdAt", "modifiedAt")
	same("team update", put, "teamName", "B Team")

	// GET /v1/team/:id: 200 { teamName, id, createdAt, modifiedAt }.
	got := do("GET", "/v1/team/"+id, auth, "")
	want("team get", got, 200, "teamName", "id", "createdAt", "modifiedAt")
	same("team get", got, "id", id)

	// POST /v1/leaderboard with { teams } alone: 201 { name, id, createdAt, modifiedAt }.
	other := do("POST", "/v1/team", auth, `{"teamName":"C Team"}`).body["id"].(string)
	board := do("POST", "/v1/leaderboard", auth, `{"teams":["`+id+`","`+other+`"]}`)
	want("leaderboard create", board, 201, "name", "id", "createdAt", "modifiedAt")

	// DELETE /v1/team/:id: the seed's 201 "no response" is 204 here (README: deviations);
	// without a token, 401 { "message": "Not Authorized" }.
	want("team delete without a token", do("DELETE", "/v1/team/"+id, nil, ""), 401, "message")
	want("team delete", do("DELETE", "/v1/team/"+id, auth, ""), 204)
	want("team get after delete", do("GET", "/v1/team/"+id, auth, ""), 404, "message")
}
