package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

func TestPasswordStrength(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		want           error
	}{
		{"long and unusual", "correct horse battery staple", nil},
		{"eleven characters", "Zq8#vLm2!pX", auth.ErrPasswordTooShort},
		{"twelve multibyte characters count as characters", "ünïcödé-κλειδί", nil},
		{"too long", strings.Repeat("x9!", 100), auth.ErrPasswordTooLong},
		{"in the list", "123456789012", auth.ErrPasswordTooCommon},
		{"list, other case", "QwertyUiopAsdfGh", auth.ErrPasswordTooCommon},
		{"common stem padded", "Password2024!", auth.ErrPasswordTooCommon},
		{"common stem padded both sides", "!!Football123", auth.ErrPasswordTooCommon},
		{"digits only", "908172635401", auth.ErrPasswordTooCommon},
		{"a repeated character", "aaaaaaaaaaaaaaaa", auth.ErrPasswordTooCommon},
		{"three characters repeated", "abcabcabcabc", auth.ErrPasswordTooCommon},
		{"the email's local part", "alexander.smith1", auth.ErrPasswordTooCommon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := auth.CheckPasswordStrength(tc.password, "alexander.smith@example.com"); !errors.Is(err, tc.want) {
				t.Errorf("CheckPasswordStrength(%q) = %v, want %v", tc.password, err, tc.want)
			}
		})
	}
}

func TestPasswordHash(t *testing.T) {
	h := auth.HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q: not argon2id at the documented parameters", h)
	}
	if h == auth.HashPassword("correct horse battery staple") {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		name, password, hash string
		want                 bool
	}{
		{"right", "correct horse battery staple", h, true},
		{"wrong", "correct horse battery stapler", h, false},
		{"empty", "", h, false},
		{"malformed hash", "correct horse battery staple", "$argon2id$v=19$m=19456", false},
		{"other algorithm", "correct horse battery staple", strings.Replace(h, "argon2id", "argon2i", 1), false},
		{"absurd memory", "x", "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", false},
		{"another password's hash", "anything", auth.HashPassword("no account has this email; nothing matches it"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := auth.PasswordMatches(tc.password, tc.hash); got != tc.want {
				t.Errorf("PasswordMatches = %v, want %v", got, tc.want)
			}
		})
	}
}
