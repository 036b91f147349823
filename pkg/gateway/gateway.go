// Package gateway is a local stand-in for API Gateway HTTP API. It turns a real HTTP request
// into the payload format 2.0 event Lambda receives, runs the same apigw.Handler the Lambda
// runs, and turns the result back into an HTTP response, answering unmatched routes, handler
// failures and oversized bodies with the same status and JSON body HTTP API does. The local
// dev server and the end-to-end tests serve the API through it.
package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

// Route sends requests for one route key to a handler.
type Route struct {
	// Method is an HTTP method, or ANY for every method.
	Method string
	// Path is as in the SAM template: "/v1/team/{id}", with a greedy "{proxy+}" allowed as
	// the last segment; or "$default" for the catch-all route, whatever the method.
	Path    string
	Handler apigw.Handler
}

// Options are the parts of the event that come from the deployment rather than the request.
type Options struct {
	APIID     string // requestContext.apiId; default "local"
	AccountID string // requestContext.accountId; default "123456789012"
	// Stage is requestContext.stage; default "$default". Routes are always served at the
	// root, as on the $default stage: a named stage's path prefix is not simulated.
	Stage  string
	Now    func() time.Time // request time; default time.Now
	Logger *slog.Logger     // handler errors and panics; default discards
}

func (o Options) withDefaults() Options {
	if o.APIID == "" {
		o.APIID = "local"
	}
	if o.AccountID == "" {
		o.AccountID = "123456789012"
	}
	if o.Stage == "" {
		o.Stage = "$default"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// MaxBodyBytes is HTTP API's payload quota (10 MB); a larger request body gets 413.
const MaxBodyBytes = 10 << 20

// The bodies HTTP API itself answers with.
const (
	bodyNotFound      = `{"message":"Not Found"}`
	bodyTooLarge      = `{"message":"Request Entity Too Large"}`
	bodyInternalError = `{"message":"Internal Server Error"}`
	bodyBadRequest    = `{"message":"Bad Request"}`
)

type gateway struct {
	router router
	opts   Options
}

// New returns an http.Handler that serves routes the way HTTP API does. It fails on a
// route without a handler, a malformed path and two routes with the same route key.
func New(routes []Route, opts Options) (http.Handler, error) {
	r, err := newRouter(routes)
	if err != nil {
		return nil, err
	}
	return &gateway{router: r, opts: opts.withDefaults()}, nil
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	// HTTP API names its request ID on every response, its own errors included.
	w.Header().Set("Apigw-Requestid", requestID)

	body, err := readBody(r)
	if errors.Is(err, errTooLarge) {
		writeJSON(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
		return
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, bodyBadRequest)
		return
	}

	route, params, ok := g.router.match(r.Method, r.URL.EscapedPath())
	if !ok {
		writeJSON(w, http.StatusNotFound, bodyNotFound)
		return
	}
	req := newRequest(r, route.key, params, body, g.opts, requestID)

	ctx := lambdacontext.NewContext(r.Context(), &lambdacontext.LambdaContext{AwsRequestID: newUUID()})
	resp, err := invoke(ctx, route.Handler, req)
	if err != nil {
		g.opts.Logger.ErrorContext(ctx, "handler failed",
			"routeKey", route.key, "requestId", requestID, "err", err)
		writeJSON(w, http.StatusInternalServerError, bodyInternalError)
		return
	}
	if err := writeResponse(w, resp); err != nil {
		g.opts.Logger.ErrorContext(ctx, "malformed handler response",
			"routeKey", route.key, "requestId", requestID, "err", err)
		writeJSON(w, http.StatusInternalServerError, bodyInternalError)
	}
}

// invoke runs h, turning a panic into an error: in Lambda a panic fails the invocation
// and HTTP API answers 500, it does not take the API down.
func invoke(ctx context.Context, h apigw.Handler, req apigw.Request) (resp apigw.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panic: %v", p)
		}
	}()
	return h(ctx, req)
}

var errTooLarge = errors.New("request body too large")

func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, errTooLarge
	}
	return body, nil
}

// writeResponse writes a payload 2.0 response. multiValueHeaders is not part of format 2.0
// and HTTP API ignores it, so this does too.
func writeResponse(w http.ResponseWriter, resp apigw.Response) error {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("decode base64 body: %w", err)
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	if status < 100 || status > 999 {
		return fmt.Errorf("status code %d", status)
	}

	h := w.Header()
	for k, v := range resp.Headers {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Transfer-Encoding", "Connection":
			// Framing is the server's business; a wrong value would break the response.
			continue
		}
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if _, ok := h["Content-Type"]; !ok {
		// Without this net/http would sniff the body and invent a Content-Type, which
		// HTTP API does not.
		h["Content-Type"] = nil
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client has gone; nothing to tell it
	return nil
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
