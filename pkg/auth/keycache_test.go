package auth_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

// settableClock is a settable time.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settableClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// keyTable is a fake RetiringKeySource that counts its reads; fail makes the next read fail.
type keyTable struct {
	mu    sync.Mutex
	keys  map[string]auth.PublishedKey
	reads int
	fail  error
}

func (tb *keyTable) PublishedKey(_ context.Context, kid string) (auth.PublishedKey, error) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.reads++
	if err := tb.fail; err != nil {
		tb.fail = nil
		return auth.PublishedKey{}, err
	}
	k, ok := tb.keys[kid]
	if !ok {
		return auth.PublishedKey{}, auth.ErrUnknownKey
	}
	return k, nil
}

func (tb *keyTable) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	panic("the verifier must ask a RetiringKeySource for PublishedKey")
}

func (tb *keyTable) retire(kid string, at time.Time) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	k := tb.keys[kid]
	k.RetiresAt = at
	tb.keys[kid] = k
}

// takeReads returns the reads since the last call.
func (tb *keyTable) takeReads() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	n := tb.reads
	tb.reads = 0
	return n
}

var _ auth.RetiringKeySource = (*keyTable)(nil)

type cacheFixture struct {
	t     *testing.T
	clock *settableClock
	table *keyTable
	v     *auth.Verifier
	key   auth.SigningKey
}

func newCacheFixture(t *testing.T) *cacheFixture {
	key := testKey(t, strings.Repeat("s", 64))
	c := &settableClock{t: t0}
	tb := &keyTable{keys: map[string]auth.PublishedKey{key.ID: {Public: key.Public()}}}
	return &cacheFixture{t: t, clock: c, table: tb, v: auth.NewVerifier(tb, c.Now), key: key}
}

// token signs a token with k at the fixture's time.
func (f *cacheFixture) token(k auth.SigningKey) string {
	f.t.Helper()
	tok, _, err := auth.NewSigner(k, f.clock.Now).Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// verify checks tok at time at: accepted if want is nil, else refused as a 401 whose
// error wraps want; and that it cost reads table reads.
func (f *cacheFixture) verify(at time.Time, tok string, want error, reads int) {
	f.t.Helper()
	f.clock.Set(at)
	_, err := f.v.Verify(context.Background(), tok)
	switch {
	case want == nil && err != nil:
		f.t.Errorf("at t0+%s: refused: %v", at.Sub(t0), err)
	case want != nil && (!errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, want)):
		f.t.Errorf("at t0+%s: err = %v, want a 401 for %v", at.Sub(t0), err, want)
	}
	if n := f.table.takeReads(); n != reads {
		f.t.Errorf("at t0+%s: %d reads, want %d", at.Sub(t0), n, reads)
	}
}

func forgedKey(t *testing.T, i int) auth.SigningKey {
	return testKey(t, fmt.Sprintf("forged key number %04d, never published anywhere", i))
}

func TestVerifierChecksCheapThingsBeforeAnyRead(t *testing.T) {
	f := newCacheFixture(t)
	forged := forgedKey(t, 0)
	claims := jwt.MapClaims{
		"iss": auth.Issuer, "aud": auth.Audience, "sub": "c", "tid": "t",
		"iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
	}
	with := func(k string, v any) jwt.MapClaims { return withClaim(claims, k, v) }
	priv := keyPrivate(t, forged)
	for _, tc := range []struct{ name, token string }{
		{"garbage", "not.a.token"},
		{"two parts", "a.b"},
		{"HS256", sign(t, jwt.SigningMethodHS256, []byte("secret"), forged.ID, claims)},
		{"no kid", sign(t, jwt.SigningMethodEdDSA, priv, "", claims)},
		{"kid of the wrong shape", sign(t, jwt.SigningMethodEdDSA, priv, "not-a-kid", claims)},
		{"kid with newlines, which a base64 decoder skips", sign(t, jwt.SigningMethodEdDSA, priv, forged.ID[:14]+"\n\n", claims)},
		{"expired", sign(t, jwt.SigningMethodEdDSA, priv, forged.ID, with("exp", t0.Add(-time.Hour).Unix()))},
		{"no exp", sign(t, jwt.SigningMethodEdDSA, priv, forged.ID, with("exp", nil))},
		{"issued in the future", sign(t, jwt.SigningMethodEdDSA, priv, forged.ID, with("iat", t0.Add(time.Hour).Unix()))},
		{"wrong audience", sign(t, jwt.SigningMethodEdDSA, priv, forged.ID, with("aud", "other"))},
		{"wrong issuer", sign(t, jwt.SigningMethodEdDSA, priv, forged.ID, with("iss", "other"))},
		{"no tenant", sign(t, jwt.SigningMethodEdDSA, priv, forged.ID, with("tid", nil))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			f.verify(t0, tc.token, auth.ErrInvalidToken, 0)
		})
	}
}

func TestVerifierCachesUnknownKeys(t *testing.T) {
	f := newCacheFixture(t)
	forged := f.token(forgedKey(t, 0))
	f.verify(t0, forged, auth.ErrUnknownKey, 1)
	for i := range 100 {
		f.verify(t0.Add(time.Duration(i)*time.Millisecond), forged, auth.ErrUnknownKey, 0)
	}
	f.verify(t0.Add(auth.UnknownKeyTTL-time.Millisecond), forged, auth.ErrUnknownKey, 0)
	f.verify(t0.Add(auth.UnknownKeyTTL), forged, auth.ErrUnknownKey, 1)
}

