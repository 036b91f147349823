// Command local runs the whole API on this machine: Amazon's DynamoDB Local (installed
// on first use, data kept in .local/ between runs), the table from template.yaml, and
// every HttpApi route of the template on http://127.0.0.1:3000, each served by the same
// handler as its Lambda function. Ctrl-C stops everything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/dynamolocal"
	"github.com/leaderboardapi/leaderboard/pkg/localapi"
	"github.com/leaderboardapi/leaderboard/pkg/localenv"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address the API listens on")
	ddbPort := flag.Int("dynamodb-port", localenv.DynamoDBPort, "port for DynamoDB Local")
	flag.Parse()
	if err := run(*addr, *ddbPort); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(addr string, ddbPort int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dynamolocal.RequireTools(); err != nil {
		return err
	}
	// Claim the API port first, so a second `make local` fails before touching DynamoDB Local.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (is `make local` already running?): %w", addr, err)
	}
	defer ln.Close()

	fmt.Println("Starting DynamoDB Local", dynamolocal.Version, "...")
	ddb, err := dynamolocal.Start(ctx, dynamolocal.Options{Port: ddbPort, DBPath: localenv.DataDir(".")})
	if err != nil {
		return err
	}
	defer ddb.Stop()
	db := ddb.Client()
	if err := localenv.EnsureTable(ctx, db, "template.yaml", localenv.TableName); err != nil {
		return err
	}
	s := store.New(db, localenv.TableName, time.Now)
	key, err := localenv.SigningKey(".")
	if err != nil {
		return err
	}
	if err := s.PublishSigningKey(ctx, key.Public()); err != nil {
		return err
	}
	cursorKey, err := s.CursorKey(ctx)
	if err != nil {
		return err
	}
	tmpl, err := samtemplate.Load("template.yaml")
	if err != nil {
		return err
	}
	log := reqlog.NewLogger(os.Getenv, os.Stdout)
	handler, err := localapi.New(tmpl, s, key, cursor.New(cursorKey), log)
	if err != nil {
		return err
	}

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf(`
Leaderboard API:  http://%s   (DynamoDB Local: %s, table %s)
Dashboard:        http://%s/dashboard   sign up there for client credentials
Or, in another terminal:
  make -s credentials                      # a new tenant's client credentials
  curl -s http://%s/ping
Ctrl-C stops everything.
`, addr, ddb.Endpoint, localenv.TableName, addr, addr)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Println("\nStopping...")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
