package api_test

// The fuzz targets of this package run the handlers against fuzzStore, an in-memory
// stand-in for every store interface the maker functions take, so that they need no
// DynamoDB and run tens of thousands of requests a second. It answers as the store
// would: plausible data, or one of the sentinel errors the real method returns, chosen
// by the input's outcome bytes. It also holds the handlers to what they promise the
// store: only the authenticated tenant, and only input they have validated.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// What the fuzz targets' fixed world holds. The clock is fixed so that the token and
// cursors in committed seeds stay valid.
var (
	fuzzNow      = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	fuzzClock    = func() time.Time { return fuzzNow }
	fuzzTenant   = "01JTENANT0000000000000000A"
	fuzzTeam     = "01J00000000000000000000000"
	fuzzBoard    = "01J00000000000000000000001"
	fuzzSession  = strings.Repeat("S", 43)
	fuzzEmail    = "player@example.com"
	fuzzPassword = "correct horse battery staple"
	fuzzSite     = "abc123.execute-api.us-east-1.amazonaws.com"
	fuzzCreds    = auth.Credentials{
		APIKey:       auth.APIKeyPrefix + strings.Repeat("K", 43),
		ClientID:     auth.ClientIDPrefix + strings.Repeat("C", 22),
		ClientSecret: auth.ClientSecretPrefix + strings.Repeat("Z", 43),
	}
	fuzzCursors = cursor.New([]byte(strings.Repeat("c", cursor.KeySize)))
)

// fuzzSigningKey signs the one valid token of the fuzz targets, fuzzToken().
var fuzzSigningKey = func() auth.SigningKey {
	k, err := auth.KeyFromSeed([]byte(strings.Repeat("f", 64)))
	if err != nil {
		panic(err)
	}
	return k
}()

// fuzzToken is a token for fuzzTenant, valid at fuzzNow. Ed25519 signatures are
// deterministic, so it is the same string on every run.
func fuzzToken() string {
	tok, _, err := auth.NewSigner(fuzzSigningKey, fuzzClock).Issue(context.Background(), auth.Claims{TenantID: fuzzTenant, ClientID: fuzzCreds.ClientID})
	if err != nil {
		panic(err)
	}
	return tok
}

// fuzzPasswordHash is fuzzEmail's password hash, hashed once (it costs 20 ms) and only
// by a target that signs in.
var fuzzPasswordHash = sync.OnceValue(func() string { return auth.HashPassword(fuzzPassword) })

// fuzzVerifier checks tokens at fuzzNow against the fuzz signing key.
func fuzzVerifier() *auth.Verifier {
	return auth.NewVerifier(auth.KeySet{fuzzSigningKey.ID: fuzzSigningKey.Public()}, func() time.Time { return fuzzNow.Add(time.Minute) })
}

// fuzzShareDynamoDB hands this process's DynamoDB Local to the fuzzing workers that
// `go test -fuzz` starts from it. The targets here need no database, but every test
// binary of this package runs testdb.Main, which would otherwise start a DynamoDB Local
// in each worker, taking the first seconds (under load, all) of -fuzztime.
func fuzzShareDynamoDB(f *testing.F) {
	f.Setenv("DYNAMODB_ENDPOINT", testdb.Endpoint())
}

// fuzzAllow authenticates every request as fuzzTenant, for the targets that fuzz what
// comes after authentication.
type fuzzAllow struct{}

func (fuzzAllow) Authenticate(context.Context, apigw.Request) (string, error) { return fuzzTenant, nil }

var _ api.Authenticator = fuzzAllow{}

// Outcomes the fake turns into results rather than errors.
var (
	errFuzzNotDone = errors.New("fuzz: delete not done") // done=false, err=nil
	errFuzzLocked  = errors.New("fuzz: sign-ins locked") // a throttle locked for a while
)

type fuzzStore struct {
	t        *testing.T
	outcomes []byte
	seen     []string // the tenants the handlers passed in
}

func newFuzzStore(t *testing.T, outcomes []byte) *fuzzStore {
	return &fuzzStore{t: t, outcomes: outcomes}
}

