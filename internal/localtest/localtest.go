// Package localtest starts the whole API for a test, as make local serves it (every
// route of template.yaml, behind the local stand-in for API Gateway, on DynamoDB
// Local), on a loopback port and a table of its own, with every exchange held to
// openapi.yaml. A test package that uses it runs testdb.Main from its TestMain.
package localtest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leaderboardapi/leaderboard/internal/contract"
	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/localapi"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// Server is the running API.
type Server struct {
	URL      string // http://127.0.0.1:<port>
	Store    *store.Store
	Table    string
	Contract *contract.Checker
}

// syncBuffer is the API's log: handlers write it from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start serves the API until the test ends; if the test failed, it logs the API's own
// log (one JSON line per request) then.
func Start(t testing.TB) *Server {
	t.Helper()
	client, table := testdb.Table(t)
	s := store.New(client, table, time.Now)
	key, err := auth.KeyFromSeed([]byte(strings.Repeat("w", 64)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PublishSigningKey(context.Background(), key.Public()); err != nil {
		t.Fatal(err)
	}
	cursorKey, err := s.CursorKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(testdb.TemplatePath())
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	h, err := localapi.New(tmpl, s, key, cursor.New(cursorKey), slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	check := contract.New(t)
	srv := httptest.NewServer(check.Wrap(h))
	t.Cleanup(func() {
		srv.Close()
		if t.Failed() {
			t.Logf("the API's log:\n%s", logs)
		}
	})
	return &Server{URL: srv.URL, Store: s, Table: table, Contract: check}
}
