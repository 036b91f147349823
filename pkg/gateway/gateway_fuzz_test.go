package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/gateway"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
)

var fuzzRequestID = regexp.MustCompile(`^[A-Za-z0-9+/]{15}=$`)

// fuzzEcho answers with the event it received, as JSON, as a Lambda would receive it.
func fuzzEcho(_ context.Context, req apigw.Request) (apigw.Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.Response{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
}

// fuzzFailingBody is a request body that breaks off, as a client that hangs up does.
type fuzzFailingBody struct {
	io.Reader
	err error
}

func (b fuzzFailingBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err == io.EOF {
		err = b.err
	}
	return n, err
}

func (fuzzFailingBody) Close() error { return nil }

// FuzzServeHTTP feeds the gateway any HTTP/1.1 request (parsed by net/http as its server
// parses one) from any remote address, routed over template.yaml's routes, with or
// without a $default route, to a handler that echoes the event it got. The gateway
// answers as HTTP API does: 404, 413 or 400 with exactly HTTP API's JSON bodies, or the
// handler's answer; and the event it built is a payload 2.0 event that survives JSON (as
// Lambda receives it) and agrees with the request: method, raw path and query, the body
// byte for byte (base64 unless text), lower-case headers without Cookie, cookies split,
// the source address, and path parameters from a route whose literals match the path.
func FuzzServeHTTP(f *testing.F) {
	tmpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	var routes []gateway.Route
	for _, r := range tmpl.HTTPRoutes() {
		routes = append(routes, gateway.Route{Method: r.Method, Path: r.Path, Handler: fuzzEcho})
	}
	plain, err := gateway.New(routes, gateway.Options{})
	if err != nil {
		f.Fatal(err)
	}
	withDefault, err := gateway.New(append(slices.Clone(routes), gateway.Route{Path: "$default", Handler: fuzzEcho}), gateway.Options{})
	if err != nil {
		f.Fatal(err)
	}

	for _, raw := range []string{
		"POST /v1/team/a%20b?x=1&y=%2F&x=2&flag HTTP/1.1\r\nHost: abc123.execute-api.eu-west-1.amazonaws.com\r\n" +
			"Content-Type: application/json\r\nUser-Agent: curl/8.5.0\r\nX-Multi: one\r\nX-Multi: two\r\n" +
			"Cookie: session=abc; theme=dark\r\nCookie: lang=en\r\nContent-Length: 15\r\n\r\n{\"name\":\"Blue\"}",
		"GET /ping HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\r\n",
		"GET /v1/team/a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /v1/team/caf%C3%A9?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /v1/leaderboard/01J00000000000000000000001/rankings/01J00000000000000000000000?around=2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n",
		"GET /dashboard/assets/app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"abc\"\r\n\r\n",
		"GET /docs/a/b/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /ping HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /ping/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /PING HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET //ping HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://other.example/ping?q=a%20b&r=x+y&s=%E2%9C%93&a=%zz&&b= HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
		"DELETE /v1/team/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /v1/leaderboard/b/scores HTTP/1.1\r\nHost: x\r\nIdempotency-Key: round-2\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST /v1/team HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n\x00\xff\x10a",
		"POST /v1/team HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
		"POST /v1/team HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n\xff\xfe\xfd",
		"POST /v1/team HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"a\"",
		"POST /v1/team HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n",
		"POST /account/signin HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nX-Forwarded-For: 203.0.113.9\r\nCookie: ;; lb_session=s ;\r\n\r\n",
		"GET /v1/teams?limit=1&cursor=AQ HTTP/1.0\r\n\r\n",
	} {
		f.Add([]byte(raw), "192.0.2.1:1234", false)
	}
	f.Add([]byte("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"), "[2001:db8::1]:5555", true)
	f.Add([]byte("PATCH /ping HTTP/1.1\r\nHost: x\r\n\r\n"), "", true)
	f.Add([]byte("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"), "garbage", false)

	f.Fuzz(func(t *testing.T, raw []byte, remoteAddr string, useDefault bool) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // net/http's server would have refused it before any handler
		}
		body, readErr := io.ReadAll(r.Body)
		if readErr != nil {
			r.Body = fuzzFailingBody{bytes.NewReader(body), readErr}
		} else {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		r.RemoteAddr = remoteAddr
		h := plain
		if useDefault {
			h = withDefault
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		resp := w.Result()

		if id := resp.Header.Get("Apigw-Requestid"); !fuzzRequestID.MatchString(id) {
			t.Fatalf("apigw-requestid %q", id)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		got := w.Body.String()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusNotFound:
			if got != `{"message":"Not Found"}` || useDefault {
				t.Fatalf("404 %s (with $default: %v)", got, useDefault)
			}
			return
		case http.StatusRequestEntityTooLarge:
			if got != `{"message":"Request Entity Too Large"}` || r.ContentLength <= gateway.MaxBodyBytes && len(body) <= gateway.MaxBodyBytes {
				t.Fatalf("413 %s for a %d-byte body", got, len(body))
			}
			return
		case http.StatusBadRequest:
			if got != `{"message":"Bad Request"}` || readErr == nil {
				t.Fatalf("400 %s for a body that reads (%v)", got, readErr)
			}
			return
		default:
			t.Fatalf("status %d %s", resp.StatusCode, got)
		}
		if readErr != nil {
			t.Fatalf("the handler ran on a body that broke off: %v", readErr)
		}

		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal([]byte(got), &ev); err != nil {
			t.Fatalf("the event does not survive JSON: %v", err)
		}
		fuzzCheckEvent(t, r, body, remoteAddr, resp.Header.Get("Apigw-Requestid"), ev)
	})
}

func fuzzCheckEvent(t *testing.T, r *http.Request, body []byte, remoteAddr, requestID string, ev events.APIGatewayV2HTTPRequest) {
	t.Helper()
	if ev.Version != "2.0" || ev.RouteKey == "" || ev.RouteKey != ev.RequestContext.RouteKey || ev.RequestContext.RequestID != requestID {
		t.Fatalf("version %q, routeKey %q / %q, requestId %q (header %q)", ev.Version, ev.RouteKey, ev.RequestContext.RouteKey, ev.RequestContext.RequestID, requestID)
	}
	// net/http lets any byte through in the query; only its UTF-8 survives JSON.
	if ev.RequestContext.HTTP.Method != r.Method || ev.RawPath != r.URL.EscapedPath() ||
		utf8.ValidString(r.URL.RawQuery) && ev.RawQueryString != r.URL.RawQuery {
		t.Fatalf("method %q, rawPath %q, rawQueryString %q for %s %s", ev.RequestContext.HTTP.Method, ev.RawPath, ev.RawQueryString, r.Method, r.URL)
	}
	for k := range ev.Headers {
		if k == "" || k != strings.ToLower(k) || k == "cookie" {
			t.Fatalf("header name %q", k)
		}
	}
	for _, c := range ev.Cookies {
		if c == "" || c != strings.TrimSpace(c) || strings.Contains(c, ";") {
			t.Fatalf("cookie %q", c)
		}
	}
	// net/http sets RemoteAddr from the TCP peer; only its UTF-8 survives JSON.
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil && utf8.ValidString(host) && ev.RequestContext.HTTP.SourceIP != host {
		t.Fatalf("sourceIp %q from remote address %q", ev.RequestContext.HTTP.SourceIP, remoteAddr)
	}

	switch {
	case len(body) == 0:
		if ev.Body != "" || ev.IsBase64Encoded {
			t.Fatalf("body %q (base64 %v) for none", ev.Body, ev.IsBase64Encoded)
		}
	case ev.IsBase64Encoded:
		if got, err := base64.StdEncoding.DecodeString(ev.Body); err != nil || !bytes.Equal(got, body) {
			t.Fatalf("base64 body %q for %q", ev.Body, body)
		}
	case utf8.Valid(body):
		// Invalid UTF-8 in a text body cannot survive JSON whoever builds the event.
		if ev.Body != string(body) {
			t.Fatalf("body %q for %q", ev.Body, body)
		}
	}

	if ev.RouteKey == "$default" {
		if ev.PathParameters != nil {
			t.Fatalf("$default with path parameters %v", ev.PathParameters)
		}
		return
	}
	method, path, _ := strings.Cut(ev.RouteKey, " ")
	if method != r.Method && method != "ANY" {
		t.Fatalf("route %s for method %s", ev.RouteKey, r.Method)
	}
	routeParts := strings.Split(path[1:], "/")
	rawParts := strings.Split(strings.TrimPrefix(ev.RawPath, "/"), "/")
	params := 0
	for i, seg := range routeParts {
		switch {
		case strings.HasSuffix(seg, "+}"):
			params++
			if v := ev.PathParameters[strings.Trim(seg, "{+}")]; v == "" || i >= len(rawParts) {
				t.Fatalf("route %s, path %s: greedy %s = %q", ev.RouteKey, ev.RawPath, seg, v)
			}
			rawParts = rawParts[:len(routeParts)] // the rest is the greedy parameter's
		case strings.HasPrefix(seg, "{"):
			params++
			if v := ev.PathParameters[strings.Trim(seg, "{}")]; v == "" || i >= len(rawParts) {
				t.Fatalf("route %s, path %s: %s = %q", ev.RouteKey, ev.RawPath, seg, v)
			}
		default:
			if i >= len(rawParts) || fuzzUnescape(rawParts[i]) != seg {
				t.Fatalf("route %s for path %s", ev.RouteKey, ev.RawPath)
			}
		}
	}
	if len(rawParts) != len(routeParts) || len(ev.PathParameters) != params {
		t.Fatalf("route %s for path %s, parameters %v", ev.RouteKey, ev.RawPath, ev.PathParameters)
	}
}

func fuzzUnescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
