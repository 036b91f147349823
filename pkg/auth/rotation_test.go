package auth_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

// signingTable is a fake of the table as the token function's signer sees it: the
// published keys, with reads counted and failures to order.
type signingTable struct {
	mu         sync.Mutex
	keys       map[string]auth.PublishedKey
	reads      []string // the kid of each read
	readErr    error
	publishErr error
	published  []string
	hold       chan struct{} // if set, a read waits for it to close
}

func (tb *signingTable) PublishedKey(_ context.Context, kid string) (auth.PublishedKey, error) {
	tb.mu.Lock()
	tb.reads = append(tb.reads, kid)
	hold := tb.hold
	tb.mu.Unlock()
	if hold != nil {
		<-hold
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.readErr != nil {
		return auth.PublishedKey{}, tb.readErr
	}
	k, ok := tb.keys[kid]
	if !ok {
		return auth.PublishedKey{}, auth.ErrUnknownKey
	}
	return k, nil
}

func (tb *signingTable) PublishSigningKey(_ context.Context, pub ed25519.PublicKey) error {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.publishErr != nil {
		return tb.publishErr
	}
	kid := auth.KeyID(pub)
	tb.published = append(tb.published, kid)
	if _, ok := tb.keys[kid]; !ok {
		tb.keys[kid] = auth.PublishedKey{Public: pub}
	}
	return nil
}

func (tb *signingTable) set(k auth.SigningKey, retiresAt time.Time) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.keys[k.ID] = auth.PublishedKey{Public: k.Public(), RetiresAt: retiresAt}
}

func (tb *signingTable) readCount() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return len(tb.reads)
}

// secret is a fake of where the deployment keeps its key (the Secrets Manager secret).
type secret struct {
	mu    sync.Mutex
	key   auth.SigningKey
	err   error
	loads int
}

func (s *secret) load(context.Context) (auth.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	return s.key, s.err
}

func (s *secret) put(k auth.SigningKey) { s.mu.Lock(); defer s.mu.Unlock(); s.key = k }

var discardLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// issued is what a token says of its key and expiry, read without verifying it.
func issued(t *testing.T, token string) (kid string, exp time.Time) {
	t.Helper()
	var claims jwt.RegisteredClaims
	tok, _, err := jwt.NewParser().ParseUnverified(token, &claims)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ = tok.Header["kid"].(string)
	return kid, claims.ExpiresAt.Time
}

