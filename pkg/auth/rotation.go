package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// A RotatingSigner is the token function's signer. Its key is loaded and published at
// cold start, but a warm instance outlives rotations: another instance publishes a newer
// key (which retires this one RetireAfter later), or the operator retires this one at once.
// So it keeps an eye on its key's published item, and promises:
//
//   - It reads that item at most once every KeyRecheckInterval (the first token
//     included), never more often, however many tokens it issues.
//   - No token it issues expires after its key's retiresAt, as last read: a token never
//     claims a life its key will not have. Once less than a second of that life is left
//     it issues none, and answers ErrNoSigningKey.
//   - Once its key is retiring (or missing from the table), it loads the key from its
//     source again, as a cold start does. A different key there is published (which
//     retires the others, as a cold start's publication does) and signs from then on.
//   - A failed read, load or publication changes nothing: it signs on with the key it
//     has, within the retirement it knows, and tries again one interval later.
//
// It is safe for concurrent use. The caller that finds a read due makes it, and waits
// for it; the others meanwhile sign with what is known.
type RotatingSigner struct {
	load      KeyLoader
	published publishedKeyReader
	publisher keyPublisher
	now       func() time.Time
	log       *slog.Logger

	mu        sync.Mutex
	key       SigningKey
	retiresAt time.Time // key's, as last read; zero while nothing retires it
	checked   time.Time // when the last read of key's item began
	checking  bool      // a read is under way
}

// KeyRecheckInterval is how often a RotatingSigner reads its key's published item.
const KeyRecheckInterval = time.Minute

// RetireAfter is how long after a newer key is published the others retire: a token's
// life, plus KeyRecheckInterval (a warm signer may not know of the new key for that
// long, and signs whole-life tokens meanwhile), plus a minute for clocks that disagree.
// So every token signed by a key that was current as far as its signer knew lives out
// its whole life.
const RetireAfter = TokenTTL + KeyRecheckInterval + time.Minute

// KeyLoader loads the signing key from where the deployment keeps it: the function a
// cold start loads it with.
type KeyLoader func(ctx context.Context) (SigningKey, error)

type publishedKeyReader interface {
	PublishedKey(ctx context.Context, keyID string) (PublishedKey, error)
}

type keyPublisher interface {
	PublishSigningKey(ctx context.Context, pub ed25519.PublicKey) error
}

// ErrNoSigningKey says a RotatingSigner has no key it may sign with: its key is retired
// (or will be within a second) and its source gives no other that may sign.
var ErrNoSigningKey = errors.New("no signing key that may sign")

// NewRotatingSigner returns a RotatingSigner that signs with key, which the caller has
// loaded with load and published with publisher. It reads key's publication from
// published and the time from now, and logs what it learns to log.
func NewRotatingSigner(key SigningKey, load KeyLoader, published publishedKeyReader, publisher keyPublisher, now func() time.Time, log *slog.Logger) *RotatingSigner {
	return &RotatingSigner{key: key, load: load, published: published, publisher: publisher, now: now, log: log}
}

// Issue returns a signed token for the client and how many seconds it is valid, or an
// error wrapping ErrNoSigningKey if no key may sign it.
func (s *RotatingSigner) Issue(ctx context.Context, c Claims) (token string, expiresIn int, err error) {
	key, retiresAt := s.current(ctx)
	now := s.now()
	life := TokenTTL
	if !retiresAt.IsZero() {
		life = min(life, retiresAt.Sub(now).Truncate(time.Second))
	}
	if life < time.Second {
		return "", 0, fmt.Errorf("signing key %s retires at %s and its source gives no other: %w",
			key.ID, retiresAt.UTC().Format(time.RFC3339), ErrNoSigningKey)
	}
	return issue(key, c, now, life)
}

// current returns the key to sign with and its retirement, after reading its item if
// that is due.
func (s *RotatingSigner) current(ctx context.Context) (SigningKey, time.Time) {
	now := s.now()
	s.mu.Lock()
	due := !s.checking && !now.Before(s.checked.Add(KeyRecheckInterval))
	if due {
		s.checking, s.checked = true, now
	}
	key, retiresAt := s.key, s.retiresAt
	s.mu.Unlock()
	if !due {
		return key, retiresAt
	}
	// Deferred, so that a panic in the read (recovered by the request log) cannot
	// leave checking set and this instance never reading again.
	defer func() {
		s.mu.Lock()
		s.key, s.retiresAt, s.checking = key, retiresAt, false
		s.mu.Unlock()
	}()
	key, retiresAt = s.recheck(ctx, key, retiresAt)
	return key, retiresAt
}

// recheck reads key's item and, if key is retiring or missing, loads the source's key
// and publishes it if it is another. It returns the key to sign with and its retirement.
func (s *RotatingSigner) recheck(ctx context.Context, key SigningKey, retiresAt time.Time) (SigningKey, time.Time) {
	pub, err := s.published.PublishedKey(ctx, key.ID)
	missing := errors.Is(err, ErrUnknownKey)
	switch {
	case missing:
		// Verifiers refuse its tokens: publish again, as a cold start would.
	case err != nil:
		s.log.WarnContext(ctx, "signing key: cannot read its publication; signing on with it",
			"kid", key.ID, "retiresAt", retiresAt, "err", err)
		return key, retiresAt
	case pub.RetiresAt.IsZero():
		return key, time.Time{}
	default:
		retiresAt = pub.RetiresAt
	}

	next, err := s.load(ctx)
	switch {
	case err != nil:
		s.log.ErrorContext(ctx, "signing key: it retires, and loading the key again failed",
			"kid", key.ID, "retiresAt", retiresAt, "err", err)
		return key, retiresAt
	case next.ID == key.ID && !missing:
		s.log.ErrorContext(ctx, "signing key: it retires (a newer key was published, or the operator retired it), and its source still gives it: put a new secret",
			"kid", key.ID, "retiresAt", retiresAt)
		return key, retiresAt
	}
	if err := s.publisher.PublishSigningKey(ctx, next.Public()); err != nil {
		// ErrRetiredKey among others: the source's key may not sign either.
		s.log.ErrorContext(ctx, "signing key: publishing the source's key failed; signing on with the old one",
			"kid", key.ID, "retiresAt", retiresAt, "next", next.ID, "err", err)
		return key, retiresAt
	}
	s.log.InfoContext(ctx, "signing key: published the source's key; signing with it", "kid", next.ID, "old", key.ID, "oldRetiresAt", retiresAt)
	return next, time.Time{}
}
