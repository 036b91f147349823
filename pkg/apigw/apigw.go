// Package apigw owns the API Gateway HTTP API (payload format 2.0) side of every
// handler: the handler type, JSON responses, request decoding with size limits, and the
// middleware that writes one log line per request and turns failures into JSON.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// Request and Response are the HTTP API payload format 2.0 event and result.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

// Handler is what every HTTP function runs, in Lambda, in the local server and in tests.
type Handler func(ctx context.Context, req Request) (Response, error)

// MaxBodyBytes is the largest request body any endpoint accepts.
const MaxBodyBytes = 64 << 10

// Problem is an error whose message is written for the API's user.
type Problem struct {
	Status  int
	Message string
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s", p.Status, p.Message) }

// Errorf builds a Problem; the message is shown to the client as is.
func Errorf(status int, format string, args ...any) *Problem {
	return &Problem{Status: status, Message: fmt.Sprintf(format, args...)}
}

// JSON answers with v encoded as the body. A nil v sends no body (for 204).
func JSON(status int, v any) Response {
	resp := Response{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
	}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			// Only our own response types reach here; they always marshal.
			panic(fmt.Sprintf("apigw: marshal %T: %v", v, err))
		}
		resp.Body = string(b)
	}
	return resp
}

// Message answers {"message": msg}.
func Message(status int, msg string) Response {
	return JSON(status, struct {
		Message string `json:"message"`
	}{msg})
}

// Header returns a request header, ignoring case: HTTP API lower-cases header names, but
// hand-written events (sam local invoke) often do not.
func Header(req Request, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// DecodeJSON reads the request body into v, strictly: the body must be one JSON value
// with no unknown fields, at most MaxBodyBytes. Every failure is a *Problem.
func DecodeJSON(req Request, v any) error {
	body := req.Body
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return Errorf(http.StatusBadRequest, "request body is not valid base64")
		}
		body = string(b)
	}
	if len(body) > MaxBodyBytes {
		return Errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d KiB", MaxBodyBytes>>10)
	}
	if strings.TrimSpace(body) == "" {
		return Errorf(http.StatusBadRequest, "request body is required")
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Errorf(http.StatusBadRequest, "request body must be a single JSON object")
	}
	return nil
}

func decodeProblem(err error) *Problem {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return Errorf(http.StatusBadRequest, "field %q must be %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
	case errors.As(err, &typeErr):
		return Errorf(http.StatusBadRequest, "request body must be a JSON object")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(http.StatusBadRequest, "request body is not valid JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return Errorf(http.StatusBadRequest, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return Errorf(http.StatusBadRequest, "request body is not valid JSON")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "bool":
		return "true or false"
	default:
		return "a number"
	}
}

// WithRequestLog wraps h so that every request writes one JSON log line (route, status,
// latency, tenant, request id, consumed DynamoDB capacity) and so that an error or a panic
// in h becomes a generic 500 for the client, with the detail only in the log.
func WithRequestLog(log *slog.Logger, h Handler) Handler {
	return func(ctx context.Context, req Request) (resp Response, err error) {
		start := time.Now()
		ctx, entry := reqlog.Start(ctx)
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "handler panic", "panic", fmt.Sprint(p), "route", req.RouteKey)
				resp, err = Message(http.StatusInternalServerError, "Internal Server Error"), nil
			}
			rcu, wcu := entry.Capacity()
			level := slog.LevelInfo
			if resp.StatusCode >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("route", req.RouteKey),
				slog.Int("status", resp.StatusCode),
				slog.Float64("latencyMs", float64(time.Since(start).Microseconds())/1000),
				slog.String("tenant", entry.Tenant()),
				slog.String("requestId", req.RequestContext.RequestID),
				slog.Float64("readUnits", rcu),
				slog.Float64("writeUnits", wcu),
			}
			if cause := entry.Cause(); cause != "" {
				attrs = append(attrs, slog.String("cause", cause))
			}
			log.LogAttrs(ctx, level, "request", attrs...)
		}()
		resp, err = h(ctx, req)
		if err != nil {
			log.ErrorContext(ctx, "handler failed", "error", err.Error(), "route", req.RouteKey)
			return Message(http.StatusInternalServerError, "Internal Server Error"), nil
		}
		return resp, nil
	}
}
