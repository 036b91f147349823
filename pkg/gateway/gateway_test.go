package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/gateway"
)

var (
	requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9+/]{15}=$`)
	traceIDPattern   = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`)
)

// fixedNow is 2020-03-12 19:03:58.39 UTC in a zone that is not UTC, to check the event
// time is given in UTC as HTTP API gives it.
var fixedNow = time.Date(2020, 3, 12, 20, 3, 58, 390_000_000, time.FixedZone("CET", 3600))

func TestNewRequestGolden(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost,
		"http://abc123.execute-api.eu-west-1.amazonaws.com/v1/team/a%20b?x=1&y=%2F&x=2&flag", strings.NewReader(`{"name":"Blue"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "curl/8.5.0")
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two")
	r.Header.Add("Cookie", "session=abc; theme=dark")
	r.Header.Add("Cookie", "lang=en")

	route := gateway.Route{Method: "post", Path: "/v1/team/{id}"}
	got := gateway.NewRequest(r, route, map[string]string{"id": "a b"}, []byte(`{"name":"Blue"}`),
		gateway.Options{APIID: "abc123", Now: func() time.Time { return fixedNow }})

	if !requestIDPattern.MatchString(got.RequestContext.RequestID) {
		t.Errorf("requestId %q, want 16 characters of base64 like JBTx1gXYoAMEMjQ=", got.RequestContext.RequestID)
	}
	if !traceIDPattern.MatchString(got.Headers["x-amzn-trace-id"]) {
		t.Errorf("x-amzn-trace-id %q, want Root=1-<8 hex>-<24 hex>", got.Headers["x-amzn-trace-id"])
	}
	got.RequestContext.RequestID = "ID"
	got.Headers["x-amzn-trace-id"] = "TRACE"

	want := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "POST /v1/team/{id}",
		RawPath:        "/v1/team/a%20b",
		RawQueryString: "x=1&y=%2F&x=2&flag",
		Cookies:        []string{"session=abc", "theme=dark", "lang=en"},
		Headers: map[string]string{
			"content-type":      "application/json",
			"user-agent":        "curl/8.5.0",
			"x-multi":           "one,two",
			"host":              "abc123.execute-api.eu-west-1.amazonaws.com",
			"x-forwarded-for":   "192.0.2.1",
			"x-forwarded-proto": "http",
			"x-forwarded-port":  "80",
			"x-amzn-trace-id":   "TRACE",
		},
		QueryStringParameters: map[string]string{"x": "1,2", "y": "/", "flag": ""},
		PathParameters:        map[string]string{"id": "a b"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     "POST /v1/team/{id}",
			AccountID:    "123456789012",
			Stage:        "$default",
			RequestID:    "ID",
			APIID:        "abc123",
			DomainName:   "abc123.execute-api.eu-west-1.amazonaws.com",
			DomainPrefix: "abc123",
			Time:         "12/Mar/2020:19:03:58 +0000",
			TimeEpoch:    1584039838390,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    "POST",
				Path:      "/v1/team/a b",
				Protocol:  "HTTP/1.1",
				SourceIP:  "192.0.2.1",
				UserAgent: "curl/8.5.0",
			},
		},
		Body: `{"name":"Blue"}`,
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("got\n%s\nwant\n%s", g, w)
	}
}

func TestNewRequestMinimal(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/ping", nil)
	got := gateway.NewRequest(r, gateway.Route{Method: "GET", Path: "/ping"}, nil, nil, gateway.Options{})
	// Absent parts are nil so that they are left out of the JSON, as HTTP API leaves them out.
	if got.Cookies != nil || got.QueryStringParameters != nil || got.PathParameters != nil ||
		got.StageVariables != nil || got.Body != "" || got.IsBase64Encoded {
		t.Errorf("want no cookies, query, path parameters, stage variables or body; got %+v", got)
	}
	data, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"cookies"`, `"queryStringParameters"`, `"pathParameters"`, `"stageVariables"`, `"body"`} {
		if bytes.Contains(data, []byte(field)) {
			t.Errorf("JSON has %s: %s", field, data)
		}
	}
	if got.RequestContext.APIID != "local" || got.RequestContext.Stage != "$default" {
		t.Errorf("apiId %q, stage %q; want defaults local and $default", got.RequestContext.APIID, got.RequestContext.Stage)
	}
	if since := time.Since(time.UnixMilli(got.RequestContext.TimeEpoch)); since < 0 || since > time.Minute {
		t.Errorf("timeEpoch %d is not now", got.RequestContext.TimeEpoch)
	}
}

