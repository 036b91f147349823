package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// clock is a settable time for lockouts and expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const site = "abc123.execute-api.us-east-1.amazonaws.com"

type accounts struct {
	t        *testing.T
	clock    *clock
	log      *bytes.Buffer
	handlers map[string]apigw.Handler
	key      auth.SigningKey
}

func newAccounts(t *testing.T) *accounts {
	t.Helper()
	client, table := testdb.Table(t)
	c := &clock{t: time.Now()}
	s := store.New(client, table, c.Now)
	key, err := auth.KeyFromSeed([]byte(strings.Repeat("k", 64)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PublishSigningKey(context.Background(), key.Public()); err != nil {
		t.Fatal(err)
	}
	a := &accounts{t: t, clock: c, log: &bytes.Buffer{}, key: key}
	session := api.Session(s)
	a.handlers = map[string]apigw.Handler{
		"POST /account/signup":                             api.SignUp(s, c.Now),
		"POST /account/signin":                             api.SignIn(s, c.Now),
		"POST /account/signout":                            api.SignOut(s),
		"GET /account/me":                                  api.WhoAmI(s),
		"GET /account/clients":                             api.ListClients(session, s),
		"POST /account/clients":                            api.CreateClient(session, s),
		"DELETE /account/clients/{clientId}":               api.RevokeClient(session, s),
		"GET /v1/token":                                    api.Token(s, auth.NewSigner(key, c.Now)),
		"POST /v1/team":                                    api.CreateTeam(api.Bearer(auth.NewVerifier(s, c.Now)), s),
		"GET /account/teams":                               api.ListTeams(session, s, nil),
		"GET /account/leaderboards/{id}/rankings/{teamId}": api.TeamRank(session, s),
	}
	log := slog.New(slog.NewJSONHandler(a.log, nil))
	for route, h := range a.handlers {
		a.handlers[route] = apigw.WithRequestLog(log, h)
	}
	return a
}

// req is one request to the account endpoints, from the site's own page unless it says
// otherwise.
type req struct {
	session string
	origin  *string // nil: the site's own
	headers map[string]string
	params  map[string]string
	body    string
	ip      string
}

func (a *accounts) do(route string, r req) response {
	a.t.Helper()
	method, path, _ := strings.Cut(route, " ")
	headers := map[string]string{"host": site, "origin": "https://" + site}
	if r.origin != nil {
		headers["origin"] = *r.origin
		if *r.origin == "" {
			delete(headers, "origin")
		}
	}
	for k, v := range r.headers {
		headers[k] = v
	}
	e := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: route, RawPath: path, Headers: headers, Body: r.body, PathParameters: r.params}
	if r.session != "" {
		e.Cookies = []string{"theme=dark", api.SessionCookie + "=" + r.session}
	}
	e.RequestContext.DomainName = site
	e.RequestContext.HTTP.Method = method
	e.RequestContext.HTTP.SourceIP = "198.51.100.1"
	if r.ip != "" {
		e.RequestContext.HTTP.SourceIP = r.ip
	}
	resp, err := a.handlers[route](context.Background(), e)
	if err != nil {
		a.t.Fatalf("%s: %v", route, err)
	}
	out := response{status: resp.StatusCode, headers: resp.Headers, body: resp.Body}
	if len(resp.Cookies) > 0 {
		out.headers["Set-Cookie"] = resp.Cookies[0]
	}
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &out.json); err != nil {
			a.t.Fatalf("%s: body %q: %v", route, resp.Body, err)
		}
	}
	return out
}

func creds(email, password string) string {
	return mustJSON(map[string]string{"email": email, "password": password})
}

const goodPassword = "correct horse battery staple"

// signUp makes an account and returns its session.
func (a *accounts) signUp(email string) string {
	a.t.Helper()
	r := a.do("POST /account/signup", req{body: creds(email, goodPassword)})
	expect(a.t, r, 201, "")
	return sessionFrom(a.t, r)
}

func sessionFrom(t *testing.T, r response) string {
	t.Helper()
	v, ok := strings.CutPrefix(r.headers["Set-Cookie"], api.SessionCookie+"=")
	if !ok {
		t.Fatalf("no session cookie: %q", r.headers["Set-Cookie"])
	}
	v, _, _ = strings.Cut(v, ";")
	return v
}

