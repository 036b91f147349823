package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// The dashboard's accounts and sessions. A session is an opaque random id in an
// HttpOnly, SameSite=Strict cookie scoped to /account, stored hashed with a TTL. It is
// not an API token: the game API reads only bearer tokens, these endpoints only the
// cookie, and the cookie is never even sent to /v1.

// SessionCookie is the session cookie's name.
const SessionCookie = "lb_session"

// SessionLifetime is how long a session lasts after sign-in; there is no renewal.
const SessionLifetime = 12 * time.Hour

// Failed sign-ins: this many are free, then each one locks further tries for twice as
// long as the one before, from 1 second up to maxSignInLock. An address (which many
// people may share) gets more free tries than an account.
const (
	freeAccountFailures = 5
	freeAddressFailures = 20
	maxSignInLock       = 15 * time.Minute
)

var (
	errNotSignedIn = errors.New("not signed in")
	errCrossSite   = errors.New("cross-site request")
	errBadSignIn   = errors.New("invalid email or password")
)

// lockedError says sign-ins are locked for a while after too many failures.
type lockedError struct{ retryAfter time.Duration }

func (e *lockedError) Error() string { return fmt.Sprintf("sign-ins locked for %s", e.retryAfter) }

// accountFailure maps the account endpoints' own errors to answers, or reports false.
func accountFailure(err error) (apigw.Response, bool) {
	var locked *lockedError
	switch {
	case errors.Is(err, errNotSignedIn):
		return apigw.Message(http.StatusUnauthorized, "Not signed in"), true
	case errors.Is(err, errCrossSite):
		return apigw.Message(http.StatusForbidden, "cross-site request refused: the Origin header must be this site's"), true
	case errors.Is(err, errBadSignIn):
		return apigw.Message(http.StatusUnauthorized, "invalid email or password"), true
	case errors.As(err, &locked):
		secs := int(locked.retryAfter.Round(time.Second).Seconds())
		return retryIn(http.StatusTooManyRequests, fmt.Sprintf("too many failed attempts; try again in %d seconds", secs), secs), true
	case errors.Is(err, store.ErrEmailTaken):
		return apigw.Message(http.StatusConflict, "an account with this email already exists; sign in instead"), true
	case errors.Is(err, store.ErrTooManyClients):
		return apigw.Message(http.StatusConflict, fmt.Sprintf("this account holds %d clients, the most it may", store.MaxClients)), true
	case errors.Is(err, store.ErrClientNotFound):
		return apigw.Message(http.StatusNotFound, "client not found"), true
	case errors.Is(err, auth.ErrPasswordTooShort), errors.Is(err, auth.ErrPasswordTooLong), errors.Is(err, auth.ErrPasswordTooCommon):
		return apigw.Message(http.StatusBadRequest, err.Error()), true
	}
	return apigw.Response{}, false
}

type sessionStore interface {
	GetSession(ctx context.Context, id string) (store.Session, error)
}

// Session authenticates the dashboard's endpoints: the session cookie, nothing else,
// and for a request that changes anything an Origin header naming this site.
func Session(sessions sessionStore) Authenticator { return sessionAuth{sessions} }

type sessionAuth struct{ sessions sessionStore }

func (a sessionAuth) Authenticate(ctx context.Context, req apigw.Request) (string, error) {
	s, err := a.session(ctx, req)
	if err != nil {
		return "", err
	}
	return s.TenantID, nil
}

func (a sessionAuth) session(ctx context.Context, req apigw.Request) (store.Session, error) {
	if err := checkOrigin(req); err != nil {
		return store.Session{}, err
	}
	id := sessionID(req)
	if id == "" {
		return store.Session{}, errNotSignedIn
	}
	s, err := a.sessions.GetSession(ctx, id)
	if errors.Is(err, store.ErrSessionNotFound) {
		return store.Session{}, errNotSignedIn
	}
	if err != nil {
		return store.Session{}, err
	}
	reqlog.SetTenant(ctx, s.TenantID)
	return s, nil
}