// next decides what the next store call does: the next outcome byte b picks success
// (b % (len(errs)+1) == 0) or one of errs, the errors that the real method returns and
// that the API answers without a 500. Once the bytes run out, every call succeeds.
func (s *fuzzStore) next(errs ...error) error {
	if len(s.outcomes) == 0 {
		return nil
	}
	b := s.outcomes[0]
	s.outcomes = s.outcomes[1:]
	if i := int(b) % (len(errs) + 1); i > 0 {
		return errs[i-1]
	}
	return nil
}

// tenant checks that a handler passes the store the caller's tenant and nobody else's.
func (s *fuzzStore) tenant(got string) {
	s.t.Helper()
	if got != fuzzTenant {
		s.t.Fatalf("the store was asked about tenant %q, the caller is %q", got, fuzzTenant)
	}
}

func (s *fuzzStore) invalid(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("the handler passed the store unvalidated input: "+format, args...)
}

// name checks a team or leaderboard name as cleanName promises it.
func (s *fuzzStore) name(name string) {
	s.t.Helper()
	if n := utf8.RuneCountInString(name); n < 1 || n > 128 || name != strings.TrimSpace(name) || strings.ContainsFunc(name, unicode.IsControl) {
		s.invalid("name %q", name)
	}
}

func (s *fuzzStore) teamList(teams []string, min int) {
	s.t.Helper()
	if teams == nil || len(teams) < min || len(teams) > store.MaxTeamsPerWrite {
		s.invalid("%d teams", len(teams))
	}
	sorted := slices.Clone(teams)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(teams) {
		s.invalid("repeated teams %q", teams)
	}
}

func (s *fuzzStore) page(limit int) {
	s.t.Helper()
	if limit < 1 || limit > 100 {
		s.invalid("limit %d", limit)
	}
}

func (s *fuzzStore) team(id, name string) store.Team {
	return store.Team{ID: id, Name: name, CreatedAt: fuzzNow.Add(-time.Hour), ModifiedAt: fuzzNow}
}

func (s *fuzzStore) board(id, name string, settings store.Settings) store.Leaderboard {
	if settings.SortOrder == "" {
		settings = store.Settings{SortOrder: store.SortDescending, ScoreOperator: store.OperatorBest, RankMode: store.RankOrdinal}
	}
	return store.Leaderboard{ID: id, Name: name, Settings: settings, MemberCount: 3, CreatedAt: fuzzNow.Add(-time.Hour), ModifiedAt: fuzzNow}
}

func (s *fuzzStore) ranked(n int) []store.Ranked {
	out := make([]store.Ranked, n)
	for i := range out {
		out[i] = store.Ranked{Rank: int64(i + 1), TeamID: fmt.Sprintf("01J%023d", i), TeamName: fmt.Sprintf("Team \u00e9 %d", i), Score: int64(1000 - i), UpdatedAt: fuzzNow}
	}
	return out
}

// Teams.

func (s *fuzzStore) CreateTeam(_ context.Context, tenant, name string) (store.Team, error) {
	s.tenant(tenant)
	s.name(name)
	if err := s.next(store.ErrConflict, store.ErrThrottled); err != nil {
		return store.Team{}, err
	}
	return s.team(fuzzTeam, name), nil
}

func (s *fuzzStore) GetTeam(_ context.Context, tenant, id string) (store.Team, error) {
	s.tenant(tenant)
	if err := s.next(store.ErrTeamNotFound, store.ErrThrottled); err != nil {
		return store.Team{}, err
	}
	if !store.ValidID(id) {
		return store.Team{}, store.ErrTeamNotFound
	}
	return s.team(id, "Reds"), nil
}

func (s *fuzzStore) RenameTeam(_ context.Context, tenant, id, name string) (store.Team, error) {
	s.tenant(tenant)
	s.name(name)
	if err := s.next(store.ErrTeamNotFound, store.ErrConflict); err != nil {
		return store.Team{}, err
	}
	if !store.ValidID(id) {
		return store.Team{}, store.ErrTeamNotFound
	}
	return s.team(id, name), nil
}

func (s *fuzzStore) DeleteTeam(_ context.Context, tenant, id string) (bool, error) {
	s.tenant(tenant)
	err := s.next(store.ErrTeamNotFound, store.ErrUnfinished, errFuzzNotDone, store.ErrConflict)
	if errors.Is(err, errFuzzNotDone) {
		return false, nil
	}
	return err == nil, err
}

