package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// errInvalidCredentials is the one answer for any bad credential, so that a caller
// cannot learn which part was wrong.
var errInvalidCredentials = errors.New("invalid credentials")

type clientGetter interface {
	GetClient(ctx context.Context, clientID string) (store.Client, error)
	TouchClient(ctx context.Context, tenant, clientID string) error
}

type tokenIssuer interface {
	Issue(ctx context.Context, c auth.Claims) (token string, expiresIn int, err error)
}

// dummyDigest is compared against when the client does not exist, so that an unknown
// client id takes as long to refuse as a wrong secret.
var dummyDigest = auth.Digest("no such client")

// Token answers GET /v1/token: client credentials in, a short-lived token out, with no
// limit of its own (see LimitedToken).
func Token(clients clientGetter, tokens tokenIssuer) apigw.Handler {
	return LimitedToken(clients, tokens, unlimited{}, nil)
}

type addressLimiter interface {
	Allow(key string) (ok bool, retryAfter time.Duration)
}

// unlimited is the quota of a Token without limits.
type unlimited struct{}

func (unlimited) Allow(ctx context.Context, tenant string, class quota.Class) error { return nil }

// LimitedToken is Token within limits: each source address first, in this instance's
// memory (a flood of junk credentials costs no table read), then, once the credentials
// are good, the tenant's token quota.
func LimitedToken(clients clientGetter, tokens tokenIssuer, quotas limiter, addresses addressLimiter) apigw.Handler {
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		if addresses != nil {
			if ok, wait := addresses.Allow(req.RequestContext.HTTP.SourceIP); !ok {
				return fail(ctx, &addressLimitedError{wait})
			}
		}
		apiKey := apigw.Header(req, "x-api-key")
		clientID := apigw.Header(req, "x-client-id")
		secret := apigw.Header(req, "x-client-secret")
		if apiKey == "" || secret == "" || !auth.ValidClientID(clientID) {
			return fail(ctx, errInvalidCredentials)
		}
		client, err := clients.GetClient(ctx, clientID)
		if errors.Is(err, store.ErrClientNotFound) {
			client = store.Client{APIKeyDigest: dummyDigest, SecretDigest: dummyDigest, Revoked: true}
		} else if err != nil {
			return fail(ctx, err)
		}
		// Both comparisons always run: no early exit to time.
		keyOK := auth.DigestMatches(apiKey, client.APIKeyDigest)
		secretOK := auth.DigestMatches(secret, client.SecretDigest)
		if !keyOK || !secretOK || client.Revoked {
			return fail(ctx, errInvalidCredentials)
		}
		reqlog.SetTenant(ctx, client.TenantID)
		if err := quotas.Allow(ctx, client.TenantID, quota.Token); err != nil {
			return fail(ctx, err)
		}
		token, expiresIn, err := tokens.Issue(ctx, auth.Claims{TenantID: client.TenantID, ClientID: client.ClientID})
		if err != nil {
			return fail(ctx, err)
		}
		// "Last used" on the dashboard: worth a write every few minutes, not a failed token.
		if err := clients.TouchClient(ctx, client.TenantID, client.ClientID); err != nil {
			logCause(ctx, err)
		}
		resp := apigw.JSON(http.StatusOK, struct {
			AuthToken string `json:"authToken"`
			ExpiresIn int    `json:"expiresIn"`
		}{token, expiresIn})
		// A token is a credential: no cache may keep it (RFC 6749 section 5.1).
		resp.Headers["Cache-Control"] = "no-store"
		return resp, nil
	}
}
