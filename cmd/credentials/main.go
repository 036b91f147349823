// Command credentials creates a new tenant with one API client and prints its
// credentials as one JSON line: {"apiKey":"...","clientId":"...","clientSecret":"..."}.
// The secret is shown only here; the table keeps only digests.
//
// By default it targets the table of a running `make local`. With -endpoint "" and
// -table/-region it targets a real table in AWS, with the usual AWS credentials chain:
//
//	go run ./cmd/credentials -endpoint "" -table <TableName output> -region eu-west-1
//
// -revoke CLIENT_ID stops a client from getting new tokens instead.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/localenv"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func main() {
	endpoint := flag.String("endpoint", localenv.LocalEndpoint(), `DynamoDB endpoint; "" for AWS`)
	table := flag.String("table", localenv.TableName, "table name")
	region := flag.String("region", "", "AWS region (with -endpoint \"\"); default from the AWS config")
	revoke := flag.String("revoke", "", "revoke this client id instead of creating a tenant")
	flag.Parse()
	if err := run(*endpoint, *table, *region, *revoke); err != nil {
		fmt.Fprintln(os.Stderr, "credentials:", err)
		os.Exit(1)
	}
}

func run(endpoint, table, region, revoke string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := localenv.Client(ctx, endpoint, region)
	if err != nil {
		return err
	}
	s := store.New(db, table, time.Now)
	if err := s.Ping(ctx); err != nil {
		if endpoint != "" {
			return fmt.Errorf("no table %s at %s: is `make local` running? (%w)", table, endpoint, err)
		}
		return err
	}
	if revoke != "" {
		if err := s.RevokeClient(ctx, revoke); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "revoked", revoke)
		return nil
	}
	creds := auth.NewCredentials()
	if _, err := s.CreateTenant(ctx, creds); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(creds)
}
