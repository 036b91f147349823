// Command invoke runs one function of template.yaml with one event, the way
// `sam local invoke` does but without Docker: it builds the function's real bootstrap for
// this machine with the Makefile target SAM runs, runs it under Amazon's Lambda Runtime
// Interface Emulator with the function's environment from the template, against the
// DynamoDB Local of a running `make local` (else one of its own, in memory), posts the
// event with its placeholders filled (see events/README.md), and stops everything.
//
// The function's output, the emulator's START, END and REPORT lines go to stderr; the
// function's response to stdout.
//
//	go run ./cmd/invoke -function PingFunction -event events/ping.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/pkg/dynamolocal"
	"github.com/leaderboardapi/leaderboard/pkg/emulator"
	"github.com/leaderboardapi/leaderboard/pkg/localenv"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func main() {
	function := flag.String("function", "", "logical ID of the function in template.yaml, e.g. PingFunction")
	event := flag.String("event", "", "the event file, e.g. events/ping.json")
	flag.Parse()
	if *function == "" || *event == "" {
		fmt.Fprintln(os.Stderr, "usage: invoke -function <LogicalId> -event <file> (e.g. -function PingFunction -event events/ping.json)")
		os.Exit(2)
	}
	if err := run(*function, *event); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(logicalID, eventFile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmpl, err := samtemplate.Load("template.yaml")
	if err != nil {
		return err
	}
	fns := tmpl.Functions()
	i := slices.IndexFunc(fns, func(fn samtemplate.Function) bool { return fn.LogicalID == logicalID })
	if i < 0 {
		var ids []string
		for _, fn := range fns {
			ids = append(ids, fn.LogicalID)
		}
		return fmt.Errorf("template.yaml has no function %s; it has %v", logicalID, ids)
	}
	raw, err := os.ReadFile(eventFile)
	if err != nil {
		return err
	}

	db, endpoint, stopDB, err := dynamoDB(ctx)
	if err != nil {
		return err
	}
	defer stopDB()
	key, err := localenv.SigningKey(".")
	if err != nil {
		return err
	}
	event, err := emulator.NewFiller(store.New(db, localenv.TableName, time.Now), key).Fill(ctx, raw)
	if err != nil {
		return err
	}
	keyFile, err := filepath.Abs(localenv.SigningKeyFile("."))
	if err != nil {
		return err
	}
	env, err := emulator.Environment(fns[i], emulator.Local{
		Table: localenv.TableName, DynamoDBEndpoint: endpoint, SigningKeyFile: keyFile,
		Parameters: tmpl.ParameterDefaults(),
	})
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "invoke-"+logicalID+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bootstrap, err := emulator.Build(ctx, logicalID, runtime.GOARCH, dir)
	if err != nil {
		return err
	}
	f, err := emulator.Start(ctx, emulator.Options{Bootstrap: bootstrap, Env: env, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer f.Stop()
	resp, err := f.Invoke(ctx, event)
	var fnErr *emulator.FunctionError
	switch {
	case errors.Is(err, emulator.ErrRuntimeFailed):
		return fmt.Errorf("%w: its output above says why", emulator.ErrRuntimeFailed)
	case err != nil && !errors.As(err, &fnErr):
		return err
	}
	// The REPORT line is on stderr by now; waiting for it keeps it ahead of the response.
	if _, err := f.Report(ctx); err != nil {
		return err
	}
	fmt.Println(string(resp))
	return nil
}

// dynamoDB returns the DynamoDB Local of a running `make local` when it answers with its
// table, else starts one of its own in memory with the table; stop ends what it started.
func dynamoDB(ctx context.Context) (db *dynamodb.Client, endpoint string, stop func(), err error) {
	endpoint = fmt.Sprintf("http://127.0.0.1:%d", localenv.DynamoDBPort)
	db = dynamolocal.NewClient(endpoint)
	probe, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = db.DescribeTable(probe, &dynamodb.DescribeTableInput{TableName: aws.String(localenv.TableName)},
		func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} })
	if err == nil {
		fmt.Fprintf(os.Stderr, "DynamoDB Local of make local: %s, table %s\n", endpoint, localenv.TableName)
		return db, endpoint, func() {}, nil
	}
	fmt.Fprintf(os.Stderr, "Starting DynamoDB Local %s in memory (make local is not running)...\n", dynamolocal.Version)
	srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		return nil, "", nil, err
	}
	if err := localenv.EnsureTable(ctx, srv.Client(), "template.yaml", localenv.TableName); err != nil {
		_ = srv.Stop()
		return nil, "", nil, err
	}
	return srv.Client(), srv.Endpoint, func() { _ = srv.Stop() }, nil
}
