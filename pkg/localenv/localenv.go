// Package localenv owns the developer's local stack: where its state lives (.local/,
// never committed), the table created from template.yaml's own definition in DynamoDB
// Local, and the local token signing key.
package localenv

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/dynamolocal"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
)

const (
	// TableName is the local table's name.
	TableName = "leaderboard-local"
	// TableLogicalID is the table resource in template.yaml.
	TableLogicalID = "Table"
	// DynamoDBPort is where `make local` runs DynamoDB Local.
	DynamoDBPort = 8000
)

// StateDir is the directory of local state under the repository root.
func StateDir(root string) string { return filepath.Join(root, ".local") }

// DataDir is where `make local` keeps DynamoDB Local's database between runs.
func DataDir(root string) string { return filepath.Join(StateDir(root), "dynamodb") }

// SigningKeyFile is the local seed of the token signing key, generated on first use.
func SigningKeyFile(root string) string { return filepath.Join(StateDir(root), "signing.key") }

// SigningKey loads (or creates) the local signing key.
func SigningKey(root string) (auth.SigningKey, error) { return auth.KeyFromFile(SigningKeyFile(root)) }

// EnsureTable creates table in db from the template's table definition, unless it
// exists already, and waits until it is active.
func EnsureTable(ctx context.Context, db *dynamodb.Client, templatePath, table string) error {
	tmpl, err := samtemplate.Load(templatePath)
	if err != nil {
		return err
	}
	in, err := tmpl.CreateTableInput(TableLogicalID, table)
	if err != nil {
		return err
	}
	_, err = db.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db)
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", table, err)
	}
	return nil
}

// Client is the DynamoDB client of an operator's command: the local stack's at endpoint,
// or, with endpoint "", the AWS account's from the usual credentials chain, in region
// (or the AWS config's default).
func Client(ctx context.Context, endpoint, region string) (*dynamodb.Client, error) {
	if endpoint != "" {
		return dynamolocal.NewClient(endpoint), nil
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg), nil
}

// LocalEndpoint is the DynamoDB Local endpoint of `make local`.
func LocalEndpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", DynamoDBPort) }
