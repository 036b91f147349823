package quota

import (
	"sync"
	"time"
)

// Local limits callers by a key (a source address) in this instance's memory alone: for
// unauthenticated routes, where there is no tenant yet and a flood must cost no table
// read. It keeps at most maxKeys buckets; when full, it forgets them all, which can only
// ever let a caller through, never shut one out.
type Local struct {
	limits Limits
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*localBucket
}

type localBucket struct {
	tokens float64
	at     time.Time
}

const maxKeys = 10_000

// NewLocal limits each key to limits.
func NewLocal(limits Limits, now func() time.Time) *Local {
	return &Local{limits: limits, now: now, buckets: map[string]*localBucket{}}
}

// Allow spends one token of key's bucket, or says how long until there is one.
func (l *Local) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxKeys {
			clear(l.buckets)
		}
		b = &localBucket{tokens: l.limits.Burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.limits.Burst, b.tokens+max(now.Sub(b.at), 0).Seconds()*l.limits.Rate)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.limits.Rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}