func (s *fuzzStore) ListTeams(_ context.Context, tenant string, limit int, after string) ([]store.Team, string, error) {
	s.tenant(tenant)
	s.page(limit)
	if after != "" && !store.ValidID(after) {
		s.invalid("after %q", after)
	}
	if err := s.next(store.ErrThrottled); err != nil {
		return nil, "", err
	}
	n := min(limit, 3)
	teams := make([]store.Team, n)
	for i := range teams {
		teams[i] = s.team(fmt.Sprintf("01J%023d", i), fmt.Sprintf("Team %d", i))
	}
	next := ""
	if n == limit {
		next = teams[n-1].ID
	}
	return teams, next, nil
}

// Leaderboards.

func (s *fuzzStore) CreateLeaderboard(_ context.Context, tenant, name string, settings store.Settings, teams []string) (store.Leaderboard, error) {
	s.tenant(tenant)
	s.name(name)
	s.teamList(teams, 0)
	if !slices.Contains([]string{store.SortDescending, store.SortAscending}, settings.SortOrder) ||
		!slices.Contains([]string{store.OperatorBest, store.OperatorSet, store.OperatorIncrement}, settings.ScoreOperator) ||
		!slices.Contains([]string{store.RankOrdinal, store.RankCompetition}, settings.RankMode) {
		s.invalid("settings %+v", settings)
	}
	for _, bound := range []*int64{settings.MinScore, settings.MaxScore} {
		if bound != nil && (*bound > api.MaxScore || *bound < -api.MaxScore) {
			s.invalid("score bound %d", *bound)
		}
	}
	if settings.MinScore != nil && settings.MaxScore != nil && *settings.MinScore > *settings.MaxScore {
		s.invalid("minScore %d > maxScore %d", *settings.MinScore, *settings.MaxScore)
	}
	unknown := store.ErrTeamNotFound
	if len(teams) > 0 {
		unknown = &store.UnknownTeamsError{IDs: teams[:1]}
	}
	if err := s.next(unknown, store.ErrConflict); err != nil {
		return store.Leaderboard{}, err
	}
	b := s.board(fuzzBoard, name, settings)
	b.Teams, b.MemberCount = teams, len(teams)
	return b, nil
}

func (s *fuzzStore) GetLeaderboard(_ context.Context, tenant, id string) (store.Leaderboard, error) {
	s.tenant(tenant)
	if err := s.next(store.ErrLeaderboardNotFound); err != nil {
		return store.Leaderboard{}, err
	}
	if !store.ValidID(id) {
		return store.Leaderboard{}, store.ErrLeaderboardNotFound
	}
	min, max := int64(-10), int64(api.MaxScore)
	return s.board(id, "Season 1", store.Settings{SortOrder: store.SortAscending, ScoreOperator: store.OperatorIncrement, RankMode: store.RankCompetition, MinScore: &min, MaxScore: &max}), nil
}

func (s *fuzzStore) RenameLeaderboard(_ context.Context, tenant, id, name string) (store.Leaderboard, error) {
	s.tenant(tenant)
	s.name(name)
	if err := s.next(store.ErrLeaderboardNotFound, store.ErrConflict); err != nil {
		return store.Leaderboard{}, err
	}
	if !store.ValidID(id) {
		return store.Leaderboard{}, store.ErrLeaderboardNotFound
	}
	return s.board(id, name, store.Settings{}), nil
}

func (s *fuzzStore) ListLeaderboards(_ context.Context, tenant string, limit int, after string) ([]store.Leaderboard, string, error) {
	s.tenant(tenant)
	s.page(limit)
	if after != "" && !store.ValidID(after) {
		s.invalid("after %q", after)
	}
	if err := s.next(store.ErrThrottled); err != nil {
		return nil, "", err
	}
	n := min(limit, 2)
	boards := make([]store.Leaderboard, n)
	for i := range boards {
		boards[i] = s.board(fmt.Sprintf("01J%023d", i), fmt.Sprintf("Board %d", i), store.Settings{})
	}
	next := ""
	if n == limit {
		next = boards[n-1].ID
	}
	return boards, next, nil
}