func TestSignUpAndSignIn(t *testing.T) {
	a := newAccounts(t)
	r := a.do("POST /account/signup", req{body: creds("Ada@Example.com", goodPassword)})
	expect(t, r, 201, "")
	if r.json["email"] != "Ada@Example.com" || r.json["tenantId"] == "" || r.headers["Cache-Control"] != "no-store" {
		t.Errorf("sign-up = %s %v", r.body, r.headers)
	}
	c := r.headers["Set-Cookie"]
	for _, want := range []string{"; Path=/account;", "; HttpOnly", "; SameSite=Strict", "; Secure", "Max-Age=43200"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %q", c, want)
		}
	}
	session := sessionFrom(t, r)
	me := a.do("GET /account/me", req{session: session})
	expect(t, me, 200, "")
	if me.json["email"] != "Ada@Example.com" || me.json["tenantId"] != r.json["tenantId"] {
		t.Errorf("me = %s", me.body)
	}
	// One account per address, whatever its case.
	expect(t, a.do("POST /account/signup", req{body: creds("ada@example.COM", "another long passphrase")}), 409,
		"an account with this email already exists; sign in instead")

	in := a.do("POST /account/signin", req{body: creds("ADA@example.com", goodPassword)})
	expect(t, in, 200, "")
	if in.json["tenantId"] != r.json["tenantId"] || sessionFrom(t, in) == session {
		t.Errorf("sign-in = %s, cookie %q", in.body, in.headers["Set-Cookie"])
	}
	// Emails are never logged.
	if strings.Contains(strings.ToLower(a.log.String()), "ada@example.com") {
		t.Errorf("the request log holds the email:\n%s", a.log)
	}
}