func TestRotatingSignerIssue(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC) // not on a second
	a, b := testKey(t, "rotation key a, 32 bytes at the least"), testKey(t, "rotation key b, 32 bytes at the least")
	tenMinutes := t0.Truncate(time.Second).Add(10 * time.Minute) // 9m59.75s away
	outage := errors.New("outage")

	cases := []struct {
		name       string
		published  bool      // whether A's item is in the table
		retiresAt  time.Time // A's
		readErr    error
		source     auth.SigningKey
		loadErr    error
		publishErr error

		wantKey       string // "" for no token: ErrNoSigningKey
		wantExpiresIn int
		wantPublished []string
	}{
		{name: "a current key signs for the whole lifetime", published: true, source: b,
			wantKey: a.ID, wantExpiresIn: 3600},
		{name: "a retiring key whose source gives it still signs until its retirement", published: true, retiresAt: tenMinutes, source: a,
			wantKey: a.ID, wantExpiresIn: 599},
		{name: "a retiring key whose source gives another: that one is published and signs", published: true, retiresAt: t0.Add(time.Hour), source: b,
			wantKey: b.ID, wantExpiresIn: 3600, wantPublished: []string{b.ID}},
		{name: "a retired key whose source gives another: that one signs", published: true, retiresAt: t0.Add(-time.Minute), source: b,
			wantKey: b.ID, wantExpiresIn: 3600, wantPublished: []string{b.ID}},
		{name: "a retired key whose source gives it still: no token", published: true, retiresAt: t0.Add(-time.Second), source: a},
		{name: "less than a second before the retirement: no token", published: true, retiresAt: t0.Add(999 * time.Millisecond), source: a},
		{name: "the table cannot be read: the key signs on", published: true, retiresAt: t0.Add(time.Minute), readErr: outage, source: b,
			wantKey: a.ID, wantExpiresIn: 3600},
		{name: "the source cannot be read: the retiring key signs until its retirement", published: true, retiresAt: tenMinutes, loadErr: outage,
			wantKey: a.ID, wantExpiresIn: 599},
		{name: "the source cannot be read and the key is retired: no token", published: true, retiresAt: t0, loadErr: outage},
		{name: "the source's key is retired too: the retiring key signs until its retirement", published: true, retiresAt: tenMinutes, source: b,
			publishErr: auth.ErrRetiredKey, wantKey: a.ID, wantExpiresIn: 599},
		{name: "a key missing from the table is published again", published: false, source: a,
			wantKey: a.ID, wantExpiresIn: 3600, wantPublished: []string{a.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table := &signingTable{keys: map[string]auth.PublishedKey{}, readErr: tc.readErr, publishErr: tc.publishErr}
			if tc.published {
				table.set(a, tc.retiresAt)
			}
			src := &secret{key: tc.source, err: tc.loadErr}
			signer := auth.NewRotatingSigner(a, src.load, table, table, fixedClock(t0), discardLog)

			token, expiresIn, err := signer.Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
			if tc.wantKey == "" {
				if !errors.Is(err, auth.ErrNoSigningKey) || token != "" {
					t.Fatalf("= %q, %v; want no token and ErrNoSigningKey", token, err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				kid, exp := issued(t, token)
				if kid != tc.wantKey || expiresIn != tc.wantExpiresIn {
					t.Errorf("signed by %s for %d s, want %s for %d s", kid, expiresIn, tc.wantKey, tc.wantExpiresIn)
				}
				if exp.After(t0.Add(time.Duration(expiresIn) * time.Second)) {
					t.Errorf("exp %v is after now + expiresIn", exp)
				}
				if kid == a.ID && !tc.retiresAt.IsZero() && tc.readErr == nil && exp.After(tc.retiresAt) {
					t.Errorf("exp %v is after the key's retirement %v", exp, tc.retiresAt)
				}
				// The token verifies with its key: it was signed by the key it names.
				v := auth.NewVerifier(auth.KeySet{a.ID: a.Public(), b.ID: b.Public()}, fixedClock(t0))
				if _, err := v.Verify(context.Background(), token); err != nil {
					t.Errorf("the token does not verify: %v", err)
				}
			}
			if !slices.Equal(table.published, tc.wantPublished) {
				t.Errorf("published %v, want %v", table.published, tc.wantPublished)
			}
			if n := table.readCount(); n != 1 {
				t.Errorf("%d reads of the table, want 1", n)
			}
		})
	}
}

// A warm signer sees another instance's rotation at its next read, and signs with the
// new key from then on.
func TestRotatingSignerFollowsRotation(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &settableClock{t: t0}
	a, b := testKey(t, "rotation key a, 32 bytes at the least"), testKey(t, "rotation key b, 32 bytes at the least")
	table := &signingTable{keys: map[string]auth.PublishedKey{}}
	table.set(a, time.Time{})
	src := &secret{key: a}
	signer := auth.NewRotatingSigner(a, src.load, table, table, clock.Now, discardLog)
	issue := func(at time.Duration) (kid string, expiresIn int) {
		t.Helper()
		clock.Set(t0.Add(at))
		token, expiresIn, err := signer.Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
		if err != nil {
			t.Fatalf("at %s: %v", at, err)
		}
		kid, _ = issued(t, token)
		return kid, expiresIn
	}

	if kid, n := issue(0); kid != a.ID || n != 3600 {
		t.Fatalf("at first: %s for %d s", kid, n)
	}
	// Another instance starts with a new secret B at 10 s, and publishes it.
	src.put(b)
	table.set(a, t0.Add(10*time.Second+auth.TokenTTL))
	table.set(b, time.Time{})
	if kid, n := issue(30 * time.Second); kid != a.ID || n != 3600 {
		t.Fatalf("before the next read, A still signs as it knows it: %s for %d s", kid, n)
	}
	if kid, n := issue(auth.KeyRecheckInterval); kid != b.ID || n != 3600 {
		t.Fatalf("after the next read: %s for %d s, want B for 3600", kid, n)
	}
	if kid, _ := issue(2 * auth.KeyRecheckInterval); kid != b.ID {
		t.Fatalf("then: %s", kid)
	}
	if want := []string{a.ID, a.ID, b.ID}; !slices.Equal(table.reads, want) {
		t.Errorf("reads of %v, want %v", table.reads, want)
	}
	if len(table.published) != 1 || table.published[0] != b.ID || src.loads != 1 {
		t.Errorf("published %v after %d loads, want B after 1", table.published, src.loads)
	}
}

// A read that fails leaves the retirement known before in force: past it, no token.
func TestRotatingSignerOutageAfterRetirement(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &settableClock{t: t0}
	a := testKey(t, "rotation key a, 32 bytes at the least")
	table := &signingTable{keys: map[string]auth.PublishedKey{}}
	table.set(a, t0.Add(90*time.Second))
	signer := auth.NewRotatingSigner(a, (&secret{key: a}).load, table, table, clock.Now, discardLog)
	issue := func(at time.Duration) (int, error) {
		clock.Set(t0.Add(at))
		_, n, err := signer.Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
		return n, err
	}

	if n, err := issue(0); err != nil || n != 90 {
		t.Fatalf("at first = %d, %v; want 90 s", n, err)
	}
	table.readErr = errors.New("outage")
	if n, err := issue(time.Minute); err != nil || n != 30 {
		t.Fatalf("in the outage before the retirement = %d, %v; want 30 s", n, err)
	}
	if _, err := issue(2 * time.Minute); !errors.Is(err, auth.ErrNoSigningKey) {
		t.Fatalf("in the outage after the retirement = %v, want ErrNoSigningKey", err)
	}
	if n := table.readCount(); n != 3 {
		t.Errorf("%d reads, want 3", n)
	}
}

// However many tokens it issues, at once or one by one, a signer reads its key's item
// at most once per KeyRecheckInterval.
func TestRotatingSignerReadsOncePerInterval(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &settableClock{t: t0}
	a := testKey(t, "rotation key a, 32 bytes at the least")
	table := &signingTable{keys: map[string]auth.PublishedKey{}}
	table.set(a, time.Time{})
	signer := auth.NewRotatingSigner(a, (&secret{key: a}).load, table, table, clock.Now, discardLog)
	burst := func() {
		t.Helper()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 25 {
					if _, _, err := signer.Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
	}

	steps := []struct {
		at        time.Duration
		wantReads int
	}{
		{0, 1},
		{time.Second, 1},
		{auth.KeyRecheckInterval - time.Nanosecond, 1},
		{auth.KeyRecheckInterval, 2},
		{auth.KeyRecheckInterval + 30*time.Second, 2},
		{10 * auth.KeyRecheckInterval, 3},
	}
	for _, st := range steps {
		clock.Set(t0.Add(st.at))
		burst()
		if n := table.readCount(); n != st.wantReads {
			t.Fatalf("after 200 tokens at %s: %d reads, want %d", st.at, n, st.wantReads)
		}
	}
}

// While one caller reads, the others sign with what is known, without a read of their
// own, however long the read takes.
func TestRotatingSignerReadsOneAtATime(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &settableClock{t: t0}
	a := testKey(t, "rotation key a, 32 bytes at the least")
	table := &signingTable{keys: map[string]auth.PublishedKey{}, hold: make(chan struct{})}
	table.set(a, time.Time{})
	signer := auth.NewRotatingSigner(a, (&secret{key: a}).load, table, table, clock.Now, discardLog)
	issue := func() error {
		_, _, err := signer.Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
		return err
	}

	slow := make(chan error, 1)
	go func() { slow <- issue() }()
	for table.readCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	clock.Set(t0.Add(5 * auth.KeyRecheckInterval))
	beside := make(chan error, 1)
	go func() { beside <- issue() }()
	select {
	case err := <-beside:
		if err != nil {
			t.Fatalf("beside a read under way: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("a token beside a read under way waits for a read: %d reads", table.readCount())
	}
	close(table.hold)
	if n := table.readCount(); n != 1 {
		t.Fatalf("%d reads, want 1", n)
	}
	if err := <-slow; err != nil {
		t.Fatalf("the token that read: %v", err)
	}
}

// panickingTable panics at its first read, as a bug in a dependency might.
type panickingTable struct {
	*signingTable
	panicked bool
}

func (p *panickingTable) PublishedKey(ctx context.Context, kid string) (auth.PublishedKey, error) {
	if !p.panicked {
		p.panicked = true
		panic("injected")
	}
	return p.signingTable.PublishedKey(ctx, kid)
}

// A read that panics (recovered by the request log in the function) does not stop the
// signer from reading again: it still learns of its key's retirement.
func TestRotatingSignerReadsAgainAfterAPanic(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &settableClock{t: t0}
	a := testKey(t, "rotation key a, 32 bytes at the least")
	table := &panickingTable{signingTable: &signingTable{keys: map[string]auth.PublishedKey{}}}
	table.set(a, t0.Add(10*time.Minute))
	signer := auth.NewRotatingSigner(a, (&secret{key: a}).load, table, table, clock.Now, discardLog)
	func() {
		defer func() { _ = recover() }()
		signer.Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
	}()
	clock.Set(t0.Add(auth.KeyRecheckInterval))
	_, n, err := signer.Issue(context.Background(), auth.Claims{TenantID: "t", ClientID: "c"})
	if err != nil || n != int((9*time.Minute)/time.Second) {
		t.Fatalf("after a panicking read = %d, %v; want a token capped at the key's retirement", n, err)
	}
}
