package localapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/localapi"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// fuzzLog is the API's log during one input, shown when the input fails.
type fuzzLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *fuzzLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *fuzzLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

const fuzzHost = "127.0.0.1:3000"

// fuzzWorld is a tenant with everything the placeholders of FuzzLocalAPI's inputs name:
// a dashboard account and its session, a client and a spare one, a token, two teams on a
// board with scores. An input may delete or revoke any of them, so build makes a new
// tenant, with a new account (a tenant holds at most store.MaxClients clients).
type fuzzWorld struct {
	s        *store.Store
	key      auth.SigningKey
	hash     string // every account's password hash: hashing costs 20 ms
	n        int    // tenants built
	replacer *strings.Replacer
}

const fuzzPassword = "correct horse battery staple"

func newFuzzWorld(f *testing.F, s *store.Store, key auth.SigningKey) *fuzzWorld {
	w := &fuzzWorld{s: s, key: key, hash: auth.HashPassword(fuzzPassword)}
	if err := w.build(); err != nil {
		f.Fatal(err)
	}
	return w
}

func (w *fuzzWorld) build() error {
	ctx := context.Background()
	w.n++
	email := fmt.Sprintf("player%d@example.com", w.n)
	acct, err := w.s.CreateAccount(ctx, email, w.hash)
	if err != nil {
		return err
	}
	tenant := acct.TenantID
	creds, spare := auth.NewCredentials(), auth.NewCredentials()
	for _, c := range []auth.Credentials{creds, spare} {
		if _, err := w.s.CreateClient(ctx, tenant, c, "fuzz"); err != nil {
			return err
		}
	}
	// Tokens live an hour: longer than any FUZZTIME the make target is run with.
	token, _, err := auth.NewSigner(w.key, time.Now).Issue(context.Background(), auth.Claims{TenantID: tenant, ClientID: creds.ClientID})
	if err != nil {
		return err
	}
	session := auth.NewSessionID()
	if err := w.s.CreateSession(ctx, session, acct, time.Now().Add(12*time.Hour)); err != nil {
		return err
	}
	team, err := w.s.CreateTeam(ctx, tenant, "Reds")
	if err != nil {
		return err
	}
	other, err := w.s.CreateTeam(ctx, tenant, "Blues")
	if err != nil {
		return err
	}
	board, err := w.s.CreateLeaderboard(ctx, tenant, "Cup", store.Settings{SortOrder: store.SortDescending, ScoreOperator: store.OperatorBest, RankMode: store.RankCompetition}, []string{team.ID, other.ID})
	if err != nil {
		return err
	}
	if _, err := w.s.SubmitScores(ctx, tenant, board.ID, []store.Submission{{TeamID: team.ID, Score: 120}, {TeamID: other.ID, Score: 150}}, ""); err != nil {
		return err
	}
	w.replacer = strings.NewReplacer(
		"{token}", token, "{session}", session, "{team}", team.ID, "{other}", other.ID, "{board}", board.ID,
		"{apiKey}", creds.APIKey, "{clientId}", creds.ClientID, "{clientSecret}", creds.ClientSecret,
		"{spareClientId}", spare.ClientID, "{email}", email,
	)
	return nil
}

// fuzzSampleRequests turns the sample events of events/ into FuzzLocalAPI inputs:
// method, target, header lines and body, with the events' {{placeholders}} as the
// inputs' {placeholders}, sent from the local site.
func fuzzSampleRequests(f *testing.F) [][4]string {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no sample events: %v", err)
	}
	named := strings.NewReplacer("{{newEmail}}", "new@example.com", "{{leaderboardId}}", "{board}", "{{teamId}}", "{team}")
	placeholder := regexp.MustCompile(`\{\{([a-zA-Z]+)\}\}`)
	fill := func(s string) string { return placeholder.ReplaceAllString(named.Replace(s), "{$1}") }
	var out [][4]string
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var ev struct {
			RawPath        string            `json:"rawPath"`
			RawQueryString string            `json:"rawQueryString"`
			Cookies        []string          `json:"cookies"`
			Headers        map[string]string `json:"headers"`
			Body           string            `json:"body"`
			RequestContext struct {
				HTTP struct{ Method string } `json:"http"`
			} `json:"requestContext"`
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		if ev.RequestContext.HTTP.Method == "" {
			continue // a scheduled event, not a request
		}
		target := ev.RawPath
		if ev.RawQueryString != "" {
			target += "?" + ev.RawQueryString
		}
		var headers []string
		for name, value := range ev.Headers {
			switch {
			case name == "host", name == "content-length", strings.HasPrefix(name, "x-forwarded-"), name == "x-amzn-trace-id":
			case name == "origin":
				headers = append(headers, "origin: http://"+fuzzHost)
			default:
				headers = append(headers, name+": "+value)
			}
		}
		if len(ev.Cookies) > 0 {
			headers = append(headers, "cookie: "+strings.Join(ev.Cookies, "; "))
		}
		sort.Strings(headers)
		out = append(out, [4]string{
			ev.RequestContext.HTTP.Method, fill(target), fill(strings.Join(headers, "\n")), fill(ev.Body),
		})
	}
	return out
}

