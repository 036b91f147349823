package api_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// fuzzSessionCookie reports whether cookies carry the live session, as sessionID reads
// them.
func fuzzSessionCookie(cookies []string) bool {
	for _, c := range cookies {
		if name, value, ok := strings.Cut(c, "="); ok && strings.TrimSpace(name) == api.SessionCookie {
			return strings.TrimSpace(value) == fuzzSession
		}
	}
	return false
}

// fuzzSameSite reports whether the request's Origin is the site it was sent to: https
// on the API's domain, http on a loopback address (make local).
func fuzzSameSite(req apigw.Request) bool {
	host := req.RequestContext.DomainName
	if host == "" {
		host = apigw.Header(req, "host")
	}
	bare := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		bare = h
	}
	scheme := "https://"
	if ip := net.ParseIP(strings.Trim(bare, "[]")); bare == "localhost" || ip != nil && ip.IsLoopback() {
		scheme = "http://"
	}
	origin := apigw.Header(req, "origin")
	return origin != "" && origin == scheme+host
}

// FuzzSession feeds the dashboard's session endpoints any method, cookies (one a line),
// Origin, Host and domain name, body and {clientId}. Besides fuzzAnswer: a success needs
// the live session cookie (but for sign-out), and any answer but 403 to a request that
// changes something needs an Origin naming the site it was sent to.
func FuzzSession(f *testing.F) {
	fuzzShareDynamoDB(f)
	good := api.SessionCookie + "=" + fuzzSession
	site := "https://" + fuzzSite
	for route := range byte(6) {
		f.Add(route, "GET", good, site, fuzzSite, fuzzSite, "", fuzzCreds.ClientID, []byte{})
		f.Add(route, "POST", "theme=dark\n"+good, site, fuzzSite, fuzzSite, `{"label":"server"}`, fuzzCreds.ClientID, []byte{})
		f.Add(route, "DELETE", good, site, fuzzSite, fuzzSite, "", fuzzCreds.ClientID, []byte{1})
	}
	for _, seed := range []struct{ method, cookies, origin, host, domain, body, clientID string }{
		{"POST", good, "https://evil.example", fuzzSite, fuzzSite, `{"label":"x"}`, ""},
		{"POST", good, "", fuzzSite, fuzzSite, `{"label":"x"}`, ""},
		{"POST", good, "http://" + fuzzSite, fuzzSite, fuzzSite, `{"label":"x"}`, ""},
		{"POST", good, "http://127.0.0.1:3000", "127.0.0.1:3000", "", `{"label":"x"}`, ""},
		{"POST", good, "http://[::1]:3000", "[::1]:3000", "", `{"label":"x"}`, ""},
		{"POST", good, "http://localhost", "localhost", "", `{"label":"x"}`, ""},
		{"GET", "lb_session=", site, fuzzSite, fuzzSite, "", ""},
		{"GET", " lb_session = " + fuzzSession + " ", site, fuzzSite, fuzzSite, "", ""},
		{"GET", "lb_session=wrong", site, fuzzSite, fuzzSite, "", ""},
		{"GET", "lb_session", site, fuzzSite, fuzzSite, "", ""},
		{"GET", "", site, fuzzSite, fuzzSite, "", ""},
		{"POST", good, site, fuzzSite, fuzzSite, `{"label":""}`, ""},
		{"POST", good, site, fuzzSite, fuzzSite, `{"label":"a\u0007b"}`, ""},
		{"POST", good, site, fuzzSite, fuzzSite, `{"label":"` + strings.Repeat("x", 65) + `"}`, ""},
		{"DELETE", good, site, fuzzSite, fuzzSite, "", "lb_cid_short"},
		{"DELETE", good, site, fuzzSite, fuzzSite, "", ""},
		{"HEAD", good, "", fuzzSite, fuzzSite, "", ""},
		{"", good, "", fuzzSite, fuzzSite, "", ""},
	} {
		for _, route := range []byte{1, 3, 4} {
			f.Add(route, seed.method, seed.cookies, seed.origin, seed.host, seed.domain, seed.body, seed.clientID, []byte{})
		}
	}
	f.Fuzz(func(t *testing.T, route byte, method, cookies, origin, host, domain, body, clientID string, outcomes []byte) {
		req := fuzzRequest(method, map[string]string{"clientId": clientID, "id": fuzzBoard}, nil, nil, body)
		req.Headers = map[string]string{}
		if origin != "" {
			req.Headers["origin"] = origin
		}
		if host != "" {
			req.Headers["host"] = host
		}
		req.RequestContext.DomainName = domain
		if cookies != "" {
			req.Cookies = strings.Split(cookies, "\n")
		}
		s := newFuzzStore(t, outcomes)
		session := api.Session(s)
		var h apigw.Handler
		switch route % 6 {
		case 0:
			h = api.WhoAmI(s)
		case 1:
			h = api.SignOut(s)
		case 2:
			h = api.ListClients(session, s)
		case 3:
			h = api.CreateClient(session, s)
		case 4:
			h = api.RevokeClient(session, s)
		default:
			h = api.ListTeams(session, s, fuzzCursors)
		}
		resp := fuzzCall(t, h, req)

		changes := method != http.MethodGet && method != http.MethodHead && method != ""
		if resp.StatusCode == http.StatusForbidden {
			if !changes || fuzzSameSite(req) {
				t.Fatalf("403 %s for a same-site or read-only request", resp.Body)
			}
			return
		}
		if changes && !fuzzSameSite(req) {
			t.Fatalf("a %s from origin %q to host %q/%q answered %d %s", method, origin, domain, host, resp.StatusCode, resp.Body)
		}
		if route%6 == 1 {
			if resp.StatusCode == http.StatusNoContent && (len(resp.Cookies) != 1 || !strings.HasPrefix(resp.Cookies[0], api.SessionCookie+"=;")) {
				t.Fatalf("sign-out sets cookies %q", resp.Cookies)
			}
			return
		}
		if resp.StatusCode/100 == 2 && !fuzzSessionCookie(req.Cookies) {
			t.Fatalf("%d %s without the session cookie (cookies %q)", resp.StatusCode, resp.Body, req.Cookies)
		}
	})
}