func (s *fuzzStore) DeleteLeaderboard(_ context.Context, tenant, id string) (bool, error) {
	s.tenant(tenant)
	err := s.next(store.ErrLeaderboardNotFound, store.ErrUnfinished, errFuzzNotDone, store.ErrConflict)
	if errors.Is(err, errFuzzNotDone) {
		return false, nil
	}
	return err == nil, err
}

// Members, scores and rankings.

func (s *fuzzStore) AddTeams(_ context.Context, tenant, board string, teams []string) error {
	s.tenant(tenant)
	s.teamList(teams, 1)
	return s.next(store.ErrLeaderboardNotFound, &store.UnknownTeamsError{IDs: teams}, store.ErrConflict, store.ErrThrottled)
}

func (s *fuzzStore) RemoveTeam(_ context.Context, tenant, board, team string) error {
	s.tenant(tenant)
	return s.next(store.ErrLeaderboardNotFound, store.ErrTeamNotFound, store.ErrConflict)
}

func (s *fuzzStore) SubmitScores(_ context.Context, tenant, board string, subs []store.Submission, key string) ([]store.Ranked, error) {
	s.tenant(tenant)
	if len(subs) < 1 || len(subs) > 100 {
		s.invalid("%d submissions", len(subs))
	}
	for _, sub := range subs {
		if sub.Score > api.MaxScore || sub.Score < -api.MaxScore || !slices.Contains([]string{"", store.OperatorBest, store.OperatorSet, store.OperatorIncrement}, sub.Operator) {
			s.invalid("submission %+v", sub)
		}
	}
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		s.invalid("Idempotency-Key %q", key)
	}
	ids := make([]string, len(subs))
	for i, sub := range subs {
		ids[i] = sub.TeamID
	}
	if err := s.next(store.ErrLeaderboardNotFound, &store.NotMembersError{IDs: ids},
		&store.OutOfRangeError{TeamID: subs[0].TeamID, Score: subs[0].Score, Min: -10, Max: 10},
		store.ErrIdempotencyKeyReused, store.ErrConflict, store.ErrThrottled); err != nil {
		return nil, err
	}
	out := make([]store.Ranked, len(subs))
	for i, sub := range subs {
		out[i] = store.Ranked{Rank: int64(i + 1), TeamID: sub.TeamID, Score: sub.Score}
	}
	return out, nil
}

func (s *fuzzStore) Rankings(_ context.Context, tenant, board string, limit int, after string) ([]store.Ranked, string, error) {
	s.tenant(tenant)
	s.page(limit)
	if err := s.next(store.ErrLeaderboardNotFound, store.ErrThrottled); err != nil {
		return nil, "", err
	}
	if !store.ValidID(board) {
		return nil, "", store.ErrLeaderboardNotFound
	}
	page := s.ranked(min(limit, 3))
	next := ""
	if len(page) == limit {
		// A rankings position is the store's own bytes, not an id.
		next = after + "\x00\xff" + page[len(page)-1].TeamID
		if len(next) > cursor.MaxPosition {
			next = next[len(next)-cursor.MaxPosition:]
		}
	}
	return page, next, nil
}

func (s *fuzzStore) TeamRank(_ context.Context, tenant, board, team string, around int) (store.Ranked, []store.Ranked, error) {
	s.tenant(tenant)
	if around < 0 || around > store.MaxAround {
		s.invalid("around %d", around)
	}
	if err := s.next(store.ErrLeaderboardNotFound, store.ErrTeamNotFound, store.ErrNotRanked); err != nil {
		return store.Ranked{}, nil, err
	}
	if !store.ValidID(board) {
		return store.Ranked{}, nil, store.ErrLeaderboardNotFound
	}
	if !store.ValidID(team) {
		return store.Ranked{}, nil, store.ErrNotRanked
	}
	entry := store.Ranked{Rank: 7, TeamID: team, TeamName: "Reds", Score: 120, UpdatedAt: fuzzNow}
	return entry, s.ranked(min(2*around, 5)), nil
}

// Clients and tokens.

// fuzzClientID is the shape of every client id auth.NewCredentials makes: what
// auth.ValidClientID lets through to the table.
var fuzzClientID = regexp.MustCompile(`^lb_cid_[A-Za-z0-9_-]{22}$`)