// FuzzLocalAPI is the end-to-end target: any request (method, target, header lines and
// body, where {token}, {session}, {team}, {other}, {board}, {apiKey}, {clientId},
// {clientSecret}, {spareClientId} and {email} stand for a live tenant's, see fuzzWorld)
// through the whole local API, every route of
// template.yaml behind the gateway, on DynamoDB Local. The answer is never a 5xx; a 4xx
// is {"message": "..."}; a JSON answer is valid JSON. An input that may have deleted
// part of the tenant's world (a DELETE, a sign-out) has the next input build it anew.
func FuzzLocalAPI(f *testing.F) {
	// The fuzzing workers use this process's DynamoDB Local rather than each starting
	// its own in TestMain, which would take the first seconds of -fuzztime.
	f.Setenv("DYNAMODB_ENDPOINT", testdb.Endpoint())
	client, table := testdb.Table(f)
	s := store.New(client, table, time.Now)
	key, err := auth.KeyFromSeed([]byte(strings.Repeat("z", 64)))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if err := s.PublishSigningKey(ctx, key.Public()); err != nil {
		f.Fatal(err)
	}
	cursorKey, err := s.CursorKey(ctx)
	if err != nil {
		f.Fatal(err)
	}
	tmpl, err := samtemplate.Load(testdb.TemplatePath())
	if err != nil {
		f.Fatal(err)
	}
	logs := &fuzzLog{}
	api, err := localapi.New(tmpl, s, key, cursor.New(cursorKey), slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		f.Fatal(err)
	}
	world := newFuzzWorld(f, s, key)
	dirty := false

	for _, seed := range fuzzSampleRequests(f) {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	bearer := "authorization: Bearer {token}"
	for _, seed := range [][4]string{
		{"GET", "/ping", "", ""},
		{"GET", "/v1/teams?limit=1", bearer, ""},
		{"GET", "/v1/teams?limit=1&cursor=AQ", bearer, ""},
		{"GET", "/v1/leaderboard/{board}/rankings?limit=1", bearer, ""},
		{"GET", "/v1/leaderboard/{board}/rankings/{team}?around=50", bearer, ""},
		{"POST", "/v1/leaderboard/{board}/scores", bearer + "\nidempotency-key: round-2\ncontent-type: application/json", `{"scores":[{"teamId":"{team}","score":150,"operator":"increment"}]}`},
		{"POST", "/v1/leaderboard/{board}/teams", bearer + "\ncontent-type: application/json", `{"teams":["{team}","{team}"]}`},
		{"PUT", "/v1/team/{team}", bearer + "\ncontent-type: application/json", `{"team":{"teamName":"B Team"}}`},
		{"POST", "/v1/team", bearer, `{"teamName":"no content type, so base64"}`},
		{"GET", "/account/me", "cookie: lb_session={session}", ""},
		{"POST", "/account/clients", "cookie: lb_session={session}\norigin: http://" + fuzzHost, `{"label":"x"}`},
		{"GET", "/dashboard/nope.js", "", ""},
		{"GET", "/docs/x", "", ""},
		{"GET", "/nope", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}

	f.Fuzz(func(t *testing.T, method, target, headers, body string) {
		if dirty {
			if err := world.build(); err != nil {
				t.Fatalf("rebuild the world: %v", err)
			}
			dirty = false
		}
		fill := world.replacer.Replace
		method, target, headers, body = fill(method), fill(target), fill(headers), fill(body)
		var raw strings.Builder
		fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, fuzzHost)
		for line := range strings.SplitSeq(headers, "\n") {
			if line != "" {
				raw.WriteString(line + "\r\n")
			}
		}
		fmt.Fprintf(&raw, "Content-Length: %d\r\n\r\n%s", len(body), body)
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw.String())))
		if err != nil {
			return // net/http's server would have refused it before the gateway
		}
		r.RemoteAddr = "127.0.0.1:50000"
		dirty = r.Method == http.MethodDelete || r.URL.Path == "/account/signout"
		logs.take()
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		resp := w.Result()
		got := w.Body.String()
		defer func() {
			if t.Failed() {
				t.Logf("request:\n%s\nthe API's log:\n%s", raw.String(), logs.take())
			}
		}()

		ct := resp.Header.Get("Content-Type")
		switch status := resp.StatusCode; {
		case status >= 500 || status < 200:
			t.Fatalf("status %d: %s", status, got)
		case status >= 400:
			var msg map[string]json.RawMessage
			var text string
			if err := json.Unmarshal([]byte(got), &msg); err != nil || len(msg) != 1 || json.Unmarshal(msg["message"], &text) != nil || strings.TrimSpace(text) == "" {
				t.Fatalf("status %d with body %q, want {\"message\": \"...\"}", status, got)
			}
		case status == http.StatusNoContent || status == http.StatusNotModified:
			if got != "" {
				t.Fatalf("status %d with body %q", status, got)
			}
		case status >= 300:
			t.Fatalf("status %d: %s", status, got)
		case strings.HasPrefix(ct, "application/json") && !json.Valid([]byte(got)):
			t.Fatalf("status %d, %s, body %q", status, ct, got)
		}
	})
}
