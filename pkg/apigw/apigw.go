// Package apigw owns the API Gateway HTTP API (payload 2.0) side of every handler:
// the handler type, JSON responses and request decoding.
package apigw

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// Request and Response are the HTTP API payload format 2.0 event and result.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

// Handler is what every HTTP function runs, in Lambda, in the local server and in tests.
type Handler func(ctx context.Context, req Request) (Response, error)
