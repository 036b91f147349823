package auth

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id at the parameters OWASP's Password Storage Cheat
// Sheet gives as its first choice (19 MiB of memory, 2 passes, 1 lane): memory-hard, so
// that a stolen table cannot be guessed through on GPUs, and light enough for a 512 MB
// Lambda function to check one in well under a second.
const (
	argonMemoryKiB = 19 * 1024
	argonPasses    = 2
	argonLanes     = 1
	argonKeyBytes  = 32
	argonSaltBytes = 16
)

// Password rules.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256 // bytes: a longer one is not a password, it is a denial of service
)

// Why a password is refused. The messages are written for the person choosing it.
var (
	ErrPasswordTooShort  = fmt.Errorf("password must be at least %d characters", MinPasswordLength)
	ErrPasswordTooLong   = fmt.Errorf("password must be at most %d bytes", MaxPasswordLength)
	ErrPasswordTooCommon = errors.New("password is too common; choose one that is not a well-known password, a keyboard pattern or a repeated character")
)

// CheckPasswordStrength refuses a password shorter than MinPasswordLength characters, and
// one of the commonest passwords, keyboard walks and repetitions (NIST SP 800-63B 5.1.1.2
// asks for a check against "commonly-used, expected, or compromised" values).
func CheckPasswordStrength(password, email string) error {
	switch {
	case len(password) > MaxPasswordLength:
		return ErrPasswordTooLong
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return ErrPasswordTooShort
	case common(password, email):
		return ErrPasswordTooCommon
	}
	return nil
}

//go:embed common-passwords.txt
var commonList string

// commonBases are the common passwords and their stems, lower-cased, one a line.
var commonBases = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// common reports whether a password is a common one, or a common stem padded with digits
// and symbols ("Password2024!"), one character repeated, or the email's local part.
func common(password, email string) bool {
	p := strings.ToLower(password)
	if commonBases[p] {
		return true
	}
	stem := strings.TrimRightFunc(p, func(r rune) bool { return !('a' <= r && r <= 'z') })
	stem = strings.TrimLeftFunc(stem, func(r rune) bool { return !('a' <= r && r <= 'z') })
	if stem == "" || commonBases[stem] || distinctRunes(p) <= 3 {
		return true
	}
	if local, _, ok := strings.Cut(strings.ToLower(email), "@"); ok && len(local) >= 4 && strings.Contains(p, local) && len(p)-len(local) < 6 {
		return true
	}
	return false
}

func distinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// HashPassword returns the password's argon2id hash in the PHC string format, with the
// parameters and a fresh random salt in it, so that they can change later.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltBytes)
	rand.Read(salt)
	sum := argon2.IDKey([]byte(password), salt, argonPasses, argonMemoryKiB, argonLanes, argonKeyBytes)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonPasses, argonLanes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
}

// PasswordMatches reports whether password hashes to phc, in constant time. A malformed
// hash matches nothing.
func PasswordMatches(password, phc string) bool {
	var version, memory, passes int
	var lanes uint8
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &lanes); err != nil ||
		memory < 1 || memory > 1<<20 || passes < 1 || passes > 10 || lanes < 1 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, uint32(passes), uint32(memory), lanes, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewSessionID draws an opaque session id: 256 random bits. Only its digest is stored.
func NewSessionID() string { return randomString(32) }