func (s *fuzzStore) GetClient(_ context.Context, clientID string) (store.Client, error) {
	if !fuzzClientID.MatchString(clientID) {
		s.invalid("client id %q", clientID)
	}
	if err := s.next(store.ErrClientNotFound, store.ErrThrottled); err != nil {
		return store.Client{}, err
	}
	if clientID != fuzzCreds.ClientID {
		return store.Client{}, store.ErrClientNotFound
	}
	return store.Client{ClientID: clientID, TenantID: fuzzTenant, APIKeyDigest: auth.Digest(fuzzCreds.APIKey), SecretDigest: auth.Digest(fuzzCreds.ClientSecret)}, nil
}

func (s *fuzzStore) TouchClient(_ context.Context, tenant, clientID string) error {
	s.tenant(tenant)
	return s.next(store.ErrConflict)
}

// Accounts and sessions.

func (s *fuzzStore) CreateAccount(_ context.Context, email, passwordHash string) (store.Account, error) {
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 || !strings.HasPrefix(passwordHash, "$argon2id$") {
		s.invalid("account %q", email)
	}
	if err := s.next(store.ErrEmailTaken); err != nil {
		return store.Account{}, err
	}
	return store.Account{Key: store.AccountKey(email), Email: email, TenantID: fuzzTenant, PasswordHash: passwordHash, CreatedAt: fuzzNow}, nil
}

func (s *fuzzStore) GetAccount(_ context.Context, key string) (store.Account, error) {
	if _, err := hex.DecodeString(key); err != nil || len(key) != 64 {
		s.invalid("account key %q", key)
	}
	if err := s.next(store.ErrAccountNotFound, store.ErrThrottled); err != nil {
		return store.Account{}, err
	}
	if key != store.AccountKey(fuzzEmail) {
		return store.Account{}, store.ErrAccountNotFound
	}
	return store.Account{Key: key, Email: fuzzEmail, TenantID: fuzzTenant, PasswordHash: fuzzPasswordHash(), CreatedAt: fuzzNow}, nil
}

func (s *fuzzStore) CreateSession(_ context.Context, id string, acct store.Account, expires time.Time) error {
	s.tenant(acct.TenantID)
	if id == "" || !expires.After(fuzzNow) {
		s.invalid("session %q until %s", id, expires)
	}
	return s.next(store.ErrThrottled)
}

func (s *fuzzStore) SignInThrottles(_ context.Context, subjects ...string) ([]store.SignInThrottle, error) {
	out := make([]store.SignInThrottle, len(subjects))
	switch err := s.next(errFuzzLocked, store.ErrThrottled); {
	case errors.Is(err, errFuzzLocked):
		out[len(out)-1] = store.SignInThrottle{Failures: 30, LockedUntil: fuzzNow.Add(90 * time.Second)}
	case err != nil:
		return nil, err
	}
	return out, nil
}

func (s *fuzzStore) RecordSignInFailure(_ context.Context, subject string, lock func(failures int) time.Time) (store.SignInThrottle, error) {
	failures := 1
	if len(s.outcomes) > 0 {
		failures = int(s.outcomes[0])
	}
	if err := s.next(store.ErrThrottled); err != nil {
		return store.SignInThrottle{}, err
	}
	return store.SignInThrottle{Failures: failures, LockedUntil: lock(failures)}, nil
}

func (s *fuzzStore) ResetSignInFailures(context.Context, string) error {
	return s.next(store.ErrThrottled)
}

func (s *fuzzStore) GetSession(_ context.Context, id string) (store.Session, error) {
	if id == "" {
		s.invalid("empty session id")
	}
	if err := s.next(store.ErrSessionNotFound, store.ErrThrottled); err != nil {
		return store.Session{}, err
	}
	if id != fuzzSession {
		return store.Session{}, store.ErrSessionNotFound
	}
	return store.Session{AccountKey: store.AccountKey(fuzzEmail), TenantID: fuzzTenant, ExpiresAt: fuzzNow.Add(time.Hour)}, nil
}

func (s *fuzzStore) DeleteSession(_ context.Context, id string) error {
	if id == "" {
		s.invalid("empty session id")
	}
	return s.next(store.ErrThrottled)
}

