package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A Verifier finds public keys through a keyCache, which promises:
//
//   - A key found in the source is trusted for KeyCacheTTL, then read again: a
//     retirement written to the table reaches every verifier within KeyCacheTTL.
//   - A key's retirement time is cached with it: a cached key stops verifying at its
//     retirement, however fresh its entry.
//   - A key id the source does not have is remembered as unknown for UnknownKeyTTL, so
//     that repeating a forged kid costs no read.
//   - At most MaxKeyLookups reads are spent in each UnknownKeyTTL window on key ids that
//     are not cached as found keys; past that, such ids are refused without a read until
//     the window ends. Found keys are read again when their entry expires whatever the
//     count, so a flood of forged kids never stops a live key from verifying. (It can
//     delay the first use of a key an instance has not yet seen, by at most one window.)
//   - A failed read (an outage, not "unknown") is not cached: the next token reads again.
const (
	KeyCacheTTL   = 5 * time.Minute
	UnknownKeyTTL = time.Minute
	MaxKeyLookups = 16
)

type keyCache struct {
	source KeySource
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]keyEntry
	window  time.Time // when the current window of lookups began
	lookups int       // reads of ids not cached as found keys, in the window
}

type keyEntry struct {
	key     PublishedKey // Public is nil for an id the source does not know
	expires time.Time
}

func newKeyCache(source KeySource, now func() time.Time) *keyCache {
	return &keyCache{source: source, now: now, entries: map[string]keyEntry{}}
}

// errTooManyLookups refuses an id once the window's reads are spent.
var errTooManyLookups = fmt.Errorf("too many key ids looked up: %w", ErrUnknownKey)

// key returns the public key with id kid if it may verify a token now, or an error
// wrapping ErrUnknownKey, or ErrRetiredKey for a retired key, if not.
func (c *keyCache) key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	now := c.now()
	k, err := c.lookup(ctx, kid, now)
	switch {
	case err != nil:
		return nil, err
	case k.Public == nil:
		return nil, ErrUnknownKey
	case k.RetiredAt(now):
		return nil, fmt.Errorf("key %s since %s: %w", kid, k.RetiresAt.UTC().Format(time.RFC3339), ErrRetiredKey)
	}
	return k.Public, nil
}

func (c *keyCache) lookup(ctx context.Context, kid string, now time.Time) (PublishedKey, error) {
	c.mu.Lock()
	e, ok := c.entries[kid]
	if ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.key, nil
	}
	if !ok || e.key.Public == nil {
		if !c.spendLookup(now) {
			c.mu.Unlock()
			return PublishedKey{}, errTooManyLookups
		}
	}
	c.mu.Unlock()

	k, err := c.fetch(ctx, kid)
	if errors.Is(err, ErrUnknownKey) {
		k, err = PublishedKey{}, nil
	}
	if err != nil {
		return PublishedKey{}, err
	}
	ttl := KeyCacheTTL
	if k.Public == nil {
		ttl = UnknownKeyTTL
	}
	c.mu.Lock()
	c.entries[kid] = keyEntry{key: k, expires: now.Add(ttl)}
	c.mu.Unlock()
	return k, nil
}

// spendLookup counts a read of an id not cached as a found key, and reports whether the
// window allows it. A new window also forgets the unknown ids that have expired, so
// that forged kids cannot grow the map without bound. c.mu is held.
func (c *keyCache) spendLookup(now time.Time) bool {
	if now.Sub(c.window) >= UnknownKeyTTL || now.Before(c.window) {
		c.window, c.lookups = now, 0
		for kid, e := range c.entries {
			if e.key.Public == nil && !now.Before(e.expires) {
				delete(c.entries, kid)
			}
		}
	}
	if c.lookups >= MaxKeyLookups {
		return false
	}
	c.lookups++
	return true
}

// fetch reads a key from the source, with its retirement if the source knows of any.
func (c *keyCache) fetch(ctx context.Context, kid string) (PublishedKey, error) {
	var k PublishedKey
	var err error
	if r, ok := c.source.(RetiringKeySource); ok {
		k, err = r.PublishedKey(ctx, kid)
	} else {
		k.Public, err = c.source.PublicKey(ctx, kid)
	}
	if err != nil {
		return PublishedKey{}, err
	}
	if len(k.Public) != ed25519.PublicKeySize || KeyID(k.Public) != kid {
		return PublishedKey{}, fmt.Errorf("key stored under %s does not match its id: %w", kid, ErrUnknownKey)
	}
	return k, nil
}
