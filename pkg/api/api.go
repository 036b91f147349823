// Package api owns the behaviour of every endpoint: each handler is built by a maker
// function from the dependencies it needs, so the Lambda functions, the local server
// and the tests all run the very same code.
package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// errNotAuthorized is any failure to present a valid bearer token.
var errNotAuthorized = errors.New("not authorized")

// fail is the one place where an error becomes an HTTP status and a message written for
// the client. Anything it does not recognise is a 500 whose detail only goes to the log.
func fail(ctx context.Context, err error) (apigw.Response, error) {
	var problem *apigw.Problem
	var unknown *store.UnknownTeamsError
	var notMembers *store.NotMembersError
	var outOfRange *store.OutOfRangeError
	if resp, ok := accountFailure(err); ok {
		return resp, nil
	}
	if resp, ok := quotaFailure(err); ok {
		return resp, nil
	}
	switch {
	case errors.As(err, &problem):
		return apigw.Message(problem.Status, problem.Message), nil
	case errors.Is(err, errNotAuthorized):
		return apigw.Message(http.StatusUnauthorized, "Not Authorized"), nil
	case errors.Is(err, errInvalidCredentials):
		return apigw.Message(http.StatusUnauthorized, "Invalid Credentials"), nil
	case errors.Is(err, cursor.ErrInvalid):
		return apigw.Message(http.StatusBadRequest, "invalid cursor"), nil
	case errors.As(err, &unknown):
		return apigw.Message(http.StatusBadRequest, "unknown teams: "+strings.Join(unknown.IDs, ", ")), nil
	case errors.As(err, &notMembers):
		return apigw.Message(http.StatusBadRequest, "teams not on this leaderboard: "+strings.Join(notMembers.IDs, ", ")), nil
	case errors.As(err, &outOfRange):
		return apigw.Message(http.StatusBadRequest, fmt.Sprintf("team %s would score %d, outside this leaderboard's range %d to %d",
			outOfRange.TeamID, outOfRange.Score, outOfRange.Min, outOfRange.Max)), nil
	case errors.Is(err, store.ErrIdempotencyKeyReused):
		return apigw.Message(http.StatusUnprocessableEntity, "this Idempotency-Key was used for a different request"), nil
	case errors.Is(err, store.ErrNotRanked):
		return apigw.Message(http.StatusNotFound, "team has no score on this leaderboard"), nil
	case errors.Is(err, store.ErrConflict):
		return apigw.Message(http.StatusConflict, "too many concurrent updates of the same data; try again"), nil
	case errors.Is(err, store.ErrOutcomeUnknown):
		logCause(ctx, err)
		return retryLater(http.StatusServiceUnavailable,
			"the database did not say whether this write was applied; repeat it with the same Idempotency-Key to be safe"), nil
	case errors.Is(err, store.ErrThrottled) || store.Throttled(err):
		logCause(ctx, err)
		return retryLater(http.StatusTooManyRequests, "this leaderboard is taking more writes than the database allows; nothing was written, try again shortly"), nil
	case errors.Is(err, store.ErrBusy):
		logCause(ctx, err)
		return retryLater(http.StatusServiceUnavailable, "this leaderboard is too busy right now; nothing was written, try again shortly"), nil
	case errors.Is(err, auth.ErrNoSigningKey):
		// This instance looks for a usable key again after auth.KeyRecheckInterval.
		logCause(ctx, err)
		return retryIn(http.StatusServiceUnavailable, "no token can be issued right now: the signing key is retired and no new one is in place yet; try again later",
			int(auth.KeyRecheckInterval/time.Second)), nil
	case errors.Is(err, store.ErrTeamNotFound):
		return apigw.Message(http.StatusNotFound, "team not found"), nil
	case errors.Is(err, store.ErrLeaderboardNotFound):
		return apigw.Message(http.StatusNotFound, "leaderboard not found"), nil
	default:
		// Returned to apigw.WithRequestLog, which logs it and answers a generic 500.
		return apigw.Response{}, err
	}
}

// retryLater answers status with a Retry-After header: the request did nothing, and the
// same request may succeed shortly.
func retryLater(status int, msg string) apigw.Response { return retryIn(status, msg, 1) }

// retryIn answers status with a Retry-After of secs seconds.
func retryIn(status int, msg string, secs int) apigw.Response {
	resp := apigw.Message(status, msg)
	resp.Headers["Retry-After"] = fmt.Sprint(secs)
	return resp
}

// logCause records, for an answer the client can act on, the error behind it.
func logCause(ctx context.Context, err error) { reqlog.SetCause(ctx, err) }

// Authenticator finds the caller's tenant in a request. The game API and the dashboard
// authenticate differently (a bearer token, a session cookie) and never accept each
// other's credential; the handlers they share do not care which.
type Authenticator interface {
	Authenticate(ctx context.Context, req apigw.Request) (tenant string, err error)
}

type tokenVerifier interface {
	Verify(ctx context.Context, token string) (auth.Claims, error)
}

// Bearer authenticates the game API: `Authorization: Bearer <token>`, nothing else.
func Bearer(v tokenVerifier) Authenticator { return bearer{v} }

type bearer struct{ v tokenVerifier }

// Authenticate returns the caller's tenant from its bearer token.
func (b bearer) Authenticate(ctx context.Context, req apigw.Request) (string, error) {
	scheme, token, ok := strings.Cut(apigw.Header(req, "authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", errNotAuthorized
	}
	claims, err := b.v.Verify(ctx, strings.TrimSpace(token))
	if errors.Is(err, auth.ErrInvalidToken) {
		return "", errNotAuthorized
	}
	if err != nil {
		return "", err
	}
	reqlog.SetTenant(ctx, claims.TenantID)
	return claims.TenantID, nil
}

// maxNameLength is the longest team or leaderboard name, in characters.
const maxNameLength = 128

// cleanName validates a user-given name and returns it as it is stored: trimmed, in
// Unicode's composed form (NFC, so that "é" typed as e + U+0301 and as U+00E9 is one
// name, and counts as one character), 1-128 characters, without control characters or
// invisible format characters (Unicode's category Cf: the bidi overrides such as U+202E
// that make text display in another order than it reads, U+200B ZERO WIDTH SPACE,
// U+FEFF). Of those, the zero-width joiner and non-joiner are allowed between two
// visible characters, where emoji sequences and scripts such as Persian and Devanagari
// need them.
func cleanName(field string, s *string) (string, error) {
	if s == nil {
		return "", apigw.Errorf(http.StatusBadRequest, "%s is required", field)
	}
	name := strings.TrimSpace(norm.NFC.String(*s))
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", apigw.Errorf(http.StatusBadRequest, "%s must not be empty", field)
	case n > maxNameLength:
		return "", apigw.Errorf(http.StatusBadRequest, "%s must be at most %d characters", field, maxNameLength)
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return "", apigw.Errorf(http.StatusBadRequest, "%s must not contain control characters", field)
	}
	runes := []rune(name)
	visible := func(i int) bool {
		return i >= 0 && i < len(runes) && unicode.In(runes[i], unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
	}
	for i, r := range runes {
		joiner := r == '\u200c' || r == '\u200d' // ZERO WIDTH NON-JOINER, ZERO WIDTH JOINER
		if unicode.Is(unicode.Cf, r) && !(joiner && visible(i-1) && visible(i+1)) {
			return "", apigw.Errorf(http.StatusBadRequest, "%s must not contain invisible formatting characters (it has U+%04X)", field, r)
		}
	}
	return name, nil
}

// stamp is how every timestamp is shown: RFC 3339, UTC, milliseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
