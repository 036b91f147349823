package localapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leaderboardapi/leaderboard/internal/localtest"
	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/localapi"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func loadTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load(testdb.TemplatePath())
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func testKey(t *testing.T, seed string) auth.SigningKey {
	t.Helper()
	key, err := auth.KeyFromSeed([]byte(strings.Repeat(seed, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// The local server serves every HttpApi route of the template and nothing else.
func TestRoutesMatchTemplate(t *testing.T) {
	tmpl := loadTemplate(t)
	handlers := localapi.Handlers(nil, testKey(t, "w"), nil, discard)
	routes, err := localapi.Routes(tmpl, handlers, discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != len(tmpl.HTTPRoutes()) || len(routes) < 7 {
		t.Fatalf("%d routes served for %d in the template", len(routes), len(tmpl.HTTPRoutes()))
	}

	t.Run("a handler without a route", func(t *testing.T) {
		extra := map[string]apigw.Handler{"ExtraFunction": handlers["PingFunction"]}
		for k, v := range handlers {
			extra[k] = v
		}
		if _, err := localapi.Routes(tmpl, extra, discard); err == nil || !strings.Contains(err.Error(), "ExtraFunction") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a route without a handler", func(t *testing.T) {
		fewer := map[string]apigw.Handler{}
		for k, v := range handlers {
			if k != "GetTeamFunction" {
				fewer[k] = v
			}
		}
		if _, err := localapi.Routes(tmpl, fewer, discard); err == nil || !strings.Contains(err.Error(), "GetTeamFunction") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestUnmatchedRoutesAnswerLikeHTTPAPI(t *testing.T) {
	srv := localtest.Start(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/nope"}, {"PATCH", "/v1/team/x"}, {"GET", "/v1/team/"}, {"POST", "/ping"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || string(body) != `{"message":"Not Found"}` || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s = %d %s", tc.method, tc.path, resp.StatusCode, body)
		}
	}
}

// TestReadmeWalkthrough runs the README's walkthrough with bash and curl against the
// local server over real HTTP, from the dashboard's sign-up to the rankings: every sh
// block of its section, in order. Only the server's URL is swapped for the test's own.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walkthrough needs %s on PATH", tool)
		}
	}
	srv := localtest.Start(t)
	root := filepath.Dir(testdb.TemplatePath())
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile("(?s)\n## Walkthrough\n(.*?)\n## ").FindSubmatch(readme)
	if section == nil {
		t.Fatal("no walkthrough section in README.md")
	}
	var script string
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllSubmatch(section[1], -1) {
		script += string(block[1])
	}
	if !strings.Contains(script, "http://127.0.0.1:3000") {
		t.Fatal("the walkthrough no longer uses http://127.0.0.1:3000")
	}
	script = strings.ReplaceAll(script, "http://127.0.0.1:3000", srv.URL)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("walkthrough failed: %v\n%s", err, out.String())
	}
	// Each answer the README shows on a "# " line (JSON or a status code; other "# "
	// lines are prose) must appear, with its "..." and "01..." parts standing for any text.
	for _, want := range regexp.MustCompile(`(?m)^# ([{\[0-9].*)$`).FindAllStringSubmatch(script, -1) {
		pattern := regexp.QuoteMeta(want[1])
		pattern = strings.ReplaceAll(pattern, `\.\.\.`, `[^"]*`)
		if !regexp.MustCompile(pattern).MatchString(out.String()) {
			t.Errorf("output lacks %s\n--- output:\n%s", want[1], out.String())
		}
	}
}

// TestTokenAfterRotation: the local token endpoint follows its key's retirement as the
// token function does. A newer key published by another instance caps its tokens at
// the old key's retirement; once the old key is retired, it answers 503 (held to
// openapi.yaml like every exchange here).
func TestTokenAfterRotation(t *testing.T) {
	cases := []struct {
		name       string
		retireOld  bool
		wantStatus int
	}{
		{"the key is retiring", false, http.StatusOK},
		{"the key is retired", true, http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := localtest.Start(t)
			ctx := context.Background()
			creds := auth.NewCredentials()
			if _, err := srv.Store.CreateTenant(ctx, creds); err != nil {
				t.Fatal(err)
			}
			published := time.Now()
			if err := srv.Store.PublishSigningKey(ctx, testKey(t, "n").Public()); err != nil {
				t.Fatal(err)
			}
			if tc.retireOld {
				if _, err := srv.Store.RetireOldSigningKeys(ctx); err != nil {
					t.Fatal(err)
				}
			}
			req, _ := http.NewRequest("GET", srv.URL+"/v1/token", nil)
			req.Header.Set("x-api-key", creds.APIKey)
			req.Header.Set("x-client-id", creds.ClientID)
			req.Header.Set("x-client-secret", creds.ClientSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				ExpiresIn int    `json:"expiresIn"`
				Message   string `json:"message"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("= %d %+v", resp.StatusCode, body)
			}
			switch left := min(auth.TokenTTL, time.Until(published.Add(auth.RetireAfter))); {
			case resp.StatusCode == http.StatusServiceUnavailable:
				if resp.Header.Get("Retry-After") == "" || body.Message == "" {
					t.Errorf("503 without Retry-After or message: %v %+v", resp.Header, body)
				}
			case float64(body.ExpiresIn) > left.Seconds() || float64(body.ExpiresIn) < left.Seconds()-60:
				t.Errorf("expiresIn = %d, want the %v left to the old key", body.ExpiresIn, left)
			}
		})
	}
}
