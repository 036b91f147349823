package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFromFile derives the signing key from a local seed file, creating the file with a
// fresh random seed (mode 0600) the first time. For development only: in AWS the seed
// is a Secrets Manager secret.
func KeyFromFile(path string) (SigningKey, error) {
	seed, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		seed, err = createSeedFile(path)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("signing key file: %w", err)
	}
	return KeyFromSeed([]byte(strings.TrimSpace(string(seed))))
}

func createSeedFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	seed := []byte(hex.EncodeToString(raw))
	// Write aside, then link into place: a second process either wins the link or reads
	// the complete file of the first, never a half-written one.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".seed-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(seed); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	} else if err != nil {
		return nil, err
	}
	return seed, nil
}
