// Package auth owns who a caller is: client credentials (generated, digested, compared in
// constant time) and the short-lived tokens issued for them (Ed25519-signed JWTs with a
// key id, verified with the algorithm, issuer, audience and expiry pinned).
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// Prefixes make leaked credentials recognisable to secret scanners.
const (
	APIKeyPrefix       = "lb_key_"
	ClientIDPrefix     = "lb_cid_"
	ClientSecretPrefix = "lb_sec_"
)

// Credentials are what a client presents to GET /v1/token. They are shown once, at
// creation; only their digests are stored.
type Credentials struct {
	APIKey       string `json:"apiKey"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// NewCredentials draws fresh credentials: 256 random bits for the key and the secret, 128
// for the client id (an identifier, not a secret).
func NewCredentials() Credentials {
	return Credentials{
		APIKey:       APIKeyPrefix + randomString(32),
		ClientID:     ClientIDPrefix + randomString(16),
		ClientSecret: ClientSecretPrefix + randomString(32),
	}
}

// ValidClientID reports whether s has the shape of a client id, so that junk never
// reaches the table as a key.
func ValidClientID(s string) bool {
	rest, ok := strings.CutPrefix(s, ClientIDPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(16) {
		return false
	}
	// The alphabet itself: the decoder skips \r and \n, which must never reach a key.
	for _, c := range []byte(rest) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

// Digest is what is stored instead of a credential. A plain SHA-256 is enough: the
// credentials are 256-bit random strings, not passwords, so there is nothing to brute-force.
func Digest(credential string) []byte {
	d := sha256.Sum256([]byte(credential))
	return d[:]
}

// DigestMatches compares a presented credential with a stored digest in constant time.
func DigestMatches(credential string, digest []byte) bool {
	return subtle.ConstantTimeCompare(Digest(credential), digest) == 1
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b)
}
