package gateway

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

// NewRequest builds the payload format 2.0 event HTTP API would send for r matched to
// route, with pathParams already decoded and body already read from r. The gateway's own
// handler uses it; it is exported so tests can check the conversion by itself.
func NewRequest(r *http.Request, route Route, pathParams map[string]string, body []byte, opts Options) apigw.Request {
	key := defaultRouteKey
	if route.Path != defaultRouteKey {
		key = strings.ToUpper(route.Method) + " " + route.Path
	}
	return newRequest(r, key, pathParams, body, opts.withDefaults(), newRequestID())
}

func newRequest(r *http.Request, routeKey string, pathParams map[string]string, body []byte, opts Options, requestID string) apigw.Request {
	now := opts.Now()
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	headers, cookies := convertHeaders(r, sourceIP, now.Unix())

	req := apigw.Request{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: parseQuery(r.URL.RawQuery),
		PathParameters:        pathParams,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    opts.AccountID,
			Stage:        opts.Stage,
			RequestID:    requestID,
			APIID:        opts.APIID,
			DomainName:   r.Host,
			DomainPrefix: domainPrefix(r.Host),
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  cmp.Or(r.Proto, "HTTP/1.1"),
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			req.Body = string(body)
		} else {
			req.Body = base64.StdEncoding.EncodeToString(body)
			req.IsBase64Encoded = true
		}
	}
	return req
}

// convertHeaders lower-cases header names and joins repeated headers with commas, as
// payload 2.0 has no multi-value headers. Cookie headers become the cookies list instead.
// It adds the headers HTTP API adds in front of every integration.
func convertHeaders(r *http.Request, sourceIP string, now int64) (map[string]string, []string) {
	headers := make(map[string]string, len(r.Header)+5)
	var cookies []string
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[name] = strings.Join(values, ",")
	}
	if r.Host != "" {
		// net/http moves Host out of the header map.
		headers["host"] = r.Host
	}

	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(addr.String()); err == nil {
			port = p
		}
	} else if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	headers["x-forwarded-proto"] = proto
	headers["x-forwarded-port"] = port
	if _, ok := headers["x-amzn-trace-id"]; !ok {
		headers["x-amzn-trace-id"] = fmt.Sprintf("Root=1-%08x-%s", now, randomHex(12))
	}
	return headers, cookies
}

// parseQuery decodes the query string into payload 2.0's queryStringParameters: repeated
// keys joined with commas, in the order they came. It splits on & only (not on ;), and
// keeps a part that does not decode as it was rather than dropping it.
func parseQuery(raw string) map[string]string {
	var params map[string]string
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = unescapeQuery(k), unescapeQuery(v)
		if params == nil {
			params = map[string]string{}
		}
		if prev, ok := params[k]; ok {
			params[k] = prev + "," + v
		} else {
			params[k] = v
		}
	}
	return params
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// isText reports whether HTTP API passes a body of this Content-Type to Lambda as it is;
// any other body, including one without a Content-Type, arrives base64-encoded.
func isText(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mediaType, "text/"),
		strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json"):
		return true
	}
	switch mediaType {
	case "application/json", "application/xml", "application/x-www-form-urlencoded", "application/javascript":
		return true
	}
	return false
}

// domainPrefix is the first label of the host, "abc123" for abc123.execute-api...
func domainPrefix(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	prefix, _, _ := strings.Cut(host, ".")
	return prefix
}

// newRequestID makes an ID shaped like HTTP API's ("JBTx1gXYoAMEMjQ="): 11 random bytes,
// base64.
func newRequestID() string {
	b := make([]byte, 11)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(b)
}

// newUUID makes a random (version 4) UUID, the shape of a Lambda invocation's request ID.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