// sessionID is the session cookie's value, or "".
func sessionID(req apigw.Request) string {
	for _, c := range req.Cookies {
		if name, value, ok := strings.Cut(c, "="); ok && strings.TrimSpace(name) == SessionCookie {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// checkOrigin is the CSRF defence of every request that changes something: browsers
// send Origin on every cross-origin request and every same-origin POST and DELETE, so a
// state-changing request whose Origin is missing or not this site's is refused.
// SameSite=Strict on the cookie is the second line.
func checkOrigin(req apigw.Request) error {
	switch req.RequestContext.HTTP.Method {
	case http.MethodGet, http.MethodHead, "":
		return nil
	}
	if origin := apigw.Header(req, "origin"); origin == "" || origin != siteOrigin(req) {
		return errCrossSite
	}
	return nil
}

// siteOrigin is the origin the dashboard is served from: https on the API's domain,
// http on a loopback address (make local).
func siteOrigin(req apigw.Request) string {
	host := req.RequestContext.DomainName
	if host == "" {
		host = apigw.Header(req, "host")
	}
	if loopback(host) {
		return "http://" + host
	}
	return "https://" + host
}

func loopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// cookie sets (or, with an empty id, clears) the session cookie. It is Secure except on
// a loopback address, where make local serves plain http.
func cookie(req apigw.Request, id string, maxAge time.Duration) string {
	c := fmt.Sprintf("%s=%s; Path=/account; Max-Age=%d; HttpOnly; SameSite=Strict", SessionCookie, id, int(maxAge.Seconds()))
	if !loopback(req.RequestContext.DomainName) && !loopback(apigw.Header(req, "host")) {
		c += "; Secure"
	}
	return c
}

// noStore marks an account answer as never to be cached: it names a person, and some
// hold a secret.
func noStore(resp apigw.Response) apigw.Response {
	resp.Headers["Cache-Control"] = "no-store"
	return resp
}

type accountJSON struct {
	Email     string `json:"email"`
	TenantID  string `json:"tenantId"`
	CreatedAt string `json:"createdAt"`
}

func toAccountJSON(a store.Account) accountJSON {
	return accountJSON{Email: a.Email, TenantID: a.TenantID, CreatedAt: stamp(a.CreatedAt)}
}

type signInRequest struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

// maxEmailLength is the longest address SMTP carries (RFC 5321's path limit).
const maxEmailLength = 254

// readSignIn decodes and checks a sign-up or sign-in body.
func readSignIn(req apigw.Request) (email, password string, err error) {
	var body signInRequest
	if err := apigw.DecodeJSON(req, &body); err != nil {
		return "", "", err
	}
	if body.Email == nil || body.Password == nil {
		return "", "", apigw.Errorf(http.StatusBadRequest, "email and password are required")
	}
	email = strings.TrimSpace(*body.Email)
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > maxEmailLength || addr.Name != "" {
		return "", "", apigw.Errorf(http.StatusBadRequest, "email must be an address like name@example.com")
	}
	return email, *body.Password, nil
}

type accountStore interface {
	CreateAccount(ctx context.Context, email, passwordHash string) (store.Account, error)
	GetAccount(ctx context.Context, key string) (store.Account, error)
	CreateSession(ctx context.Context, id string, acct store.Account, expires time.Time) error
	signInThrottler
}

type signInThrottler interface {
	SignInThrottles(ctx context.Context, subjects ...string) ([]store.SignInThrottle, error)
	RecordSignInFailure(ctx context.Context, subject string, lock func(failures int) time.Time) (store.SignInThrottle, error)
	ResetSignInFailures(ctx context.Context, subject string) error
}

// throttle applies the failed sign-in policy to subjects, each with its free failures.
type throttle struct {
	store signInThrottler
	now   func() time.Time
}

type subject struct {
	name string
	free int
}

func accountSubject(email string) subject {
	return subject{"account:" + store.AccountKey(email), freeAccountFailures}
}

func addressSubject(req apigw.Request) subject {
	return subject{"address:" + req.RequestContext.HTTP.SourceIP, freeAddressFailures}
}

// check refuses while any subject is locked.
func (t throttle) check(ctx context.Context, subjects ...subject) ([]store.SignInThrottle, error) {
	names := make([]string, len(subjects))
	for i, s := range subjects {
		names[i] = s.name
	}
	got, err := t.store.SignInThrottles(ctx, names...)
	if err != nil {
		return nil, err
	}
	var wait time.Duration
	for _, g := range got {
		wait = max(wait, g.LockedUntil.Sub(t.now()))
	}
	if wait > 0 {
		return nil, &lockedError{max(wait, time.Second)}
	}
	return got, nil
}

// fail counts a failure against every subject.
func (t throttle) fail(ctx context.Context, subjects ...subject) error {
	for _, s := range subjects {
		lock := func(failures int) time.Time {
			if failures <= s.free {
				return time.Time{}
			}
			return t.now().Add(min(time.Second<<min(failures-s.free-1, 20), maxSignInLock))
		}
		if _, err := t.store.RecordSignInFailure(ctx, s.name, lock); err != nil {
			return err
		}
	}
	return nil
}

// startSession creates a session for acct and answers status with the account and the
// cookie.
func startSession(ctx context.Context, accounts accountStore, req apigw.Request, acct store.Account, status int, now func() time.Time) (apigw.Response, error) {
	id := auth.NewSessionID()
	if err := accounts.CreateSession(ctx, id, acct, now().Add(SessionLifetime)); err != nil {
		return fail(ctx, err)
	}
	reqlog.SetTenant(ctx, acct.TenantID)
	resp := noStore(apigw.JSON(status, toAccountJSON(acct)))
	resp.Cookies = []string{cookie(req, id, SessionLifetime)}
	return resp, nil
}

// SignUp answers POST /account/signup: a new account and its tenant, signed in. An
// email that has an account already is said so (409): without email verification a
// sign-up cannot hide it. Those answers count as failures of the caller's address, so
// that addresses cannot be enumerated faster than passwords can be guessed.
func SignUp(accounts accountStore, now func() time.Time) apigw.Handler {
	t := throttle{accounts, now}
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		if err := checkOrigin(req); err != nil {
			return fail(ctx, err)
		}
		email, password, err := readSignIn(req)
		if err != nil {
			return fail(ctx, err)
		}
		if err := auth.CheckPasswordStrength(password, email); err != nil {
			return fail(ctx, err)
		}
		address := addressSubject(req)
		if _, err := t.check(ctx, address); err != nil {
			return fail(ctx, err)
		}
		acct, err := accounts.CreateAccount(ctx, email, auth.HashPassword(password))
		if errors.Is(err, store.ErrEmailTaken) {
			if err := t.fail(ctx, address); err != nil {
				return fail(ctx, err)
			}
		}
		if err != nil {
			return fail(ctx, err)
		}
		return startSession(ctx, accounts, req, acct, http.StatusCreated, now)
	}
}

// SignIn answers POST /account/signin. Whichever of the email and the password is
// wrong, the answer is the same, and takes as long; failures lock the account and the
// address for exponentially longer (see freeAccountFailures).
func SignIn(accounts accountStore, now func() time.Time) apigw.Handler {
	t := throttle{accounts, now}
	// Checked against when no account has the email given, so that an unknown email
	// takes as long to refuse as a wrong password. Hashed once, here, at cold start:
	// only this function needs it.
	dummyHash := auth.HashPassword("no account has this email; nothing matches it")
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		if err := checkOrigin(req); err != nil {
			return fail(ctx, err)
		}
		email, password, err := readSignIn(req)
		if err != nil {
			return fail(ctx, err)
		}
		subjects := []subject{accountSubject(email), addressSubject(req)}
		throttles, err := t.check(ctx, subjects...)
		if err != nil {
			return fail(ctx, err)
		}
		acct, err := accounts.GetAccount(ctx, store.AccountKey(email))
		found, hash := err == nil, acct.PasswordHash
		if errors.Is(err, store.ErrAccountNotFound) {
			hash = dummyHash
		} else if err != nil {
			return fail(ctx, err)
		}
		// Both checks always run: an unknown email costs a hash like a wrong password.
		matches := len(password) <= auth.MaxPasswordLength && auth.PasswordMatches(password, hash)
		if !matches || !found {
			if err := t.fail(ctx, subjects...); err != nil {
				return fail(ctx, err)
			}
			return fail(ctx, errBadSignIn)
		}
		// A success forgets the account's failures, if it had any.
		if throttles[0].Failures > 0 {
			if err := accounts.ResetSignInFailures(ctx, subjects[0].name); err != nil {
				return fail(ctx, err)
			}
		}
		return startSession(ctx, accounts, req, acct, http.StatusOK, now)
	}
}

type sessionEnder interface {
	DeleteSession(ctx context.Context, id string) error
}

// SignOut answers POST /account/signout: the session ends at once, in the table, not
// only in the browser.
func SignOut(sessions sessionEnder) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		if err := checkOrigin(req); err != nil {
			return fail(ctx, err)
		}
		if id := sessionID(req); id != "" {
			if err := sessions.DeleteSession(ctx, id); err != nil {
				return fail(ctx, err)
			}
		}
		resp := noStore(apigw.JSON(http.StatusNoContent, nil))
		resp.Cookies = []string{cookie(req, "", 0)}
		return resp, nil
	}
}

