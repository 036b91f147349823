// Package testdb gives integration tests a real DynamoDB: the one at DYNAMODB_ENDPOINT
// if set, else an in-memory DynamoDB Local that the test binary starts and stops itself.
// Each test gets its own table, created from template.yaml's definition.
package testdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/pkg/dynamolocal"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
)

var endpoint string

// Main runs a package's tests with DynamoDB available. Use it from TestMain:
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	endpoint = os.Getenv("DYNAMODB_ENDPOINT")
	if endpoint == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "testdb:", err)
			return 1
		}
		defer srv.Stop()
		endpoint = srv.Endpoint
	}
	return m.Run()
}

// Endpoint is the DynamoDB endpoint the tests use.
func Endpoint() string { return endpoint }

var tables atomic.Int64

// Table creates a fresh table from template.yaml for one test and returns a client and
// the table's name. The table is deleted when the test ends.
func Table(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	if endpoint == "" {
		t.Fatal("testdb.Table needs testdb.Main in the package's TestMain")
	}
	ctx := context.Background()
	client := dynamolocal.NewClient(endpoint)
	name := fmt.Sprintf("test-%d-%d", time.Now().UnixNano(), tables.Add(1))
	tmpl, err := samtemplate.Load(TemplatePath())
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.CreateTableInput("Table", name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateTable(ctx, in); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name})
	})
	return client, name
}

// TemplatePath is the repository's template.yaml, found from this source file so tests
// in any package can use it.
func TemplatePath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "template.yaml")
}
