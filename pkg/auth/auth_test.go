package auth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func testKey(tb testing.TB, seed string) auth.SigningKey {
	tb.Helper()
	k, err := auth.KeyFromSeed([]byte(seed))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestTokenRoundTrip(t *testing.T) {
	key := testKey(t, strings.Repeat("s", 64))
	token, expiresIn, err := auth.NewSigner(key, fixedClock(t0)).Issue(context.Background(), auth.Claims{TenantID: "tenant-a", ClientID: "lb_cid_x"})
	if err != nil {
		t.Fatal(err)
	}
	if expiresIn != 3600 {
		t.Fatalf("expiresIn = %d", expiresIn)
	}
	v := auth.NewVerifier(auth.KeySet{key.ID: key.Public()}, fixedClock(t0.Add(59*time.Minute)))
	claims, err := v.Verify(context.Background(), token)
	if err != nil || claims != (auth.Claims{TenantID: "tenant-a", ClientID: "lb_cid_x"}) {
		t.Fatalf("claims = %+v, %v", claims, err)
	}
	header, _, _ := strings.Cut(token, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(header)
	if !strings.Contains(string(raw), `"kid":"`+key.ID+`"`) || !strings.Contains(string(raw), `"alg":"EdDSA"`) {
		t.Fatalf("header = %s", raw)
	}
}

// sign makes a token with arbitrary claims and method, as an attacker could.
func sign(tb testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// withClaim is a copy of claims with claim k set to v, or without k if v is nil.
func withClaim(claims jwt.MapClaims, k string, v any) jwt.MapClaims {
	c := jwt.MapClaims{}
	for kk, vv := range claims {
		c[kk] = vv
	}
	if v == nil {
		delete(c, k)
	} else {
		c[k] = v
	}
	return c
}

func TestVerifyRejects(t *testing.T) {
	key := testKey(t, strings.Repeat("s", 64))
	other := testKey(t, strings.Repeat("o", 64))
	good := jwt.MapClaims{
		"iss": auth.Issuer, "aud": auth.Audience, "sub": "lb_cid_x", "tid": "tenant-a",
		"iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
	}
	with := func(k string, v any) jwt.MapClaims { return withClaim(good, k, v) }
	valid := sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, key), key.ID, good)
	parts := strings.Split(valid, ".")

	alteredPayload := func() string {
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := strings.Replace(string(payload), "tenant-a", "tenant-b", 1)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	}()
	algNone := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + key.ID + `"}`))
		return h + "." + parts[1] + "."
	}()

	cases := []struct{ name, token string }{
		{"alg none", algNone},
		{"altered payload", alteredPayload},
		{"HS256 keyed with the public key", sign(t, jwt.SigningMethodHS256, []byte(key.Public()), key.ID, good)},
		{"signed by another key under our kid", sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, other), key.ID, good)},
		{"unknown kid", sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, other), other.ID, good)},
		{"no kid", sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, key), "", good)},
		{"expired", sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, key), key.ID, with("exp", t0.Add(-time.Minute).Unix()))},
		{"no exp", sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, key), key.ID, with("exp", nil))},
		{"wrong audience", sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, key), key.ID, with("aud", "someone-else"))},
		{"wrong issuer", sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, key), key.ID, with("iss", "evil"))},
		{"issued in the future", sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, key), key.ID, with("iat", t0.Add(10*time.Minute).Unix()))},
		{"no tenant", sign(t, jwt.SigningMethodEdDSA, keyPrivate(t, key), key.ID, with("tid", nil))},
		{"garbage", "not.a.token"},
		{"empty", ""},
	}
	v := auth.NewVerifier(auth.KeySet{key.ID: key.Public()}, fixedClock(t0.Add(time.Minute)))
	if _, err := v.Verify(context.Background(), valid); err != nil {
		t.Fatalf("the untampered token must verify: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token)
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		})
	}
}

// keyPrivate re-derives the private key the way KeyFromSeed does, for forging tests.
func keyPrivate(t *testing.T, k auth.SigningKey) ed25519.PrivateKey {
	t.Helper()
	return auth.PrivateKeyForTest(k)
}

type failingKeys struct{}

func (failingKeys) PublicKey(context.Context, string) (ed25519.PublicKey, error) {
	return nil, errors.New("table unreachable")
}

func TestVerifyKeyStoreFailureIsNotABadToken(t *testing.T) {
	key := testKey(t, strings.Repeat("s", 64))
	token, _, _ := auth.NewSigner(key, fixedClock(t0)).Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
	_, err := auth.NewVerifier(failingKeys{}, fixedClock(t0)).Verify(context.Background(), token)
	if err == nil || errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("err = %v: an outage must not read as a 401", err)
	}
}

type countingKeys struct {
	auth.KeySet
	mu    sync.Mutex
	calls int
}

func (c *countingKeys) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.KeySet.PublicKey(ctx, kid)
}

func TestVerifierCachesKeys(t *testing.T) {
	key := testKey(t, strings.Repeat("s", 64))
	keys := &countingKeys{KeySet: auth.KeySet{key.ID: key.Public()}}
	v := auth.NewVerifier(keys, fixedClock(t0))
	token, _, _ := auth.NewSigner(key, fixedClock(t0)).Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
	for range 5 {
		if _, err := v.Verify(context.Background(), token); err != nil {
			t.Fatal(err)
		}
	}
	if keys.calls != 1 {
		t.Fatalf("key source called %d times, want 1", keys.calls)
	}
}

func TestKeyFromSeed(t *testing.T) {
	if _, err := auth.KeyFromSeed([]byte("short")); err == nil {
		t.Fatal("a short secret was accepted")
	}
	a, b := testKey(t, strings.Repeat("a", 32)), testKey(t, strings.Repeat("a", 32))
	c := testKey(t, strings.Repeat("b", 32))
	if a.ID != b.ID || a.ID == c.ID || len(a.ID) != 16 {
		t.Fatalf("ids a=%s b=%s c=%s", a.ID, b.ID, c.ID)
	}
}

func TestKeyFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "signing.key")
	first, err := auth.KeyFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := auth.KeyFromFile(path)
	if err != nil || again.ID != first.ID {
		t.Fatalf("second load: %v, ids %s %s", err, first.ID, again.ID)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("seed file mode: %v %v", info.Mode(), err)
	}
}

func TestCredentials(t *testing.T) {
	c := auth.NewCredentials()
	for _, tc := range []struct{ value, prefix string }{
		{c.APIKey, auth.APIKeyPrefix}, {c.ClientID, auth.ClientIDPrefix}, {c.ClientSecret, auth.ClientSecretPrefix},
	} {
		if !strings.HasPrefix(tc.value, tc.prefix) {
			t.Errorf("%q lacks prefix %q", tc.value, tc.prefix)
		}
	}
	if len(c.ClientSecret) < len(auth.ClientSecretPrefix)+43 {
		t.Errorf("secret %q is shorter than 256 bits", c.ClientSecret)
	}
	if !auth.ValidClientID(c.ClientID) || auth.ValidClientID("lb_cid_short") || auth.ValidClientID(c.APIKey) {
		t.Error("ValidClientID")
	}
	if !auth.DigestMatches(c.ClientSecret, auth.Digest(c.ClientSecret)) || auth.DigestMatches(c.ClientSecret+"x", auth.Digest(c.ClientSecret)) {
		t.Error("DigestMatches")
	}
	if other := auth.NewCredentials(); other == c {
		t.Error("two draws gave the same credentials")
	}
}