type accountGetter interface {
	sessionStore
	GetAccount(ctx context.Context, key string) (store.Account, error)
}

// WhoAmI answers GET /account/me: the signed-in account.
func WhoAmI(accounts accountGetter) apigw.Handler {
	authn := sessionAuth{accounts}
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		s, err := authn.session(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		acct, err := accounts.GetAccount(ctx, s.AccountKey)
		if errors.Is(err, store.ErrAccountNotFound) {
			return fail(ctx, errNotSignedIn)
		}
		if err != nil {
			return fail(ctx, err)
		}
		return noStore(apigw.JSON(http.StatusOK, toAccountJSON(acct))), nil
	}
}

type clientJSON struct {
	ClientID     string `json:"clientId"`
	Label        string `json:"label"`
	CreatedAt    string `json:"createdAt"`
	LastUsedAt   string `json:"lastUsedAt,omitempty"`
	Status       string `json:"status"`
	RevokedAt    string `json:"revokedAt,omitempty"`
	APIKey       string `json:"apiKey,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
}

func toClientJSON(c store.ClientInfo) clientJSON {
	out := clientJSON{ClientID: c.ClientID, Label: c.Label, CreatedAt: stamp(c.CreatedAt), Status: "active"}
	if !c.LastUsedAt.IsZero() {
		out.LastUsedAt = stamp(c.LastUsedAt)
	}
	if !c.RevokedAt.IsZero() {
		out.Status, out.RevokedAt = "revoked", stamp(c.RevokedAt)
	}
	return out
}

type clientLister interface {
	ListClients(ctx context.Context, tenant string) ([]store.ClientInfo, error)
}

// ListClients answers GET /account/clients: the tenant's clients, newest first, never a
// secret.
func ListClients(authn Authenticator, clients clientLister) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		list, err := clients.ListClients(ctx, tenant)
		if err != nil {
			return fail(ctx, err)
		}
		out := struct {
			Clients []clientJSON `json:"clients"`
		}{Clients: make([]clientJSON, len(list))}
		for i, c := range list {
			out.Clients[i] = toClientJSON(c)
		}
		return noStore(apigw.JSON(http.StatusOK, out)), nil
	}
}

type clientCreator interface {
	CreateClient(ctx context.Context, tenant string, creds auth.Credentials, label string) (store.ClientInfo, error)
}

// maxLabelLength is the longest client label, in characters.
const maxLabelLength = 64

// CreateClient answers POST /account/clients {"label"}: new client credentials, shown in
// this answer and never again (only their digests are stored).
func CreateClient(authn Authenticator, clients clientCreator) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		var body struct {
			Label *string `json:"label"`
		}
		if err := apigw.DecodeJSON(req, &body); err != nil {
			return fail(ctx, err)
		}
		label, err := cleanName("label", body.Label)
		if err != nil {
			return fail(ctx, err)
		}
		if len([]rune(label)) > maxLabelLength {
			return fail(ctx, apigw.Errorf(http.StatusBadRequest, "label must be at most %d characters", maxLabelLength))
		}
		creds := auth.NewCredentials()
		c, err := clients.CreateClient(ctx, tenant, creds, label)
		if err != nil {
			return fail(ctx, err)
		}
		out := toClientJSON(c)
		out.APIKey, out.ClientSecret = creds.APIKey, creds.ClientSecret
		return noStore(apigw.JSON(http.StatusCreated, out)), nil
	}
}

type clientRevoker interface {
	RevokeTenantClient(ctx context.Context, tenant, clientID string) error
}

// RevokeClient answers DELETE /account/clients/{clientId}: the client gets no more
// tokens. Tokens it holds stay valid until they expire (at most auth.TokenTTL): the
// game API verifies a token by its signature alone, with no read per request.
func RevokeClient(authn Authenticator, clients clientRevoker) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		tenant, err := authn.Authenticate(ctx, req)
		if err != nil {
			return fail(ctx, err)
		}
		id := req.PathParameters["clientId"]
		if !auth.ValidClientID(id) {
			return fail(ctx, store.ErrClientNotFound)
		}
		if err := clients.RevokeTenantClient(ctx, tenant, id); err != nil {
			return fail(ctx, err)
		}
		return noStore(apigw.JSON(http.StatusNoContent, nil)), nil
	}
}
