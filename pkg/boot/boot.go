// Package boot turns a Lambda function's environment into its dependencies, once, at
// cold start. A missing setting stops the function's init with a message that names it.
package boot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// Env is what every function reads from its environment.
type Env struct {
	Log   *slog.Logger
	AWS   aws.Config
	Store *store.Store
}

// Load reads TABLE_NAME (required) and DYNAMODB_ENDPOINT (optional: DynamoDB Local for
// `make invoke` and `sam local`), and builds the logger, AWS config and store.
func Load(ctx context.Context) Env {
	log := reqlog.NewLogger(os.Getenv, os.Stdout)
	table := Require("TABLE_NAME")
	cfg := lambdaConfig()
	endpoint := os.Getenv("DYNAMODB_ENDPOINT")
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = &endpoint
		}
	})
	return Env{Log: log, AWS: cfg, Store: store.New(db, table, time.Now)}
}

// lambdaConfig is the AWS configuration Lambda gives a function in its environment: the
// region, and the execution role's credentials. Building it directly rather than with
// config.LoadDefaultConfig (whose chain finds the same environment variables first)
// keeps the shared-config, SSO, STS and IMDS code out of every binary: a smaller
// bootstrap and a faster cold start.
func lambdaConfig() aws.Config {
	return aws.Config{
		Region: Require("AWS_REGION"),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			Require("AWS_ACCESS_KEY_ID"), Require("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))),
	}
}

// Require returns an environment variable or stops the init with a clear message.
func Require(name string) string {
	v := os.Getenv(name)
	if v == "" {
		panic(fmt.Sprintf("environment variable %s is not set; the function cannot start without it", name))
	}
	return v
}

// Quotas limits tenants' requests with the table's token buckets, at the limits the
// environment gives (QUOTA_READ, QUOTA_WRITE, QUOTA_TOKEN as "rate/burst"; the template
// sets them) or quota.Defaults. A malformed one stops the function's init.
func (e Env) Quotas() *quota.Limiter {
	limits := map[quota.Class]quota.Limits{}
	for class, def := range quota.Defaults {
		limits[class] = def
		if v := os.Getenv("QUOTA_" + strings.ToUpper(string(class))); v != "" {
			l, err := quota.ParseLimits(v)
			if err != nil {
				panic(fmt.Sprintf("environment variable QUOTA_%s: %v", strings.ToUpper(string(class)), err))
			}
			limits[class] = l
		}
	}
	return quota.NewLimiter(e.Store, limits, time.Now)
}

// Verifier checks tokens against the public keys published in the table.
func (e Env) Verifier() *auth.Verifier { return auth.NewVerifier(e.Store, time.Now) }

// StartHTTP runs an HTTP API handler as the Lambda function, with the request log.
func (e Env) StartHTTP(h apigw.Handler) {
	lambda.Start(apigw.WithRequestLog(e.Log, h))
}

// Cursors seals and opens list cursors with the table's cursor key, read (or, on the
// very first cold start, created) once here.
func (e Env) Cursors(ctx context.Context) *cursor.Sealer {
	key, err := e.Store.CursorKey(ctx)
	if err != nil {
		panic(fmt.Sprintf("read the cursor key: %v", err))
	}
	return cursor.New(key)
}
