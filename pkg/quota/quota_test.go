package quota_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/quota"
)

// memStore is a bucket store in memory, counting its calls.
type memStore struct {
	mu      sync.Mutex
	buckets map[string]quota.Bucket
	reads   int
	writes  int
}

func (m *memStore) QuotaBucket(ctx context.Context, tenant string, class quota.Class) (quota.Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	return m.buckets[tenant+string(class)], nil
}

func (m *memStore) TakeQuota(ctx context.Context, tenant string, class quota.Class, version int64, tokens float64, at time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	b := m.buckets[tenant+string(class)]
	if b.Version != version {
		return false, nil
	}
	b.Tokens, b.At, b.Version = tokens, at, version+1
	m.buckets[tenant+string(class)] = b
	return true, nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBucket(t *testing.T) {
	store := &memStore{buckets: map[string]quota.Bucket{}}
	c := &clock{t: time.Unix(1_000_000, 0)}
	limits := quota.Limits{Rate: 200, Burst: 400}
	l := quota.NewLimiter(store, map[quota.Class]quota.Limits{quota.Write: limits}, c.now)
	ctx := context.Background()

	allowed := func(n int) int {
		ok := 0
		for range n {
			if err := l.Allow(ctx, "a", quota.Write); err == nil {
				ok++
			} else if !errors.Is(err, quota.ErrOverQuota) {
				t.Fatal(err)
			}
		}
		return ok
	}
	// A burst: 400 at once, then nothing.
	if got := allowed(1000); got != 400 {
		t.Errorf("burst: %d allowed, want 400", got)
	}
	// Refused ones cost at most one read, and no write, until a token has refilled.
	reads, writes := store.reads, store.writes
	var over *quota.OverQuotaError
	if err := l.Allow(ctx, "a", quota.Write); !errors.As(err, &over) || over.RetryAfter <= 0 || over.RetryAfter > 5*time.Millisecond {
		t.Fatalf("over quota = %v", err)
	}
	if store.reads != reads || store.writes != writes {
		t.Errorf("a refusal cost %d reads and %d writes, want none", store.reads-reads, store.writes-writes)
	}
	// Half a second refills 100.
	c.t = c.t.Add(500 * time.Millisecond)
	if got := allowed(1000); got != 100 {
		t.Errorf("after 0.5 s: %d allowed, want 100", got)
	}
	// Other tenants and unlimited classes are untouched.
	if err := l.Allow(ctx, "b", quota.Write); err != nil {
		t.Errorf("tenant b: %v", err)
	}
	if err := l.Allow(ctx, "a", quota.Read); err != nil {
		t.Errorf("an unlimited class: %v", err)
	}
	// Leases of 10 (5% of a second's 200): a write per 10 requests.
	if store.writes > 55 {
		t.Errorf("%d writes for 500 requests: leases are not batching", store.writes)
	}
}

func TestManyInstancesShareOneBucket(t *testing.T) {
	store := &memStore{buckets: map[string]quota.Bucket{}}
	c := &clock{t: time.Unix(2_000_000, 0)}
	limits := quota.Limits{Rate: 100, Burst: 50}
	var total int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 { // eight Lambda instances
		l := quota.NewLimiter(store, map[quota.Class]quota.Limits{quota.Write: limits}, c.now)
		wg.Go(func() {
			for range 200 {
				if l.Allow(context.Background(), "a", quota.Write) == nil {
					mu.Lock()
					total++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	// No time passes: the burst, and no more, whoever asks.
	if total != 50 {
		t.Errorf("%d allowed across instances, want the burst of 50", total)
	}
}

func TestParseLimits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want quota.Limits
		ok   bool
	}{
		{"100/200", quota.Limits{Rate: 100, Burst: 200}, true},
		{"0.5/1", quota.Limits{Rate: 0.5, Burst: 1}, true},
		{"100", quota.Limits{}, false},
		{"0/10", quota.Limits{}, false},
		{"10/0.5", quota.Limits{}, false},
		{"x/y", quota.Limits{}, false},
	} {
		got, err := quota.ParseLimits(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLimits(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestLocal(t *testing.T) {
	c := &clock{t: time.Unix(3_000_000, 0)}
	l := quota.NewLocal(quota.Limits{Rate: 10, Burst: 5}, c.now)
	ok := 0
	for range 20 {
		if allowed, _ := l.Allow("203.0.113.1"); allowed {
			ok++
		}
	}
	if ok != 5 {
		t.Errorf("burst: %d allowed, want 5", ok)
	}
	if allowed, wait := l.Allow("203.0.113.1"); allowed || wait <= 0 || wait > 100*time.Millisecond {
		t.Errorf("over: %v, wait %s", allowed, wait)
	}
	if allowed, _ := l.Allow("198.51.100.2"); !allowed {
		t.Error("another address is held back")
	}
	c.t = c.t.Add(300 * time.Millisecond)
	ok = 0
	for range 20 {
		if allowed, _ := l.Allow("203.0.113.1"); allowed {
			ok++
		}
	}
	if ok != 3 {
		t.Errorf("after 0.3 s at 10 a second: %d allowed, want 3", ok)
	}
}

// TestManyQuietInstances: 100 instances each serving one request a second (Lambda's
// usual case) stay within a rate of 100 a second: leases of one strand no tokens.
func TestManyQuietInstances(t *testing.T) {
	store := &memStore{buckets: map[string]quota.Bucket{}}
	c := &clock{t: time.Unix(4_000_000, 0)}
	var limiters []*quota.Limiter
	for range 100 {
		limiters = append(limiters, quota.NewLimiter(store, map[quota.Class]quota.Limits{quota.Read: {Rate: 100, Burst: 100}}, c.now))
	}
	refused := 0
	for range 10 {
		c.t = c.t.Add(time.Second)
		for _, l := range limiters {
			if l.Allow(context.Background(), "a", quota.Read) != nil {
				refused++
			}
		}
	}
	if refused > 0 {
		t.Errorf("%d of 1,000 requests at the quota's own rate refused", refused)
	}
}