func TestSignUpRefusals(t *testing.T) {
	a := newAccounts(t)
	for _, tc := range []struct {
		name, body string
		status     int
		message    string
	}{
		{"too short", creds("a@example.com", "Zq8#vLm2!pX"), 400, "password must be at least 12 characters"},
		{"too common", creds("a@example.com", "Password2024!"), 400, auth.ErrPasswordTooCommon.Error()},
		{"not an email", creds("not-an-email", goodPassword), 400, "email must be an address like name@example.com"},
		{"a display name", creds("Ada <a@example.com>", goodPassword), 400, "email must be an address like name@example.com"},
		{"no password", `{"email":"a@example.com"}`, 400, "email and password are required"},
		{"unknown field", `{"email":"a@example.com","password":"x","admin":true}`, 400, `unknown field "admin"`},
		{"oversized", `{"email":"a@example.com","password":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "request body is larger than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, a.do("POST /account/signup", req{body: tc.body}), tc.status, tc.message)
		})
	}
}

func TestSignInFailuresAreGenericAndThrottled(t *testing.T) {
	a := newAccounts(t)
	a.signUp("bob@example.com")
	wrong := a.do("POST /account/signin", req{body: creds("bob@example.com", "wrong horse battery staple")})
	unknown := a.do("POST /account/signin", req{body: creds("nobody@example.com", goodPassword)})
	expect(t, wrong, 401, "invalid email or password")
	if unknown.status != wrong.status || unknown.body != wrong.body {
		t.Errorf("unknown email answers %d %s, wrong password %d %s: they must not differ", unknown.status, unknown.body, wrong.status, wrong.body)
	}

	// Five failures are free (one spent above); the sixth locks the account for 1 s,
	// the seventh, once that has passed, for 2 s.
	for range 5 {
		expect(t, a.do("POST /account/signin", req{body: creds("bob@example.com", "wrong horse battery staple")}), 401, "")
	}
	locked := a.do("POST /account/signin", req{body: creds("bob@example.com", goodPassword)})
	expect(t, locked, 429, "too many failed attempts; try again in 1 seconds")
	if locked.headers["Retry-After"] != "1" {
		t.Errorf("Retry-After = %q", locked.headers["Retry-After"])
	}
	// The lock is the account's, whatever address asks.
	expect(t, a.do("POST /account/signin", req{body: creds("bob@example.com", goodPassword), ip: "192.0.2.9"}), 429, "")
	a.clock.Add(1100 * time.Millisecond)
	expect(t, a.do("POST /account/signin", req{body: creds("bob@example.com", "wrong horse battery staple")}), 401, "")
	expect(t, a.do("POST /account/signin", req{body: creds("bob@example.com", goodPassword)}), 429, "too many failed attempts; try again in 2 seconds")
	a.clock.Add(2100 * time.Millisecond)
	expect(t, a.do("POST /account/signin", req{body: creds("bob@example.com", goodPassword)}), 200, "")
	// A success forgets the account's failures.
	expect(t, a.do("POST /account/signin", req{body: creds("bob@example.com", "wrong horse battery staple"), ip: "192.0.2.9"}), 401, "")
	expect(t, a.do("POST /account/signin", req{body: creds("bob@example.com", goodPassword), ip: "192.0.2.9"}), 200, "")
}

func TestOneAddressGuessingManyAccounts(t *testing.T) {
	a := newAccounts(t)
	a.signUp("carol@example.com")
	// Twenty failures from one address are free, spread over accounts that never lock.
	for i := range 20 {
		expect(t, a.do("POST /account/signin", req{body: creds("guess"+string(rune('a'+i))+"@example.com", goodPassword), ip: "203.0.113.66"}), 401, "")
	}
	expect(t, a.do("POST /account/signin", req{body: creds("guessz@example.com", goodPassword), ip: "203.0.113.66"}), 401, "")
	expect(t, a.do("POST /account/signin", req{body: creds("carol@example.com", goodPassword), ip: "203.0.113.66"}), 429, "")
	// Sign-ups from it are locked too: a taken address is not a free probe.
	expect(t, a.do("POST /account/signup", req{body: creds("carol@example.com", goodPassword), ip: "203.0.113.66"}), 429, "")
	// Others are not.
	expect(t, a.do("POST /account/signin", req{body: creds("carol@example.com", goodPassword)}), 200, "")
}

func TestSessionsEnd(t *testing.T) {
	a := newAccounts(t)
	session := a.signUp("dan@example.com")
	for _, tc := range []struct{ name, session string }{
		{"none", ""},
		{"forged", auth.NewSessionID()},
		{"garbage", "%00<script>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, a.do("GET /account/me", req{session: tc.session}), 401, "Not signed in")
			expect(t, a.do("GET /account/clients", req{session: tc.session}), 401, "Not signed in")
		})
	}
	out := a.do("POST /account/signout", req{session: session})
	expect(t, out, 204, "")
	if c := out.headers["Set-Cookie"]; !strings.Contains(c, api.SessionCookie+"=;") || !strings.Contains(c, "Max-Age=0") {
		t.Errorf("sign-out cookie %q does not clear it", c)
	}
	expect(t, a.do("GET /account/me", req{session: session}), 401, "Not signed in")

	// Expiry: 12 hours after sign-in, whatever the table's TTL has done.
	later := a.signUp("erin@example.com")
	a.clock.Add(api.SessionLifetime - time.Minute)
	expect(t, a.do("GET /account/me", req{session: later}), 200, "")
	a.clock.Add(2 * time.Minute)
	expect(t, a.do("GET /account/me", req{session: later}), 401, "Not signed in")
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	a := newAccounts(t)
	session := a.signUp("fay@example.com")
	evil, none := "https://evil.example", ""
	http := "http://" + site // the right host, the wrong scheme
	for _, tc := range []struct {
		route  string
		origin *string
		body   string
	}{
		{"POST /account/clients", &evil, `{"label":"x"}`},
		{"POST /account/clients", &none, `{"label":"x"}`},
		{"POST /account/clients", &http, `{"label":"x"}`},
		{"POST /account/signout", &evil, ""},
		{"POST /account/signup", &evil, creds("gus@example.com", goodPassword)},
		{"POST /account/signin", &evil, creds("fay@example.com", goodPassword)},
		{"DELETE /account/clients/{clientId}", &evil, ""},
	} {
		t.Run(tc.route+" from "+*tc.origin, func(t *testing.T) {
			expect(t, a.do(tc.route, req{session: session, origin: tc.origin, body: tc.body,
				params: map[string]string{"clientId": auth.NewCredentials().ClientID}}), 403,
				"cross-site request refused: the Origin header must be this site's")
		})
	}
	// Nothing was created by the refused requests.
	r := a.do("GET /account/clients", req{session: session})
	if list := r.json["clients"].([]any); len(list) != 0 {
		t.Errorf("clients after refused requests: %s", r.body)
	}
	expect(t, a.do("GET /account/me", req{session: session}), 200, "")
}

func TestCredentialsFromTheDashboard(t *testing.T) {
	a := newAccounts(t)
	session := a.signUp("hal@example.com")
	label := `<img src=x onerror=alert(1)>`
	made := a.do("POST /account/clients", req{session: session, body: mustJSON(map[string]string{"label": label})})
	expect(t, made, 201, "")
	id, key, secret := made.json["clientId"].(string), made.json["apiKey"].(string), made.json["clientSecret"].(string)
	if made.json["label"] != label || made.json["status"] != "active" || made.headers["Cache-Control"] != "no-store" {
		t.Errorf("created %s", made.body)
	}
	if strings.Contains(made.body, "<img") {
		t.Errorf("the label is not escaped in JSON: %s", made.body)
	}
	// The credentials work, and their use shows.
	token := a.do("GET /v1/token", req{headers: map[string]string{"x-api-key": key, "x-client-id": id, "x-client-secret": secret}})
	expect(t, token, 200, "")
	list := a.do("GET /account/clients", req{session: session})
	expect(t, list, 200, "")
	if strings.Contains(list.body, secret) || strings.Contains(list.body, key) || strings.Contains(list.body, "Digest") {
		t.Errorf("the list shows a secret: %s", list.body)
	}
	c := list.json["clients"].([]any)[0].(map[string]any)
	if c["clientId"] != id || c["lastUsedAt"] == nil || c["status"] != "active" {
		t.Errorf("listed %v", c)
	}

	// Another tenant cannot see or revoke it.
	other := a.signUp("ivy@example.com")
	if r := a.do("GET /account/clients", req{session: other}); len(r.json["clients"].([]any)) != 0 {
		t.Errorf("another tenant lists %s", r.body)
	}
	expect(t, a.do("DELETE /account/clients/{clientId}", req{session: other, params: map[string]string{"clientId": id}}), 404, "client not found")
	expect(t, a.do("DELETE /account/clients/{clientId}", req{session: session, params: map[string]string{"clientId": "not-an-id"}}), 404, "client not found")
	expect(t, a.do("GET /v1/token", req{headers: map[string]string{"x-api-key": key, "x-client-id": id, "x-client-secret": secret}}), 200, "")

	expect(t, a.do("DELETE /account/clients/{clientId}", req{session: session, params: map[string]string{"clientId": id}}), 204, "")
	expect(t, a.do("GET /v1/token", req{headers: map[string]string{"x-api-key": key, "x-client-id": id, "x-client-secret": secret}}), 401, "Invalid Credentials")
	if c := a.do("GET /account/clients", req{session: session}).json["clients"].([]any)[0].(map[string]any); c["status"] != "revoked" || c["revokedAt"] == nil {
		t.Errorf("after revoke: %v", c)
	}
	for _, bad := range []string{`{"label":""}`, `{"label":"` + strings.Repeat("x", 65) + `"}`, `{"label":"a\u0007b"}`, `{}`} {
		expect(t, a.do("POST /account/clients", req{session: session, body: bad}), 400, "")
	}
}

func TestSessionsAndTokensDoNotMix(t *testing.T) {
	a := newAccounts(t)
	session := a.signUp("jo@example.com")
	made := a.do("POST /account/clients", req{session: session, body: `{"label":"server"}`})
	token := a.do("GET /v1/token", req{headers: map[string]string{
		"x-api-key": made.json["apiKey"].(string), "x-client-id": made.json["clientId"].(string), "x-client-secret": made.json["clientSecret"].(string),
	}}).json["authToken"].(string)

	// A session cookie on the game API, a bearer token on the dashboard's.
	expect(t, a.do("POST /v1/team", req{session: session, body: `{"teamName":"A"}`}), 401, "Not Authorized")
	for _, route := range []string{"GET /account/me", "GET /account/clients", "GET /account/teams"} {
		expect(t, a.do(route, req{headers: map[string]string{"authorization": "Bearer " + token}}), 401, "Not signed in")
	}
	// The dashboard's reads are the tenant's.
	team := a.do("POST /v1/team", req{headers: map[string]string{"authorization": "Bearer " + token}, body: `{"teamName":"A"}`})
	expect(t, team, 201, "")
	if r := a.do("GET /account/teams", req{session: session}); !strings.Contains(r.body, team.json["id"].(string)) {
		t.Errorf("the dashboard's teams %s lack %s", r.body, team.body)
	}
	if r := a.do("GET /account/teams", req{session: a.signUp("kim@example.com")}); strings.Contains(r.body, team.json["id"].(string)) {
		t.Errorf("another tenant's dashboard shows the team: %s", r.body)
	}
}

func TestLoopbackCookieIsNotSecure(t *testing.T) {
	a := newAccounts(t)
	h := a.handlers["POST /account/signup"]
	e := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"host": "127.0.0.1:3000", "origin": "http://127.0.0.1:3000"}, Body: creds("lo@example.com", goodPassword)}
	e.RequestContext.DomainName = "127.0.0.1:3000"
	e.RequestContext.HTTP.Method = "POST"
	resp, err := h(context.Background(), e)
	if err != nil || resp.StatusCode != 201 || len(resp.Cookies) != 1 {
		t.Fatalf("sign-up on loopback: %d %s %v", resp.StatusCode, resp.Body, err)
	}
	if strings.Contains(resp.Cookies[0], "Secure") {
		t.Errorf("cookie %q is Secure on plain-http loopback: the browser would drop it", resp.Cookies[0])
	}
}
