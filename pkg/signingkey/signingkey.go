// Package signingkey finds the token signing key where the token function's
// environment says it is: a Secrets Manager secret in AWS, a local seed file for make
// invoke. Only the token function imports it, so only its binary links the Secrets
// Manager client.
package signingkey

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

// FromEnv loads the key named by SIGNING_KEY_FILE if set, else by SIGNING_KEY_SECRET_ARN.
func FromEnv(ctx context.Context, cfg aws.Config) (auth.SigningKey, error) {
	if path := os.Getenv("SIGNING_KEY_FILE"); path != "" {
		return auth.KeyFromFile(path)
	}
	arn := os.Getenv("SIGNING_KEY_SECRET_ARN")
	if arn == "" {
		return auth.SigningKey{}, fmt.Errorf("neither SIGNING_KEY_FILE nor SIGNING_KEY_SECRET_ARN is set")
	}
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return auth.SigningKey{}, fmt.Errorf("read the signing secret: %w", err)
	}
	return auth.KeyFromSeed([]byte(aws.ToString(out.SecretString)))
}
