package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// Issuer and Audience are pinned in every token and checked on every verification.
	Issuer   = "leaderboard-api"
	Audience = "leaderboard-api"
	// TokenTTL is how long a token lives. Short, because a token cannot be revoked.
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

// Signer issues tokens.
type Signer struct {
	key SigningKey
	now func() time.Time
}

// NewSigner returns a Signer that signs with key and reads the time from now.
func NewSigner(key SigningKey, now func() time.Time) *Signer {
	return &Signer{key: key, now: now}
}

// Issue returns a signed token for the client and how many seconds it is valid.
func (s *Signer) Issue(c Claims) (token string, expiresIn int, err error) {
	now := s.now()
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, tokenClaims{
		TenantID: c.TenantID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.ClientID,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(TokenTTL)),
		},
	})
	t.Header["kid"] = s.key.ID
	signed, err := t.SignedString(s.key.private)
	if err != nil {
		return "", 0, fmt.Errorf("sign token: %w", err)
	}
	return signed, int(TokenTTL / time.Second), nil
}

// KeySource finds the public key for a key id; it returns an error wrapping
// ErrUnknownKey when there is none.
type KeySource interface {
	PublicKey(ctx context.Context, keyID string) (ed25519.PublicKey, error)
}

// ErrUnknownKey is what a KeySource returns for a key id it does not know.
var ErrUnknownKey = errors.New("unknown signing key")

// Verifier checks tokens. It caches public keys for the life of the process: a key never
// changes under its id, since the id is derived from the key.
type Verifier struct {
	keys KeySource
	now  func() time.Time

	mu     sync.Mutex
	cached map[string]ed25519.PublicKey
}

// NewVerifier returns a Verifier that fetches unknown keys from keys.
func NewVerifier(keys KeySource, now func() time.Time) *Verifier {
	return &Verifier{keys: keys, now: now, cached: map[string]ed25519.PublicKey{}}
}

// Verify returns the token's claims, or an error wrapping ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	var claims tokenClaims
	var lookupErr error
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, err := v.publicKey(ctx, kid)
		if err != nil {
			lookupErr = err
		}
		return key, err
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(v.now),
	)
	if lookupErr != nil && !errors.Is(lookupErr, ErrUnknownKey) {
		// The key store failed: that is our fault, not a bad token.
		return Claims{}, fmt.Errorf("verify token: %w", lookupErr)
	}
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if claims.TenantID == "" || claims.Subject == "" {
		return Claims{}, fmt.Errorf("%w: missing tenant or subject", ErrInvalidToken)
	}
	return Claims{TenantID: claims.TenantID, ClientID: claims.Subject}, nil
}

func (v *Verifier) publicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	// Key ids are 16 base64url characters; anything else is not worth a table read.
	if len(kid) != 16 {
		return nil, ErrUnknownKey
	}
	if _, err := base64.RawURLEncoding.DecodeString(kid); err != nil {
		return nil, ErrUnknownKey
	}
	v.mu.Lock()
	key, ok := v.cached[kid]
	v.mu.Unlock()
	if ok {
		return key, nil
	}
	key, err := v.keys.PublicKey(ctx, kid)
	if err != nil {
		return nil, err
	}
	if KeyID(key) != kid {
		return nil, fmt.Errorf("%w: key stored under %s does not match its id", ErrUnknownKey, kid)
	}
	v.mu.Lock()
	v.cached[kid] = key
	v.mu.Unlock()
	return key, nil
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
