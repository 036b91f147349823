package localapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/localapi"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
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

func testKey(t *testing.T) auth.SigningKey {
	t.Helper()
	key, err := auth.KeyFromSeed([]byte(strings.Repeat("w", 64)))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// The local server serves every HttpApi route of the template and nothing else.
func TestRoutesMatchTemplate(t *testing.T) {
	tmpl := loadTemplate(t)
	handlers := localapi.Handlers(nil, testKey(t), nil, discard)
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

func newServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	client, table := testdb.Table(t)
	s := store.New(client, table, time.Now)
	key := testKey(t)
	if err := s.PublishSigningKey(context.Background(), key.Public()); err != nil {
		t.Fatal(err)
	}
	cursorKey, err := s.CursorKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h, err := localapi.New(loadTemplate(t), s, key, cursor.New(cursorKey), discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, table
}

func TestUnmatchedRoutesAnswerLikeHTTPAPI(t *testing.T) {
	srv, _ := newServer(t)
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
// local server over real HTTP. Only two things are swapped for the test's own: the
// server's URL, and `make -s credentials` for the same program pointed at the test table.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walkthrough needs %s on PATH", tool)
		}
	}
	srv, table := newServer(t)
	root := filepath.Dir(testdb.TemplatePath())
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)## Walkthrough.*?```sh\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("no walkthrough block in README.md")
	}
	script := string(block[1])
	for old, replacement := range map[string]string{
		"http://127.0.0.1:3000": srv.URL,
		"make -s credentials":   "go run ./cmd/credentials -endpoint " + testdb.Endpoint() + " -table " + table,
	} {
		if !strings.Contains(script, old) {
			t.Fatalf("the walkthrough no longer uses %q", old)
		}
		script = strings.ReplaceAll(script, old, replacement)
	}
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