func TestNewRequestRouteKey(t *testing.T) {
	tests := []struct {
		name  string
		route gateway.Route
		want  string
	}{
		{"method upper-cased", gateway.Route{Method: "get", Path: "/v1/team/{id}"}, "GET /v1/team/{id}"},
		{"greedy", gateway.Route{Method: "ANY", Path: "/files/{proxy+}"}, "ANY /files/{proxy+}"},
		{"default route", gateway.Route{Path: "$default"}, "$default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gateway.NewRequest(httptest.NewRequest("GET", "/x", nil), tt.route, nil, nil, gateway.Options{})
			if got.RouteKey != tt.want || got.RequestContext.RouteKey != tt.want {
				t.Errorf("routeKey %q, requestContext.routeKey %q; want %q", got.RouteKey, got.RequestContext.RouteKey, tt.want)
			}
		})
	}
}

func TestNewRequestBody(t *testing.T) {
	binary := []byte{0x00, 0xff, 0x10, 'a'}
	tests := []struct {
		name        string
		contentType string
		body        []byte
		wantBody    string
		wantBase64  bool
	}{
		{"json", "application/json", []byte(`{"a":1}`), `{"a":1}`, false},
		{"json with charset", "application/json; charset=utf-8", []byte(`{}`), `{}`, false},
		{"vendor json", "application/vnd.api+json", []byte(`{}`), `{}`, false},
		{"text", "text/plain", []byte("hi"), "hi", false},
		{"form", "application/x-www-form-urlencoded", []byte("a=1&b=2"), "a=1&b=2", false},
		{"xml", "application/xml", []byte("<a/>"), "<a/>", false},
		{"javascript", "application/javascript", []byte("f()"), "f()", false},
		{"octet-stream", "application/octet-stream", binary, base64.StdEncoding.EncodeToString(binary), true},
		{"image", "image/png", binary, base64.StdEncoding.EncodeToString(binary), true},
		{"no content type", "", []byte(`{"a":1}`), base64.StdEncoding.EncodeToString([]byte(`{"a":1}`)), true},
		{"empty binary body", "application/octet-stream", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/upload", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			got := gateway.NewRequest(r, gateway.Route{Method: "POST", Path: "/upload"}, nil, tt.body, gateway.Options{})
			if got.Body != tt.wantBody || got.IsBase64Encoded != tt.wantBase64 {
				t.Errorf("body %q, isBase64Encoded %v; want %q, %v", got.Body, got.IsBase64Encoded, tt.wantBody, tt.wantBase64)
			}
		})
	}
}

func TestNewRequestQuery(t *testing.T) {
	tests := []struct {
		name     string
		rawQuery string
		want     map[string]string
	}{
		{"none", "", nil},
		{"repeated keys joined in order", "b=2&a=1&b=3", map[string]string{"a": "1", "b": "2,3"}},
		{"decoded", "q=a%20b&r=x+y&s=%E2%9C%93", map[string]string{"q": "a b", "r": "x y", "s": "✓"}},
		{"key without value", "flag&x=", map[string]string{"flag": "", "x": ""}},
		{"empty pairs skipped", "&&a=1&", map[string]string{"a": "1"}},
		{"bad escape kept", "a=%zz", map[string]string{"a": "%zz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/q?"+tt.rawQuery, nil)
			got := gateway.NewRequest(r, gateway.Route{Method: "GET", Path: "/q"}, nil, nil, gateway.Options{})
			if !reflect.DeepEqual(got.QueryStringParameters, tt.want) {
				t.Errorf("queryStringParameters %#v, want %#v", got.QueryStringParameters, tt.want)
			}
			if got.RawQueryString != tt.rawQuery {
				t.Errorf("rawQueryString %q, want %q", got.RawQueryString, tt.rawQuery)
			}
		})
	}
}

func TestNewRequestForwardedFor(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "[2001:db8::1]:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	got := gateway.NewRequest(r, gateway.Route{Method: "GET", Path: "/"}, nil, nil, gateway.Options{})
	if got.Headers["x-forwarded-for"] != "203.0.113.9, 2001:db8::1" || got.RequestContext.HTTP.SourceIP != "2001:db8::1" {
		t.Errorf("x-forwarded-for %q, sourceIp %q; want the client's address appended and as sourceIp",
			got.Headers["x-forwarded-for"], got.RequestContext.HTTP.SourceIP)
	}
}

