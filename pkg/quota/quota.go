// Package quota keeps each tenant within its request rate per class of route, across
// every Lambda instance: a token bucket per (tenant, class) lives in the table, and
// instances lease tokens from it a few at a time, so that most requests cost no table
// call at all and an over-quota request costs at most one read.
//
// Invariants:
//   - The stored bucket never holds more than its burst, and refills at its rate: a
//     lease takes tokens only by a conditional write on the bucket's version, so two
//     instances can never both spend the same tokens.
//   - An instance spends a lease within leaseLife of taking it; tokens it did not spend
//     are lost rather than spent late, so a tenant never exceeds rate x t + burst +
//     (instances x lease) requests in any t seconds.
//   - Once the bucket is found short, the instance refuses that tenant's class without
//     any table call until the bucket has refilled one token.
package quota

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Class is a class of routes that shares one bucket per tenant.
type Class string

const (
	Read  Class = "read"  // GETs of the game API
	Write Class = "write" // everything else of the game API: creates, renames, deletes, submits
	Token Class = "token" // GET /v1/token
)

// Defaults are the limits of a tenant that has none of its own, unless the function's
// environment says otherwise (boot.Env.Quotas): generous for a game's servers, far
// below what would let one tenant crowd out the others.
var Defaults = map[Class]Limits{
	Read:  {Rate: 100, Burst: 200},
	Write: {Rate: 50, Burst: 100},
	Token: {Rate: 1, Burst: 10},
}

// PerAddress is how many unauthenticated requests (a token's) one source address may
// send one instance, before any table read.
var PerAddress = Limits{Rate: 20, Burst: 40}

// Limits are a bucket's refill rate, in requests a second, and its burst.
type Limits struct {
	Rate  float64
	Burst float64
}

// The range of a rate and a burst: far inside DynamoDB's numbers and an int.
const (
	minRate  = 1e-6
	maxLimit = 1e9
)

// ParseLimits reads "rate/burst", e.g. "100/200".
func ParseLimits(s string) (Limits, error) {
	r, b, ok := strings.Cut(s, "/")
	rate, err1 := strconv.ParseFloat(r, 64)
	burst, err2 := strconv.ParseFloat(b, 64)
	// Written as !(in range) so that NaN, which compares false with everything, fails.
	if !ok || err1 != nil || err2 != nil || !(rate >= minRate && rate <= maxLimit) || !(burst >= 1 && burst <= maxLimit) {
		return Limits{}, fmt.Errorf("quota %q: want rate/burst, rate from %g to %g, burst from 1 to %g", s, minRate, maxLimit, maxLimit)
	}
	return Limits{Rate: rate, Burst: burst}, nil
}

func (l Limits) String() string {
	return strconv.FormatFloat(l.Rate, 'f', -1, 64) + "/" + strconv.FormatFloat(l.Burst, 'f', -1, 64)
}

// Bucket is a stored bucket as read: its tokens at At, its version, and the tenant's
// own limits for the class if an operator set them.
type Bucket struct {
	Tokens   float64
	At       time.Time
	Version  int64 // 0: no bucket stored yet
	Override *Limits
}

// Store reads and writes buckets.
type Store interface {
	QuotaBucket(ctx context.Context, tenant string, class Class) (Bucket, error)
	// TakeQuota stores tokens at at as version+1, if the bucket is still at version.
	TakeQuota(ctx context.Context, tenant string, class Class, version int64, tokens float64, at time.Time) (bool, error)
}

// ErrOverQuota is what Allow's error wraps when a tenant is over its quota.
var ErrOverQuota = errors.New("over quota")

// OverQuotaError says how long until the request may succeed, and the limits it hit.
type OverQuotaError struct {
	Class      Class
	Limits     Limits
	RetryAfter time.Duration
}

func (e *OverQuotaError) Error() string {
	return fmt.Sprintf("%s quota %s: retry after %s", e.Class, e.Limits, e.RetryAfter)
}

func (e *OverQuotaError) Unwrap() error { return ErrOverQuota }

// leaseLife is how long an instance may spend tokens it leased.
const leaseLife = time.Second

