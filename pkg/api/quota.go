package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

type limiter interface {
	Allow(ctx context.Context, tenant string, class quota.Class) error
}

// Limited holds every caller that authn lets in to its tenant's quota for class:
// authentication first (so that one tenant's quota is never spent by another's
// requests), then one token of the tenant's bucket.
func Limited(authn Authenticator, quotas limiter, class quota.Class) Authenticator {
	return limited{authn, quotas, class}
}

type limited struct {
	authn  Authenticator
	quotas limiter
	class  quota.Class
}

func (l limited) Authenticate(ctx context.Context, req apigw.Request) (string, error) {
	tenant, err := l.authn.Authenticate(ctx, req)
	if err != nil {
		return "", err
	}
	if err := l.quotas.Allow(ctx, tenant, l.class); err != nil {
		return "", err
	}
	return tenant, nil
}

// addressLimitedError says a source address sent more unauthenticated requests than
// this instance takes from one address.
type addressLimitedError struct{ retryAfter time.Duration }

func (e *addressLimitedError) Error() string {
	return fmt.Sprintf("address over its limit for %s", e.retryAfter)
}

// quotaFailure answers an *quota.OverQuotaError: 429, with Retry-After and the IETF
// draft's RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers),
// naming the class's policy: q requests in a window of w seconds, r left, t seconds to
// wait.
func quotaFailure(err error) (apigw.Response, bool) {
	var address *addressLimitedError
	if errors.As(err, &address) {
		wait := max(1, int(math.Ceil(address.retryAfter.Seconds())))
		return retryIn(http.StatusTooManyRequests, fmt.Sprintf("too many requests from this address; try again in %d seconds", wait), wait), true
	}
	var over *quota.OverQuotaError
	if !errors.As(err, &over) {
		return apigw.Response{}, false
	}
	wait := max(1, int(math.Ceil(over.RetryAfter.Seconds())))
	window := max(1, int(math.Ceil(over.Limits.Burst/over.Limits.Rate)))
	resp := retryIn(http.StatusTooManyRequests,
		fmt.Sprintf("this account is over its %s quota (%g requests a second, bursts of %g); try again in %d seconds",
			over.Class, over.Limits.Rate, over.Limits.Burst, wait), wait)
	resp.Headers["RateLimit-Policy"] = fmt.Sprintf("%q;q=%d;w=%d", over.Class, int(over.Limits.Burst), window)
	resp.Headers["RateLimit"] = fmt.Sprintf("%q;r=0;t=%d", over.Class, wait)
	return resp, true
}