// echo answers with the event it received, so a test can see what the handler saw.
func echo(_ context.Context, req apigw.Request) (apigw.Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.Response{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
}

func serve(t *testing.T, h http.Handler, method, target string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, body))
	resp := w.Result()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func assertHTTPAPIError(t *testing.T, resp *http.Response, body []byte, status int, message string) {
	t.Helper()
	want := `{"message":"` + message + `"}`
	if resp.StatusCode != status || string(body) != want {
		t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, status, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if !requestIDPattern.MatchString(resp.Header.Get("apigw-requestid")) {
		t.Errorf("apigw-requestid %q, want a request ID", resp.Header.Get("apigw-requestid"))
	}
}

func TestRouting(t *testing.T) {
	var routes []gateway.Route
	for _, key := range []string{
		"GET /ping", "GET /v1/team", "GET /v1/team/{id}", "PUT /v1/team/{id}", "GET /v1/team/me",
		"ANY /files/{proxy+}", "GET /files/{name}/meta", "GET /files/special/{proxy+}",
		"GET /{a}/{b}/{c}/{d}",
	} {
		method, path, _ := strings.Cut(key, " ")
		routes = append(routes, gateway.Route{Method: method, Path: path, Handler: echo})
	}
	h, err := gateway.New(routes, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		method     string
		target     string
		wantRoute  string // empty: want 404
		wantParams map[string]string
	}{
		{"exact", "GET", "/ping", "GET /ping", nil},
		{"param", "GET", "/v1/team/42", "GET /v1/team/{id}", map[string]string{"id": "42"}},
		{"param decoded", "GET", "/v1/team/a%20b", "GET /v1/team/{id}", map[string]string{"id": "a b"}},
		{"escaped slash stays in one segment", "GET", "/v1/team/a%2Fb", "GET /v1/team/{id}", map[string]string{"id": "a/b"}},
		{"literal beats param", "GET", "/v1/team/me", "GET /v1/team/me", nil},
		{"method picks the route", "PUT", "/v1/team/42", "PUT /v1/team/{id}", map[string]string{"id": "42"}},
		{"no trailing slash", "GET", "/v1/team", "GET /v1/team", nil},
		{"greedy", "POST", "/files/a/b/c.txt", "ANY /files/{proxy+}", map[string]string{"proxy": "a/b/c.txt"}},
		{"greedy one segment", "DELETE", "/files/a", "ANY /files/{proxy+}", map[string]string{"proxy": "a"}},
		{"greedy keeps trailing slash", "GET", "/files/a/", "ANY /files/{proxy+}", map[string]string{"proxy": "a/"}},
		{"param beats greedy", "GET", "/files/x/meta", "GET /files/{name}/meta", map[string]string{"name": "x"}},
		{"longer literal prefix beats greedy", "GET", "/files/special/x", "GET /files/special/{proxy+}", map[string]string{"proxy": "x"}},
		{"full match beats greedy", "GET", "/files/a/b/c", "GET /{a}/{b}/{c}/{d}",
			map[string]string{"a": "files", "b": "a", "c": "b", "d": "c"}},
		{"unknown path", "GET", "/nope", "", nil},
		{"wrong method", "DELETE", "/v1/team/42", "", nil},
		{"HEAD is not GET", "HEAD", "/ping", "", nil},
		{"trailing slash is another path", "GET", "/ping/", "", nil},
		{"param needs a segment", "GET", "/v1/team/", "", nil},
		{"too many segments", "GET", "/v1/team/42/x/y", "", nil},
		{"paths are case-sensitive", "GET", "/PING", "", nil},
		{"greedy needs a segment", "GET", "/files", "", nil},
		{"greedy needs a non-empty rest", "GET", "/files/", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := serve(t, h, tt.method, tt.target, nil)
			if tt.wantRoute == "" {
				assertHTTPAPIError(t, resp, body, http.StatusNotFound, "Not Found")
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %s, want 200 from %s", resp.StatusCode, body, tt.wantRoute)
			}
			var got events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.RouteKey != tt.wantRoute || !reflect.DeepEqual(got.PathParameters, tt.wantParams) {
				t.Errorf("route %q params %v, want %q %v", got.RouteKey, got.PathParameters, tt.wantRoute, tt.wantParams)
			}
			if got.RequestContext.RequestID != resp.Header.Get("apigw-requestid") {
				t.Errorf("apigw-requestid %q, event requestId %q: want the same", resp.Header.Get("apigw-requestid"), got.RequestContext.RequestID)
			}
		})
	}
}

