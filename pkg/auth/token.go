package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// Issuer and Audience are pinned in every token and checked on every verification.
	Issuer   = "leaderboard-api"
	Audience = "leaderboard-api"
	// TokenTTL is how long a token lives. Short, because a token cannot be revoked one
	// by one; retiring its signing key revokes every token that key signed.
	TokenTTL = time.Hour
	// leeway forgives small clock differences between Lambda hosts.
	leeway = 30 * time.Second
)

// ErrInvalidToken is returned for any token that must not be trusted, whatever the reason.
var ErrInvalidToken = errors.New("invalid token")

// SigningKey is the Ed25519 key that signs tokens, and its id (the JWT "kid").
type SigningKey struct {
	ID      string
	private ed25519.PrivateKey
}

// KeyFromSeed derives the signing key from a secret of at least 32 bytes (the Secrets
// Manager secret in AWS, a local file in development). Deriving keeps the secret a plain
// generated string that CloudFormation can create, with no key material in the template.
func KeyFromSeed(secret []byte) (SigningKey, error) {
	if len(secret) < 32 {
		return SigningKey{}, fmt.Errorf("signing secret is %d bytes, want at least 32", len(secret))
	}
	seed := sha256.Sum256(append([]byte("leaderboard-api token key v1\x00"), secret...))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return SigningKey{ID: KeyID(priv.Public().(ed25519.PublicKey)), private: priv}, nil
}

// Public is the half that verifiers need.
func (k SigningKey) Public() ed25519.PublicKey { return k.private.Public().(ed25519.PublicKey) }

// KeyID names a public key: a new secret gives a new id, so keys can rotate while tokens
// signed with the old one stay verifiable until they expire.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Claims is what a verified token says about its bearer.
type Claims struct {
	TenantID string
	ClientID string
}

type tokenClaims struct {
	TenantID string `json:"tid"`
	jwt.RegisteredClaims
}

// Signer issues tokens with one key, whatever becomes of it: for tests and tools. The
// token function's signer follows its key's retirement (RotatingSigner).
type Signer struct {
	key SigningKey
	now func() time.Time
}

// NewSigner returns a Signer that signs with key and reads the time from now.
func NewSigner(key SigningKey, now func() time.Time) *Signer {
	return &Signer{key: key, now: now}
}

// Issue returns a signed token for the client and how many seconds it is valid.
func (s *Signer) Issue(_ context.Context, c Claims) (token string, expiresIn int, err error) {
	return issue(s.key, c, s.now(), TokenTTL)
}

// issue signs a token for c with key at now that lives for life, whole seconds of it:
// the token's exp (in whole seconds too) is never later than now + life.
func issue(key SigningKey, c Claims, now time.Time, life time.Duration) (token string, expiresIn int, err error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, tokenClaims{
		TenantID: c.TenantID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.ClientID,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(life)),
		},
	})
	t.Header["kid"] = key.ID
	signed, err := t.SignedString(key.private)
	if err != nil {
		return "", 0, fmt.Errorf("sign token: %w", err)
	}
	return signed, int(life / time.Second), nil
}

// KeySource finds the public key for a key id; it returns an error wrapping
// ErrUnknownKey when there is none (or none it would verify with). A Verifier reads a key
// again every KeyCacheTTL, and learns when a key retires only from a KeySource that is
// also a RetiringKeySource.
type KeySource interface {
	PublicKey(ctx context.Context, keyID string) (ed25519.PublicKey, error)
}

// RetiringKeySource is a KeySource whose keys retire: the table, where publishing a new
// key retires the ones before it. A Verifier whose KeySource is one asks it for
// PublishedKey, so that it learns the retirement with the key and caches both.
type RetiringKeySource interface {
	KeySource
	PublishedKey(ctx context.Context, keyID string) (PublishedKey, error)
}

// PublishedKey is a public key as it is published: the key, and when it stops
// verifying tokens (zero while no newer key has retired it).
type PublishedKey struct {
	Public    ed25519.PublicKey
	RetiresAt time.Time
}

// RetiredAt reports whether the key is retired at t.
func (k PublishedKey) RetiredAt(t time.Time) bool {
	return !k.RetiresAt.IsZero() && !t.Before(k.RetiresAt)
}

// ErrUnknownKey is what a KeySource returns for a key id it does not know.
var ErrUnknownKey = errors.New("unknown signing key")

// ErrRetiredKey says a key has been retired: it verifies no token and must sign none.
var ErrRetiredKey = errors.New("signing key retired")

// Verifier checks tokens. It checks everything it can without the key first (the
// token's shape, algorithm, kid and claims), so that a token which could never pass costs
// no table read, then finds the key through a cache (see keycache.go) and checks the
// signature. It is safe for concurrent use.
type Verifier struct {
	parser *jwt.Parser
	claims *jwt.Validator
	keys   *keyCache
}

// NewVerifier returns a Verifier that finds keys in keys and reads the time from now.
func NewVerifier(keys KeySource, now func() time.Time) *Verifier {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	}
	return &Verifier{
		parser: jwt.NewParser(opts...),
		claims: jwt.NewValidator(opts...),
		keys:   newKeyCache(keys, now),
	}
}

// Verify returns the token's claims, or an error wrapping ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	var claims tokenClaims
	var lookupErr error
	// The parser checks the shape and the algorithm before it calls this function, and
	// the claims again after the signature.
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if err := v.claims.Validate(&claims); err != nil {
			return nil, err
		}
		if claims.TenantID == "" || claims.Subject == "" {
			return nil, errors.New("missing tenant or subject")
		}
		kid, _ := t.Header["kid"].(string)
		if !validKeyID(kid) {
			return nil, ErrUnknownKey
		}
		key, err := v.keys.key(ctx, kid)
		if err != nil {
			lookupErr = err
			return nil, err
		}
		return key, nil
	})
	if lookupErr != nil && !errors.Is(lookupErr, ErrUnknownKey) && !errors.Is(lookupErr, ErrRetiredKey) {
		// The key store failed: that is our fault, not a bad token.
		return Claims{}, fmt.Errorf("verify token: %w", lookupErr)
	}
	if lookupErr != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, lookupErr)
	}
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return Claims{TenantID: claims.TenantID, ClientID: claims.Subject}, nil
}

// validKeyID reports whether kid has the shape KeyID gives: 16 base64url characters
// (12 bytes). Anything else is not worth a cache entry, let alone a table read. (The
// alphabet is checked by hand: the decoder would skip a newline.)
func validKeyID(kid string) bool {
	if len(kid) != 16 {
		return false
	}
	for _, c := range []byte(kid) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// KeySet is a fixed set of public keys, for the local server and tests.
type KeySet map[string]ed25519.PublicKey

// PublicKey implements KeySource.
func (s KeySet) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

var _ KeySource = KeySet(nil)