func TestVerifierCapsLookupsOfNewKeyIDs(t *testing.T) {
	f := newCacheFixture(t)
	f.verify(t0, f.token(f.key), nil, 1) // the real key: one of the window's lookups
	for i := range auth.MaxKeyLookups - 1 {
		f.verify(t0, f.token(forgedKey(t, i)), auth.ErrUnknownKey, 1)
	}
	// The window's lookups are spent: more new kids are refused without a read...
	for i := range 20 {
		f.verify(t0.Add(time.Second), f.token(forgedKey(t, 100+i)), auth.ErrUnknownKey, 0)
	}
	// ...while the key already found verifies, from its cache.
	f.verify(t0.Add(time.Second), f.token(f.key), nil, 0)
	// A new window, new lookups.
	f.verify(t0.Add(auth.UnknownKeyTTL), f.token(forgedKey(t, 200)), auth.ErrUnknownKey, 1)
}

func TestVerifierRefreshesFoundKeysWhateverTheCap(t *testing.T) {
	f := newCacheFixture(t)
	f.verify(t0, f.token(f.key), nil, 1)
	expired := t0.Add(auth.KeyCacheTTL)
	for i := range auth.MaxKeyLookups {
		f.verify(expired, f.token(forgedKey(t, i)), auth.ErrUnknownKey, 1)
	}
	f.verify(expired, f.token(forgedKey(t, 99)), auth.ErrUnknownKey, 0)
	// The real key's entry has expired, and the window is spent: it is read again anyway.
	f.verify(expired, f.token(f.key), nil, 1)
}

func TestVerifierCachesRetirement(t *testing.T) {
	f := newCacheFixture(t)
	tok := f.token(f.key)
	f.table.retire(f.key.ID, t0.Add(7*time.Minute)) // retired in time, as a rotation does
	f.verify(t0, tok, nil, 1)
	f.verify(t0.Add(6*time.Minute), tok, nil, 1) // t0's entry expired at t0+5m
	// At its retirement the key stops verifying, though the entry read at t0+6m is fresh.
	f.verify(t0.Add(7*time.Minute-time.Millisecond), tok, nil, 0)
	f.verify(t0.Add(7*time.Minute), tok, auth.ErrRetiredKey, 0)
	f.verify(t0.Add(8*time.Minute), tok, auth.ErrRetiredKey, 0)
}

// TestVerifierSeesAnImmediateRetirementWithinTheCacheTTL defines "at once" for a key
// retired at once (after a leak) at time R: a verifier that read the key at time r < R
// accepts its tokens until r + KeyCacheTTL (so never past R + KeyCacheTTL); a verifier
// that reads it at or after R refuses them at once.
func TestVerifierSeesAnImmediateRetirementWithinTheCacheTTL(t *testing.T) {
	f := newCacheFixture(t)
	tok := f.token(f.key)
	read := t0.Add(time.Minute)
	f.verify(read, tok, nil, 1)
	retired := t0.Add(3 * time.Minute)
	f.table.retire(f.key.ID, retired)
	f.verify(retired.Add(time.Minute), tok, nil, 0) // still the entry read before R
	f.verify(read.Add(auth.KeyCacheTTL-time.Millisecond), tok, nil, 0)
	f.verify(read.Add(auth.KeyCacheTTL), tok, auth.ErrRetiredKey, 1)

	cold := auth.NewVerifier(f.table, f.clock.Now)
	f.clock.Set(retired)
	if _, err := cold.Verify(context.Background(), tok); !errors.Is(err, auth.ErrRetiredKey) {
		t.Fatalf("a verifier reading the key after its retirement: %v", err)
	}
}

func TestVerifierDoesNotCacheOutages(t *testing.T) {
	f := newCacheFixture(t)
	tok := f.token(f.key)
	f.table.fail = errors.New("table unreachable")
	f.clock.Set(t0)
	if _, err := f.v.Verify(context.Background(), tok); err == nil || errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("err = %v: an outage must not read as a 401", err)
	}
	f.table.takeReads()
	f.verify(t0, tok, nil, 1)
}

func TestVerifierWithAKeySourceThatNeverRetires(t *testing.T) {
	key := testKey(t, strings.Repeat("s", 64))
	c := &settableClock{t: t0}
	v := auth.NewVerifier(auth.KeySet{key.ID: key.Public()}, c.Now)
	tok, _, _ := auth.NewSigner(key, c.Now).Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
	for _, at := range []time.Duration{0, auth.KeyCacheTTL, 59 * time.Minute} {
		c.Set(t0.Add(at))
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("at t0+%s: %v", at, err)
		}
	}
}

func TestVerifierConcurrentUse(t *testing.T) {
	f := newCacheFixture(t)
	tok := f.token(f.key)
	f.verify(t0, tok, nil, 1) // found before the flood: forged kids can only delay a key not yet seen
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			forged := f.token(forgedKey(t, i))
			for range 50 {
				if _, err := f.v.Verify(context.Background(), tok); err != nil {
					t.Error(err)
				}
				if _, err := f.v.Verify(context.Background(), forged); !errors.Is(err, auth.ErrInvalidToken) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := f.table.takeReads(); n != auth.MaxKeyLookups-1 {
		t.Fatalf("%d reads", n)
	}
}
