// Command credentials creates a new tenant with one API client and prints its
// credentials as one JSON line: {"apiKey":"...","clientId":"...","clientSecret":"..."}.
// The secret is shown only here; the table keeps only digests.
//
// By default it targets the table of a running `make local`. With -endpoint "" and
// -table/-region it targets a real table in AWS, with the usual AWS credentials chain:
//
//	go run ./cmd/credentials -endpoint "" -table <TableName output> -region eu-west-1
//
// -revoke CLIENT_ID stops a client from getting new tokens instead. -signing-keys lists
// the token signing keys; -retire-old-keys retires every one but the current at once,
// after a key has leaked and a new one has been published (README, Security).
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
	"github.com/leaderboardapi/leaderboard/pkg/quota"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func main() {
	endpoint := flag.String("endpoint", localenv.LocalEndpoint(), `DynamoDB endpoint; "" for AWS`)
	table := flag.String("table", localenv.TableName, "table name")
	region := flag.String("region", "", "AWS region (with -endpoint \"\"); default from the AWS config")
	revoke := flag.String("revoke", "", "revoke this client id instead of creating a tenant")
	listKeys := flag.Bool("signing-keys", false, "list the token signing keys instead")
	retireKeys := flag.Bool("retire-old-keys", false, "retire at once every token signing key but the current one, instead")
	quotaTenant := flag.String("quota", "", "give this tenant its own limits for -class, instead (docs/quotas.md)")
	class := flag.String("class", "", "with -quota: read, write or token")
	limits := flag.String("limits", "", `with -quota: "rate/burst", e.g. 500/1000; "" for the defaults again`)
	flag.Parse()
	var err error
	if *quotaTenant != "" {
		err = setQuota(*endpoint, *table, *region, *quotaTenant, *class, *limits)
	} else {
		err = run(*endpoint, *table, *region, *revoke, *listKeys, *retireKeys)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "credentials:", err)
		os.Exit(1)
	}
}

func run(endpoint, table, region, revoke string, listKeys, retireKeys bool) error {
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
	if listKeys || retireKeys {
		return signingKeys(ctx, s, retireKeys)
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

// setQuota gives a tenant its own limits for one class of routes, or takes them away.
func setQuota(endpoint, table, region, tenant, class, limits string) error {
	c := quota.Class(class)
	if _, ok := quota.Defaults[c]; !ok {
		return fmt.Errorf("-class %q: want read, write or token", class)
	}
	var l *quota.Limits
	if limits != "" {
		parsed, err := quota.ParseLimits(limits)
		if err != nil {
			return err
		}
		l = &parsed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := localenv.Client(ctx, endpoint, region)
	if err != nil {
		return err
	}
	if err := store.New(db, table, time.Now).SetQuota(ctx, tenant, c, l); err != nil {
		return err
	}
	if l == nil {
		fmt.Fprintf(os.Stderr, "tenant %s: %s quota back to the defaults\n", tenant, class)
	} else {
		fmt.Fprintf(os.Stderr, "tenant %s: %s quota %s a second/burst\n", tenant, class, l)
	}
	return nil
}