// FuzzSignIn feeds sign-up and sign-in any body, Origin and source address. Besides
// fuzzAnswer: a sign-in succeeds only with fuzzEmail's password, and a success sets the
// session cookie. Each accepted address costs an argon2id hash (tens of milliseconds).
func FuzzSignIn(f *testing.F) {
	fuzzShareDynamoDB(f)
	site := "https://" + fuzzSite
	for _, body := range []string{
		`{"email":"player@example.com","password":"correct horse battery staple"}`,
		`{"email":" PLAYER@example.com ","password":"correct horse battery staple"}`,
		`{"email":"player@example.com","password":"wrong horse battery staple"}`,
		`{"email":"new@example.com","password":"correct horse battery staple"}`,
		`{"email":"a@example.com","password":"x","admin":true}`,
		`{"email":"a@example.com"}`,
		`{"email":"not an address","password":"correct horse battery staple"}`,
		`{"email":"Name <a@example.com>","password":"correct horse battery staple"}`,
		`{"email":"a@example.com","password":"Password2024!"}`,
		`{"email":"jonathan.smith@example.com","password":"jonathan.smith99"}`,
		`{"email":"a@example.com","password":"` + strings.Repeat("p", 300) + `"}`,
		`{"email":null,"password":null}`,
		`{}`,
	} {
		f.Add(false, body, site, "198.51.100.1", []byte{})
		f.Add(true, body, site, "198.51.100.1", []byte{})
	}
	login := `{"email":"player@example.com","password":"correct horse battery staple"}`
	f.Add(false, login, "https://evil.example", "198.51.100.1", []byte{})
	f.Add(false, login, "", "", []byte{})
	for _, outcomes := range [][]byte{{1}, {2}, {0, 1}, {0, 0, 1}, {0, 0, 0, 1}, {0, 0, 200}} {
		f.Add(false, login, site, "198.51.100.1", outcomes)
		f.Add(true, `{"email":"new@example.com","password":"correct horse battery staple"}`, site, "198.51.100.1", outcomes)
	}
	f.Fuzz(func(t *testing.T, signUp bool, body, origin, sourceIP string, outcomes []byte) {
		req := fuzzRequest("POST", nil, nil, nil, body)
		req.Headers["origin"] = origin
		req.RequestContext.HTTP.SourceIP = sourceIP
		s := newFuzzStore(t, outcomes)
		h := api.SignIn(s, fuzzClock)
		if signUp {
			h = api.SignUp(s, fuzzClock)
		}
		resp := fuzzCall(t, h, req)
		if resp.StatusCode/100 != 2 {
			return
		}
		if len(resp.Cookies) != 1 || !strings.HasPrefix(resp.Cookies[0], api.SessionCookie+"=") || strings.HasPrefix(resp.Cookies[0], api.SessionCookie+"=;") {
			t.Fatalf("%d without a session cookie: %q", resp.StatusCode, resp.Cookies)
		}
		var sent struct{ Email, Password string }
		if err := json.Unmarshal([]byte(body), &sent); err != nil {
			t.Fatalf("%d for body %q: %v", resp.StatusCode, body, err)
		}
		if !signUp && (store.AccountKey(sent.Email) != store.AccountKey(fuzzEmail) || sent.Password != fuzzPassword) {
			t.Fatalf("signed in as %q with password %q", sent.Email, sent.Password)
		}
	})
}
