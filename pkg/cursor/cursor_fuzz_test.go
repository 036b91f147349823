package cursor_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/cursor"
)

// FuzzOpen feeds Open what a client can send as ?cursor= (any string) for any scope. A
// token opens only as the very token Seal makes for that scope and position, so no
// altered, re-encoded or moved cursor gets through; every other one is ErrInvalid.
func FuzzOpen(f *testing.F) {
	s := cursor.New(bytes.Repeat([]byte{1}, cursor.KeySize))
	const scope = "teams/tenant-a"
	good := s.Seal(scope, []byte("01J00000000000000000000001"))
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flipped := bytes.Clone(raw)
	flipped[10] ^= 1
	for _, seed := range []struct{ scope, token string }{
		{scope, good},
		{"teams/tenant-b", good},
		{"leaderboards/tenant-a", good},
		{scope, base64.RawURLEncoding.EncodeToString(flipped)},
		{scope, good[:len(good)-2]},
		{scope, good + "A"},
		{scope, good + "="},
		{scope, base64.StdEncoding.EncodeToString(raw)},
		{scope, "AQ" + strings.Repeat("A", 76)},
		{scope, "not a cursor"},
		{scope, ""},
		{"rankings/t/b", s.Seal("rankings/t/b", []byte{0, 0xff, '#', 0})},
		{"s", s.Seal("s", bytes.Repeat([]byte{'p'}, cursor.MaxPosition))},
		{"", s.Seal("", nil)},
	} {
		f.Add(seed.scope, seed.token)
	}
	f.Fuzz(func(t *testing.T, scope, token string) {
		position, err := s.Open(scope, token)
		if err != nil {
			if !errors.Is(err, cursor.ErrInvalid) {
				t.Fatalf("Open error %v, want ErrInvalid", err)
			}
			if position != nil {
				t.Fatalf("Open failed but returned position %q", position)
			}
		} else {
			if len(position) > cursor.MaxPosition {
				t.Fatalf("opened a %d-byte position, more than MaxPosition", len(position))
			}
			if again := s.Seal(scope, position); again != token {
				t.Fatalf("token %q opened, but Seal makes %q for its position: a second spelling of one cursor", token, again)
			}
			if _, err := s.Open(scope+"/", token); err == nil {
				t.Fatalf("token %q opens in scope %q and in %q", token, scope, scope+"/")
			}
		}

		// Whatever the client sent, used as a position, seals and opens back unchanged.
		if len(token) <= cursor.MaxPosition {
			sealed := s.Seal(scope, []byte(token))
			got, err := s.Open(scope, sealed)
			if err != nil || string(got) != token {
				t.Fatalf("Seal then Open of %q: %q, %v", token, got, err)
			}
			if len(sealed) != base64.RawURLEncoding.EncodedLen(1+len(token)+sha256.Size) {
				t.Fatalf("sealed token is %d characters", len(sealed))
			}
		}
	})
}
