// Command baseline is the smallest Go Lambda function there is: the yardstick that
// cmd/bench-lambda holds every function's init duration against.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context) (string, error) { return "ok", nil })
}
