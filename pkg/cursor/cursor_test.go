package cursor_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/cursor"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, cursor.KeySize) }

func TestRoundTrip(t *testing.T) {
	s := cursor.New(key(1))
	for _, tc := range []struct {
		name     string
		scope    string
		position []byte
	}{
		{"id", "teams/01J00000000000000000000000", []byte("01J00000000000000000000001")},
		{"empty position", "teams/t", nil},
		{"binary position", "rankings/t/b", []byte{0, 0xff, '#', 0}},
		{"empty scope", "", []byte("x")},
		{"longest position", "s", bytes.Repeat([]byte{'p'}, cursor.MaxPosition)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := s.Seal(tc.scope, tc.position)
			if strings.ContainsAny(token, "+/=") {
				t.Fatalf("token %q is not URL-safe", token)
			}
			got, err := s.Open(tc.scope, token)
			if err != nil || !bytes.Equal(got, tc.position) {
				t.Fatalf("Open = %q, %v; want %q", got, err, tc.position)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	s := cursor.New(key(1))
	scope := "teams/tenant-a"
	token := s.Seal(scope, []byte("01J00000000000000000000001"))
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	// The last character also holds bits that are not data; changing it must fail too.
	lastChar := token[:len(token)-1] + "A"
	if token[len(token)-1] == 'A' {
		lastChar = token[:len(token)-1] + "B"
	}
	forged := base64.RawURLEncoding.EncodeToString(append([]byte{1}, append([]byte("01J00000000000000000000009"), make([]byte, 32)...)...))
	for _, tc := range []struct{ name, scope, token string }{
		{"other scope", "teams/tenant-b", token},
		{"other kind", "leaderboards/tenant-a", token},
		{"scope prefix", "teams/tenant-", token},
		{"other key", scope, cursor.New(key(2)).Seal(scope, []byte("01J00000000000000000000001"))},
		{"altered position", scope, flip(5)},
		{"altered tag", scope, flip(len(raw) - 1)},
		{"altered version", scope, flip(0)},
		{"altered last character", scope, lastChar},
		{"forged", scope, forged},
		{"truncated", scope, token[:len(token)-4]},
		{"truncated to a tag", scope, base64.RawURLEncoding.EncodeToString(raw[len(raw)-32:])},
		{"extended", scope, token + "AA"},
		{"padded", scope, token + "="},
		{"standard base64", scope, base64.StdEncoding.EncodeToString(raw)},
		{"empty", scope, ""},
		{"not base64", scope, "!!!!"},
		{"too long", scope, strings.Repeat("A", 4*cursor.MaxPosition)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.token == token && tc.scope == scope {
				t.Fatal("test case does not change anything")
			}
			if got, err := s.Open(tc.scope, tc.token); !errors.Is(err, cursor.ErrInvalid) {
				t.Fatalf("Open = %q, %v; want ErrInvalid", got, err)
			}
		})
	}
}

func TestNewCopiesAndChecksTheKey(t *testing.T) {
	k := key(1)
	s := cursor.New(k)
	token := s.Seal("s", []byte("p"))
	k[0] ^= 1 // the caller's slice changing later must not change the sealer
	if _, err := s.Open("s", token); err != nil {
		t.Fatalf("Open after the caller changed its key slice: %v", err)
	}
	for _, n := range []int{0, 16, 31, 33} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New accepted a %d-byte key", n)
				}
			}()
			cursor.New(make([]byte, n))
		}()
	}
}
