// Package cursor owns the pagination positions handed to clients: a position is sealed
// into an opaque token that the client carries to the next request but can neither
// forge, alter, nor move to another list. Each token is signed with HMAC-SHA256 over
// its scope (which list, whose) and its position; the scope itself is not in the token,
// so a token sealed for one scope fails to open in any other.
package cursor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a sealing key, in bytes.
const KeySize = 32

// MaxPosition is the longest position, in bytes, that a token can carry and Open
// accepts. Open refuses longer tokens before any work.
const MaxPosition = 1024

// ErrInvalid is every failure to open a token: malformed, truncated, altered, forged,
// or sealed for another scope. Callers answer it without saying which.
var ErrInvalid = errors.New("invalid cursor")

// version is the first byte of every token, so that its layout can change later.
const version = 1

var encoding = base64.RawURLEncoding.Strict()

// Sealer seals and opens tokens with one key. It is safe for concurrent use.
type Sealer struct {
	key []byte
}

// New returns a Sealer with key, which must be KeySize secret random bytes. A key of
// another length is a configuration error: New panics, at cold start.
func New(key []byte) *Sealer {
	if len(key) != KeySize {
		panic(fmt.Sprintf("cursor: key is %d bytes, want %d", len(key), KeySize))
	}
	return &Sealer{key: append([]byte(nil), key...)}
}

// Seal returns the URL-safe token for position in scope. Scopes must be unambiguous
// (for example "teams/<tenant>"); position must be at most MaxPosition bytes.
func (s *Sealer) Seal(scope string, position []byte) string {
	token := make([]byte, 0, 1+len(position)+sha256.Size)
	token = append(token, version)
	token = append(token, position...)
	token = append(token, s.tag(scope, position)...)
	return encoding.EncodeToString(token)
}

// Open returns the position sealed in token for scope, or ErrInvalid.
func (s *Sealer) Open(scope, token string) ([]byte, error) {
	// The decoder skips \r and \n even in strict mode: refused here, so that one cursor
	// has one spelling.
	if len(token) > encoding.EncodedLen(1+MaxPosition+sha256.Size) || strings.ContainsAny(token, "\r\n") {
		return nil, ErrInvalid
	}
	raw, err := encoding.DecodeString(token)
	if err != nil || len(raw) < 1+sha256.Size || raw[0] != version {
		return nil, ErrInvalid
	}
	position, tag := raw[1:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if !hmac.Equal(tag, s.tag(scope, position)) {
		return nil, ErrInvalid
	}
	return position, nil
}

// tag is the MAC of (version, scope, position). The scope is length-prefixed, so no
// scope and position can be re-split into another pair with the same MAC input.
func (s *Sealer) tag(scope string, position []byte) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte{version})
	mac.Write(binary.AppendUvarint(nil, uint64(len(scope))))
	mac.Write([]byte(scope))
	mac.Write(position)
	return mac.Sum(nil)
}
