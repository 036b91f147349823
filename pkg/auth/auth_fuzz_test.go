package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

// fuzzNow is the fixed clock of the fuzz targets, so that the tokens in their seeds stay
// valid whenever they run.
var fuzzNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// FuzzVerify feeds Verify any bearer token. Every token is either one we signed, and
// yields the tenant and client we signed into it, or ErrInvalidToken (a 401): never a
// panic, and never another error, which the API would answer with a 500.
func FuzzVerify(f *testing.F) {
	key := testKey(f, strings.Repeat("s", 64))
	other := testKey(f, strings.Repeat("o", 64))
	signer := auth.NewSigner(key, func() time.Time { return fuzzNow })
	// The claims every token the fuzzer can make valid must carry: it cannot sign, so a
	// token that verifies is one of the seeds below, perhaps re-encoded.
	signed := map[auth.Claims]bool{}
	for _, c := range []auth.Claims{
		{TenantID: "tenant-a", ClientID: "lb_cid_x"},
		{TenantID: "01JTENANT0000000000000000A", ClientID: "lb_cid_AAAAAAAAAAAAAAAAAAAAAA"},
		{TenantID: "t\u00e9nant \"quoted\"", ClientID: "c"},
	} {
		token, _, err := signer.Issue(context.Background(), c)
		if err != nil {
			f.Fatal(err)
		}
		signed[c] = true
		f.Add(token)
	}
	good := jwt.MapClaims{
		"iss": auth.Issuer, "aud": auth.Audience, "sub": "lb_cid_x", "tid": "tenant-a",
		"iat": fuzzNow.Unix(), "exp": fuzzNow.Add(time.Hour).Unix(),
	}
	with := func(k string, v any) jwt.MapClaims { return withClaim(good, k, v) }
	priv, otherPriv := auth.PrivateKeyForTest(key), auth.PrivateKeyForTest(other)
	valid := sign(f, jwt.SigningMethodEdDSA, priv, key.ID, good)
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	for _, seed := range []string{
		valid,
		// The forgeries of TestVerifyRejects.
		base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+key.ID+`"}`)) + "." + parts[1] + ".",
		parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "tenant-a", "tenant-b", 1))) + "." + parts[2],
		sign(f, jwt.SigningMethodHS256, []byte(key.Public()), key.ID, good),
		sign(f, jwt.SigningMethodEdDSA, otherPriv, key.ID, good),
		sign(f, jwt.SigningMethodEdDSA, otherPriv, other.ID, good),
		sign(f, jwt.SigningMethodEdDSA, priv, "", good),
		sign(f, jwt.SigningMethodEdDSA, priv, key.ID, with("exp", fuzzNow.Add(-time.Minute).Unix())),
		sign(f, jwt.SigningMethodEdDSA, priv, key.ID, with("exp", nil)),
		sign(f, jwt.SigningMethodEdDSA, priv, key.ID, with("aud", "someone-else")),
		sign(f, jwt.SigningMethodEdDSA, priv, key.ID, with("iss", "evil")),
		sign(f, jwt.SigningMethodEdDSA, priv, key.ID, with("iat", fuzzNow.Add(10*time.Minute).Unix())),
		sign(f, jwt.SigningMethodEdDSA, priv, key.ID, with("tid", nil)),
		sign(f, jwt.SigningMethodEdDSA, priv, key.ID, with("tid", 5)),
		sign(f, jwt.SigningMethodEdDSA, priv, key.ID, with("aud", []any{"x", auth.Audience})),
		sign(f, jwt.SigningMethodEdDSA, priv, key.ID, with("exp", 1e300)),
		"not.a.token",
		"",
	} {
		f.Add(seed)
	}
	v := auth.NewVerifier(auth.KeySet{key.ID: key.Public()}, func() time.Time { return fuzzNow.Add(time.Minute) })

	f.Fuzz(func(t *testing.T, token string) {
		claims, err := v.Verify(context.Background(), token)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Verify error %v does not wrap ErrInvalidToken: the API would answer 500", err)
			}
			if claims != (auth.Claims{}) {
				t.Fatalf("Verify failed but returned claims %+v", claims)
			}
			return
		}
		if !signed[claims] {
			t.Fatalf("token %q verified with claims %+v that no seed was signed with", token, claims)
		}
	})
}

// FuzzCheckPasswordStrength feeds the sign-up password check any password and email
// (both from the request body): it refuses with one of its three errors, whose messages
// are shown to the client, or accepts; a password it accepts is 12 to 256 bytes.
func FuzzCheckPasswordStrength(f *testing.F) {
	for _, seed := range []struct{ password, email string }{
		{"correct horse battery staple", "a@example.com"},
		{"x", "a@example.com"},
		{"Password2024!", "a@example.com"},
		{"aaaaaaaaaaaaaaaa", "a@example.com"},
		{"qwertyuiopasdf", "a@example.com"},
		{"jonathan.smith99", "jonathan.smith@example.com"},
		{strings.Repeat("ab1", 100), "a@example.com"},
		{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4", ""},
		{"日本語のとても長いパスワード", "日本@example.com"},
	} {
		f.Add(seed.password, seed.email)
	}
	f.Fuzz(func(t *testing.T, password, email string) {
		err := auth.CheckPasswordStrength(password, email)
		switch {
		case err == nil:
			if len(password) < auth.MinPasswordLength || len(password) > auth.MaxPasswordLength {
				t.Fatalf("accepted a %d-byte password", len(password))
			}
		case errors.Is(err, auth.ErrPasswordTooShort), errors.Is(err, auth.ErrPasswordTooLong), errors.Is(err, auth.ErrPasswordTooCommon):
		default:
			t.Fatalf("error %v is none of the three the API answers with a 400", err)
		}
	})
}
