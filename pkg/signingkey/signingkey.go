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

// FromEnv returns the loader of the key named by SIGNING_KEY_FILE if set, else by
// SIGNING_KEY_SECRET_ARN. The token function loads its key with it at cold start, and
// its signer loads it again when that key retires (auth.RotatingSigner), so that a
// warm instance finds a new secret too.
func FromEnv(cfg aws.Config) (auth.KeyLoader, error) {
	if path := os.Getenv("SIGNING_KEY_FILE"); path != "" {
		return func(context.Context) (auth.SigningKey, error) { return auth.KeyFromFile(path) }, nil
	}
	arn := os.Getenv("SIGNING_KEY_SECRET_ARN")
	if arn == "" {
		return nil, fmt.Errorf("neither SIGNING_KEY_FILE nor SIGNING_KEY_SECRET_ARN is set")
	}
	secrets := secretsmanager.NewFromConfig(cfg)
	return func(ctx context.Context) (auth.SigningKey, error) {
		out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
		if err != nil {
			return auth.SigningKey{}, fmt.Errorf("read the signing secret: %w", err)
		}
		return auth.KeyFromSeed([]byte(aws.ToString(out.SecretString)))
	}, nil
}