// leaseShare is the part of a second's refill an instance leases at once: with a rate
// of 100 a second, 5 tokens, one table call per 5 requests of that instance.
const leaseShare = 0.05

// Limiter is one instance's view of every tenant's buckets. It is safe for concurrent
// use: requests of one tenant and class wait for each other's lease (one table call
// for all of them, not one each), others do not.
type Limiter struct {
	store    Store
	defaults map[Class]Limits
	now      func() time.Time

	mu     sync.Mutex
	leases map[string]*lease // tenant + class
}

type lease struct {
	sync.Mutex
	tokens  int
	expires time.Time
	// size is how many tokens to lease next: it starts at one and doubles (up to 5% of
	// a second's refill) while leases run out before they expire, so that an instance
	// serving one request now and then (Lambda's usual case) strands no tokens.
	size       int
	emptyUntil time.Time // refuse without a read until then
	limits     Limits
}

// NewLimiter limits the classes in defaults; a class without defaults is not limited.
func NewLimiter(store Store, defaults map[Class]Limits, now func() time.Time) *Limiter {
	return &Limiter{store: store, defaults: defaults, now: now, leases: map[string]*lease{}}
}

// Allow spends one token of tenant's class, or answers *OverQuotaError.
func (l *Limiter) Allow(ctx context.Context, tenant string, class Class) error {
	if _, limited := l.defaults[class]; !limited {
		return nil
	}
	k := tenant + "\x00" + string(class)
	l.mu.Lock()
	le := l.leases[k]
	if le == nil {
		le = &lease{}
		l.leases[k] = le
	}
	l.mu.Unlock()

	le.Lock()
	defer le.Unlock()
	now := l.now()
	if le.tokens > 0 && now.Before(le.expires) {
		le.tokens--
		return nil
	}
	if now.Before(le.emptyUntil) {
		return &OverQuotaError{Class: class, Limits: le.limits, RetryAfter: le.emptyUntil.Sub(now)}
	}
	if now.Before(le.expires) {
		le.size = min(2*le.size, 1<<20) // the last lease ran out in time: lease more
	} else {
		le.size = 1
	}
	// Two instances racing for one bucket: the loser reads again.
	for attempt := 0; ; attempt++ {
		err := l.lease(ctx, le, tenant, class, now)
		if errors.Is(err, errRaced) {
			if attempt < 3 {
				now = l.now()
				continue
			}
			// Still racing after 4 tries: the bucket is that hot; come back shortly.
			return &OverQuotaError{Class: class, Limits: l.defaults[class], RetryAfter: 100 * time.Millisecond}
		}
		return err
	}
}

var errRaced = errors.New("bucket changed since read")

// lease reads the bucket, refills it, and takes one token for this request plus a few
// for the next ones into le; or, if the bucket is short, notes in le until when and
// answers *OverQuotaError.
func (l *Limiter) lease(ctx context.Context, le *lease, tenant string, class Class, now time.Time) error {
	b, err := l.store.QuotaBucket(ctx, tenant, class)
	if err != nil {
		return fmt.Errorf("read quota: %w", err)
	}
	limits := l.defaults[class]
	if b.Override != nil {
		limits = *b.Override
	}
	le.limits = limits
	tokens := limits.Burst // a bucket never stored starts full
	if b.Version > 0 {
		elapsed := max(now.Sub(b.At), 0).Seconds()
		tokens = min(limits.Burst, b.Tokens+elapsed*limits.Rate)
		// Another instance's clock may be ahead: time the bucket never goes back on.
		now = later(now, b.At)
	}
	if tokens < 1 {
		wait := max(time.Duration((1-tokens)/limits.Rate*float64(time.Second)), time.Millisecond)
		le.emptyUntil = now.Add(wait)
		return &OverQuotaError{Class: class, Limits: limits, RetryAfter: wait}
	}
	take := min(math.Floor(tokens), float64(max(1, le.size)), max(1, math.Floor(limits.Rate*leaseShare)))
	ok, err := l.store.TakeQuota(ctx, tenant, class, b.Version, tokens-take, now)
	if err != nil {
		return fmt.Errorf("take quota: %w", err)
	}
	if !ok {
		return errRaced
	}
	le.tokens, le.expires = int(take)-1, now.Add(leaseLife)
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