func TestDefaultRoute(t *testing.T) {
	h, err := gateway.New([]gateway.Route{
		{Method: "GET", Path: "/ping", Handler: echo},
		{Path: "$default", Handler: echo},
	}, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, method, target, want string }{
		{"a route still wins", "GET", "/ping", "GET /ping"},
		{"unknown path", "GET", "/nope", "$default"},
		{"wrong method", "POST", "/ping", "$default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := serve(t, h, tt.method, tt.target, nil)
			var got events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if got.RouteKey != tt.want || got.PathParameters != nil {
				t.Errorf("route %q params %v, want %q and none", got.RouteKey, got.PathParameters, tt.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		routes  []gateway.Route
		wantErr string
	}{
		{"duplicate", []gateway.Route{{Method: "GET", Path: "/a"}, {Method: "get", Path: "/a"}}, "conflicts with route GET /a"},
		{"same shape", []gateway.Route{{Method: "GET", Path: "/t/{id}"}, {Method: "GET", Path: "/t/{teamId}"}}, "conflicts"},
		{"two defaults", []gateway.Route{{Path: "$default"}, {Path: "$default"}}, "defined twice"},
		{"relative path", []gateway.Route{{Method: "GET", Path: "a"}}, "must start with /"},
		{"partial variable", []gateway.Route{{Method: "GET", Path: "/a{id}"}}, "whole segment"},
		{"unclosed variable", []gateway.Route{{Method: "GET", Path: "/{id"}}, "whole segment"},
		{"empty variable", []gateway.Route{{Method: "GET", Path: "/{}"}}, "whole segment"},
		{"greedy not last", []gateway.Route{{Method: "GET", Path: "/{proxy+}/x"}}, "must be the last"},
		{"repeated variable", []gateway.Route{{Method: "GET", Path: "/{id}/{id}"}}, "repeated"},
		{"empty segment", []gateway.Route{{Method: "GET", Path: "/a//b"}}, "empty path segment"},
		{"no method", []gateway.Route{{Path: "/a"}}, "bad method"},
		{"no handler", []gateway.Route{{Method: "GET", Path: "/a", Handler: nil}}, "no handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.routes {
				if tt.name != "no handler" {
					tt.routes[i].Handler = echo
				}
			}
			_, err := gateway.New(tt.routes, gateway.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', 0x00, 0xff}
	tests := []struct {
		name        string
		handler     apigw.Handler
		wantStatus  int
		wantBody    string
		wantHeaders map[string][]string // only these are checked
		wantLog     string
	}{
		{
			name: "status 0 is 200",
			handler: func(context.Context, apigw.Request) (apigw.Response, error) {
				return apigw.Response{Body: "ok"}, nil
			},
			wantStatus: http.StatusOK,
			wantBody:   "ok",
		},
		{
			name: "status, headers and cookies",
			handler: func(context.Context, apigw.Request) (apigw.Response, error) {
				return apigw.Response{
					StatusCode: http.StatusCreated,
					Headers:    map[string]string{"content-type": "application/json", "Location": "/v1/team/1"},
					Cookies:    []string{"a=1; HttpOnly", "b=2"},
					Body:       `{"id":"1"}`,
				}, nil
			},
			wantStatus: http.StatusCreated,
			wantBody:   `{"id":"1"}`,
			wantHeaders: map[string][]string{
				"Content-Type": {"application/json"},
				"Location":     {"/v1/team/1"},
				"Set-Cookie":   {"a=1; HttpOnly", "b=2"},
			},
		},
		{
			name: "base64 body decoded",
			handler: func(context.Context, apigw.Request) (apigw.Response, error) {
				return apigw.Response{StatusCode: 200, Headers: map[string]string{"Content-Type": "image/png"},
					Body: base64.StdEncoding.EncodeToString(png), IsBase64Encoded: true}, nil
			},
			wantStatus:  http.StatusOK,
			wantBody:    string(png),
			wantHeaders: map[string][]string{"Content-Type": {"image/png"}},
		},
		{
			name: "no content type is not invented",
			handler: func(context.Context, apigw.Request) (apigw.Response, error) {
				return apigw.Response{StatusCode: 200, Body: "<html></html>"}, nil
			},
			wantStatus:  http.StatusOK,
			wantBody:    "<html></html>",
			wantHeaders: map[string][]string{"Content-Type": nil},
		},
		{
			name: "error is 500",
			handler: func(context.Context, apigw.Request) (apigw.Response, error) {
				return apigw.Response{StatusCode: 200, Body: "secret detail"}, errors.New("table gone")
			},
			wantStatus:  http.StatusInternalServerError,
			wantBody:    `{"message":"Internal Server Error"}`,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
			wantLog:     "table gone",
		},
		{
			name: "panic is 500",
			handler: func(context.Context, apigw.Request) (apigw.Response, error) {
				var m map[string]int
				m["x"] = 1
				return apigw.Response{}, nil
			},
			wantStatus:  http.StatusInternalServerError,
			wantBody:    `{"message":"Internal Server Error"}`,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
			wantLog:     "handler panic",
		},
		{
			name: "bad base64 is 500",
			handler: func(context.Context, apigw.Request) (apigw.Response, error) {
				return apigw.Response{StatusCode: 200, Body: "not base64!", IsBase64Encoded: true}, nil
			},
			wantStatus: http.StatusInternalServerError,
			wantBody:   `{"message":"Internal Server Error"}`,
			wantLog:    "decode base64 body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h, err := gateway.New([]gateway.Route{{Method: "GET", Path: "/r", Handler: tt.handler}},
				gateway.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL + "/r")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			for k, want := range tt.wantHeaders {
				if got := resp.Header.Values(k); !slices.Equal(got, want) {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if resp.Header.Get("apigw-requestid") == "" {
				t.Error("no apigw-requestid header")
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %q, want it to mention %q", logs.String(), tt.wantLog)
			}
			if strings.Contains(string(body), "secret detail") || strings.Contains(string(body), "table gone") {
				t.Errorf("internal detail leaked to the client: %s", body)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	var gotLen int
	h, err := gateway.New([]gateway.Route{{Method: "POST", Path: "/upload",
		Handler: func(_ context.Context, req apigw.Request) (apigw.Response, error) {
			gotLen = len(req.Body)
			return apigw.Response{StatusCode: http.StatusNoContent}, nil
		}}}, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		body       func() io.Reader
		wantStatus int
	}{
		{"exactly 10 MB", func() io.Reader { return bytes.NewReader(make([]byte, gateway.MaxBodyBytes)) }, http.StatusNoContent},
		{"over 10 MB", func() io.Reader { return bytes.NewReader(make([]byte, gateway.MaxBodyBytes+1)) }, http.StatusRequestEntityTooLarge},
		// MultiReader hides the length, as a chunked request does.
		{"over 10 MB without Content-Length", func() io.Reader {
			return io.MultiReader(bytes.NewReader(make([]byte, gateway.MaxBodyBytes)), strings.NewReader("x"))
		}, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotLen = 0
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/upload", tt.body())
			r.Header.Set("Content-Type", "text/plain")
			h.ServeHTTP(w, r)
			resp := w.Result()
			if tt.wantStatus == http.StatusRequestEntityTooLarge {
				assertHTTPAPIError(t, resp, w.Body.Bytes(), http.StatusRequestEntityTooLarge, "Request Entity Too Large")
				if gotLen != 0 {
					t.Error("the handler ran")
				}
				return
			}
			if resp.StatusCode != tt.wantStatus || gotLen != gateway.MaxBodyBytes {
				t.Errorf("status %d, handler saw %d bytes; want %d and %d", resp.StatusCode, gotLen, tt.wantStatus, gateway.MaxBodyBytes)
			}
		})
	}
}

// TestOverTheWire runs the gateway behind a real server, where net/http has parsed the
// request itself, and checks what only shows there.
func TestOverTheWire(t *testing.T) {
	h, err := gateway.New([]gateway.Route{{Method: "POST", Path: "/v1/team/{id}", Handler: echo}}, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		t.Fatal(err)
	}

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/team/caf%C3%A9?a=1", strings.NewReader(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "s", Value: "1"})
	req.AddCookie(&http.Cookie{Name: "t", Value: "2"})
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got events.APIGatewayV2HTTPRequest
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		name      string
		got, want any
	}{
		{"rawPath", got.RawPath, "/v1/team/caf%C3%A9"},
		{"http.path", got.RequestContext.HTTP.Path, "/v1/team/café"},
		{"pathParameters", got.PathParameters, map[string]string{"id": "café"}},
		{"host header", got.Headers["host"], u.Host},
		{"domainName", got.RequestContext.DomainName, u.Host},
		{"content-length header", got.Headers["content-length"], "7"},
		{"cookie header removed", got.Headers["cookie"], ""},
		{"cookies", got.Cookies, []string{"s=1", "t=2"}},
		{"x-forwarded-port", got.Headers["x-forwarded-port"], port},
		{"sourceIp", got.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"userAgent", got.RequestContext.HTTP.UserAgent, got.Headers["user-agent"]},
		{"apigw-requestid", resp.Header.Get("apigw-requestid"), got.RequestContext.RequestID},
		{"body", got.Body, `{"x":1}`},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %#v, want %#v", c.got, c.want)
			}
		})
	}
}