func (s *fuzzStore) ListClients(_ context.Context, tenant string) ([]store.ClientInfo, error) {
	s.tenant(tenant)
	if err := s.next(store.ErrThrottled); err != nil {
		return nil, err
	}
	return []store.ClientInfo{
		{ClientID: fuzzCreds.ClientID, Label: "server", CreatedAt: fuzzNow, LastUsedAt: fuzzNow},
		{ClientID: auth.ClientIDPrefix + strings.Repeat("R", 22), Label: "old \u2603", CreatedAt: fuzzNow, RevokedAt: fuzzNow},
	}, nil
}

func (s *fuzzStore) CreateClient(_ context.Context, tenant string, creds auth.Credentials, label string) (store.ClientInfo, error) {
	s.tenant(tenant)
	s.name(label)
	if utf8.RuneCountInString(label) > 64 || !auth.ValidClientID(creds.ClientID) {
		s.invalid("client %q %q", label, creds.ClientID)
	}
	if err := s.next(store.ErrTooManyClients, store.ErrThrottled); err != nil {
		return store.ClientInfo{}, err
	}
	return store.ClientInfo{ClientID: creds.ClientID, Label: label, CreatedAt: fuzzNow}, nil
}

func (s *fuzzStore) RevokeTenantClient(_ context.Context, tenant, clientID string) error {
	s.tenant(tenant)
	if !fuzzClientID.MatchString(clientID) {
		s.invalid("client id %q", clientID)
	}
	return s.next(store.ErrClientNotFound, store.ErrThrottled)
}

func (s *fuzzStore) Ping(context.Context) error { return nil }

// fuzzAnswer fails the input unless resp is an answer the API may give whatever the
// request: no handler error (in Lambda, a 500), no 5xx, the JSON Content-Type, no body
// on a 204, valid JSON on any other 2xx, and on a 4xx exactly {"message": "<text>"}.
func fuzzAnswer(t *testing.T, resp apigw.Response, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("handler error, a 500 in Lambda: %v", err)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		t.Fatalf("status %d with Content-Type %q: %s", resp.StatusCode, ct, resp.Body)
	}
	fuzzStatusAndBody(t, resp.StatusCode, resp.Body)
	if (resp.StatusCode == 429 || resp.StatusCode == 503) && resp.Headers["Retry-After"] == "" {
		t.Fatalf("%d without Retry-After", resp.StatusCode)
	}
}

// fuzzStatusAndBody is the status and body rule of fuzzAnswer.
func fuzzStatusAndBody(t *testing.T, status int, body string) {
	t.Helper()
	switch {
	case status < 200 || status >= 500:
		t.Fatalf("status %d: %s", status, body)
	case status == 204:
		if body != "" {
			t.Fatalf("204 with body %q", body)
		}
	case status >= 400:
		var msg map[string]json.RawMessage
		var text string
		if err := json.Unmarshal([]byte(body), &msg); err != nil || len(msg) != 1 || json.Unmarshal(msg["message"], &text) != nil || strings.TrimSpace(text) == "" {
			t.Fatalf("status %d with body %q, want {\"message\": \"...\"}", status, body)
		}
	case status >= 300:
		t.Fatalf("status %d: %s", status, body)
	default:
		if !json.Valid([]byte(body)) {
			t.Fatalf("status %d with body %q, not JSON", status, body)
		}
	}
}

// fuzzRequest is the event HTTP API sends for method and path parameters, from the
// dashboard's own site as the account endpoints need.
func fuzzRequest(method string, params map[string]string, query map[string]string, headers map[string]string, body string) apigw.Request {
	req := apigw.Request{
		Version: "2.0", RouteKey: method + " /fuzz", RawPath: "/fuzz",
		Headers: map[string]string{"host": fuzzSite, "origin": "https://" + fuzzSite}, Body: body,
		PathParameters: params, QueryStringParameters: query,
	}
	for k, v := range headers {
		req.Headers[k] = v
	}
	req.RequestContext.RequestID = "fuzz-request"
	req.RequestContext.DomainName = fuzzSite
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.SourceIP = "198.51.100.1"
	return req
}
