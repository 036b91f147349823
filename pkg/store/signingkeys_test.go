package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/golang-jwt/jwt/v5"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// keyClock is a settable clock shared by the token functions and verifiers of a test.
type keyClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *keyClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *keyClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func seedKey(t *testing.T, seed string) auth.SigningKey {
	t.Helper()
	k, err := auth.KeyFromSeed([]byte(strings.Repeat(seed, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rotation is one table, its clock, and the keys a test publishes in it.
type rotation struct {
	t      *testing.T
	s      *store.Store
	clock  *keyClock
	client *dynamodb.Client
	table  string
}

func (r *rotation) publish(k auth.SigningKey) error {
	return r.s.PublishSigningKey(context.Background(), k.Public())
}

func (r *rotation) token(k auth.SigningKey) string {
	r.t.Helper()
	tok, _, err := auth.NewSigner(k, r.clock.Now).Issue(context.Background(), auth.Claims{TenantID: "tenant", ClientID: "client"})
	if err != nil {
		r.t.Fatal(err)
	}
	return tok
}

// check verifies tok with v at time at and wants it accepted (want nil) or refused
// with an error wrapping want.
func (r *rotation) check(v *auth.Verifier, at time.Time, tok string, want error) {
	r.t.Helper()
	r.clock.Set(at)
	_, err := v.Verify(context.Background(), tok)
	switch {
	case want == nil && err != nil:
		r.t.Errorf("at %s: token refused: %v", at.Format(time.TimeOnly), err)
	case want != nil && (!errors.Is(err, want) || !errors.Is(err, auth.ErrInvalidToken)):
		r.t.Errorf("at %s: err = %v, want a 401 for %v", at.Format(time.TimeOnly), err, want)
	}
}

// keys lists the published keys by id, and the current one.
func (r *rotation) keys() (map[string]store.SigningKeyInfo, string) {
	r.t.Helper()
	list, err := r.s.SigningKeys(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	byID, current := map[string]store.SigningKeyInfo{}, ""
	for _, k := range list {
		byID[k.ID] = k
		if k.Current {
			if current != "" {
				r.t.Fatalf("two current keys: %s and %s", current, k.ID)
			}
			current = k.ID
		}
	}
	return byID, current
}

func (r *rotation) wantRetirement(k auth.SigningKey, want time.Time) {
	r.t.Helper()
	keys, _ := r.keys()
	if got := keys[k.ID].RetiresAt; !got.Equal(want) {
		r.t.Errorf("key %s retires at %v, want %v", k.ID, got, want)
	}
}

func newRotation(t *testing.T, start time.Time) *rotation {
	_, client, table := newStore(t)
	clock := &keyClock{t: start}
	return &rotation{t: t, s: store.New(client, table, clock.Now), clock: clock, client: client, table: table}
}

// TestSigningKeyRotation rotates A -> B -> C, then retires C's predecessors at once as
// after a leak, and checks what the tokens of each key get, when.
func TestSigningKeyRotation(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := newRotation(t, t0)
	a, b, c := seedKey(t, "a"), seedKey(t, "b"), seedKey(t, "c")
	fresh := func() *auth.Verifier { return auth.NewVerifier(r.s, r.clock.Now) }
	ttl, retire := auth.TokenTTL, auth.RetireAfter

	if err := r.publish(a); err != nil {
		t.Fatal(err)
	}
	if _, current := r.keys(); current != a.ID {
		t.Fatalf("current = %s, want A", current)
	}

	// B's cold start at tB retires A at tB + RetireAfter.
	tB := t0.Add(10 * time.Minute)
	r.clock.Set(tB.Add(-time.Second))
	tokA := r.token(a) // issued just before B, expires at tB + TTL - 1s
	r.clock.Set(tB)
	if err := r.publish(b); err != nil {
		t.Fatal(err)
	}
	r.wantRetirement(a, tB.Add(retire))
	r.clock.Set(tB.Add(30 * time.Minute))
	tokLateA := r.token(a) // by an instance still warm with A: lives only until A retires
	tokB := r.token(b)

	// An old instance starting again with A neither signs nor changes anything.
	r.clock.Set(tB.Add(40 * time.Minute))
	if err := r.publish(a); !errors.Is(err, auth.ErrRetiredKey) {
		t.Fatalf("publishing retired A again = %v, want ErrRetiredKey", err)
	}
	r.wantRetirement(a, tB.Add(retire))
	if _, current := r.keys(); current != b.ID {
		t.Fatalf("current = %s after A's old instance, want B", current)
	}

	cached := fresh()                                     // a warm verifier, which caches A's key and retirement
	r.check(cached, tB.Add(ttl-2*time.Second), tokA, nil) // its whole life
	r.check(fresh(), tB.Add(ttl-2*time.Second), tokA, nil)
	r.check(cached, tB.Add(retire-time.Millisecond), tokLateA, nil)
	// At tB + RetireAfter, A's retirement (not the token's expiry) refuses a token that
	// would live longer, even in the verifier whose cache entry for A is still fresh.
	r.check(cached, tB.Add(retire), tokLateA, auth.ErrRetiredKey)
	r.check(fresh(), tB.Add(retire), tokLateA, auth.ErrRetiredKey)
	r.check(cached, tB.Add(retire), tokB, nil)
	if _, err := r.s.PublicKey(context.Background(), a.ID); !errors.Is(err, auth.ErrUnknownKey) || !errors.Is(err, auth.ErrRetiredKey) {
		t.Errorf("PublicKey of retired A, for a KeySource user that knows nothing of retirement: %v", err)
	}

	// C's cold start at tC retires B at tC + RetireAfter, and leaves A's earlier
	// retirement be.
	tC := tB.Add(retire + 5*time.Minute)
	r.clock.Set(tC)
	tokB = r.token(b)
	if err := r.publish(c); err != nil {
		t.Fatal(err)
	}
	r.wantRetirement(b, tC.Add(retire))
	r.wantRetirement(a, tB.Add(retire))
	if err := r.publish(b); !errors.Is(err, auth.ErrRetiredKey) {
		t.Fatalf("publishing retired B again = %v, want ErrRetiredKey", err)
	}
	r.wantRetirement(b, tC.Add(retire))
	r.check(fresh(), tC.Add(ttl-time.Second), tokB, nil) // its whole life
	r.clock.Set(tC.Add(30 * time.Minute))
	tokLateB := r.token(b) // by an instance still warm with B
	r.check(fresh(), tC.Add(retire-time.Millisecond), tokLateB, nil)
	r.check(fresh(), tC.Add(retire), tokLateB, auth.ErrRetiredKey)

	// Then B leaks. At tL, 20 minutes after C took over, the operator retires every key
	// but the current one at once. A verifier that read B before tL trusts its cached
	// entry until the entry expires (read time + KeyCacheTTL, so tL + KeyCacheTTL at the
	// latest); one that reads B at or after tL refuses it at once.
	tL := tC.Add(20 * time.Minute)
	r.clock.Set(tL.Add(-time.Minute))
	tokB = r.token(b)
	warm := fresh()
	r.check(warm, tL.Add(-time.Minute), tokB, nil) // warm reads B at tL - 1m
	r.clock.Set(tL)
	left, err := r.s.RetireOldSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 3 || left[0].ID != c.ID || !left[0].Current || !left[0].RetiresAt.IsZero() || !left[1].RetiresAt.Equal(tL) {
		t.Fatalf("after the compromised rotation: %+v", left)
	}
	r.wantRetirement(a, tB.Add(retire)) // already earlier: never moved later
	r.check(fresh(), tL, tokB, auth.ErrRetiredKey)
	r.check(warm, tL, tokB, nil)
	r.check(warm, tL.Add(-time.Minute+auth.KeyCacheTTL-time.Millisecond), tokB, nil)
	r.check(warm, tL.Add(-time.Minute+auth.KeyCacheTTL), tokB, auth.ErrRetiredKey)
	tokC := r.token(c)
	r.check(warm, tL.Add(auth.KeyCacheTTL), tokC, nil)
	r.check(fresh(), tL.Add(auth.KeyCacheTTL), tokC, nil)
	if err := r.publish(c); err != nil {
		t.Fatalf("C's next cold start: %v", err)
	}
}

// keySecret stands for the signing secret that every token function instance loads its
// key from.
type keySecret struct {
	mu  sync.Mutex
	key auth.SigningKey
	err error
}

func (s *keySecret) load(context.Context) (auth.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key, s.err
}

func (s *keySecret) put(k auth.SigningKey) { s.mu.Lock(); defer s.mu.Unlock(); s.key = k }

// issue has signer issue a token at at, and returns it with its kid and expiry.
func (r *rotation) issue(signer *auth.RotatingSigner, at time.Time) (tok, kid string, exp time.Time, expiresIn int) {
	r.t.Helper()
	r.clock.Set(at)
	tok, expiresIn, err := signer.Issue(context.Background(), auth.Claims{TenantID: "tenant", ClientID: "client"})
	if err != nil {
		r.t.Fatalf("at %s: %v", at.Format(time.TimeOnly), err)
	}
	var claims jwt.RegisteredClaims
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &claims)
	if err != nil {
		r.t.Fatal(err)
	}
	kid, _ = parsed.Header["kid"].(string)
	return tok, kid, claims.ExpiresAt.Time, expiresIn
}

// TestWarmSignerFollowsRotation: instance 1 is warm with key A when instance 2 starts
// with a new secret B and publishes it. Until its next read instance 1 signs with A,
// tokens that live their whole hour (A retires RetireAfter later); then it signs with B.
// Instance 3, warm with A too, cannot load the secret: it signs on with A, capped at A's
// retirement, then refuses.
func TestWarmSignerFollowsRotation(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := newRotation(t, t0)
	a, b := seedKey(t, "a"), seedKey(t, "b")
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	ttl, retire := auth.TokenTTL, auth.RetireAfter

	secret := &keySecret{key: a}
	broken := &keySecret{key: a}
	if err := r.publish(a); err != nil {
		t.Fatal(err)
	}
	one := auth.NewRotatingSigner(a, secret.load, r.s, r.s, r.clock.Now, discard)
	three := auth.NewRotatingSigner(a, broken.load, r.s, r.s, r.clock.Now, discard)

	tB := t0.Add(10 * time.Minute)
	r.issue(one, tB.Add(-30*time.Second)) // it reads: A is current
	r.issue(three, tB.Add(-30*time.Second))

	// Instance 2's cold start at tB.
	secret.put(b)
	broken.err = errors.New("secrets manager outage")
	r.clock.Set(tB)
	if err := r.publish(b); err != nil {
		t.Fatal(err)
	}
	r.wantRetirement(a, tB.Add(retire))

	// Before its next read, instance 1 signs with A as it knows it: a whole-life token,
	// which A's retirement does not cut short.
	tokLate, kid, exp, _ := r.issue(one, tB.Add(10*time.Second))
	if kid != a.ID || !exp.Equal(tB.Add(10*time.Second+ttl)) || exp.After(tB.Add(retire)) {
		t.Fatalf("before its next read: kid %s, exp %v; want A for its whole life, before %v", kid, exp, tB.Add(retire))
	}
	// At its next read it sees A retire, loads B and signs with it.
	tokB, kid, _, expiresIn := r.issue(one, tB.Add(-30*time.Second+auth.KeyRecheckInterval))
	if kid != b.ID || expiresIn != int(ttl/time.Second) {
		t.Fatalf("after its next read: kid %s for %d s, want B for the whole lifetime", kid, expiresIn)
	}
	if keys, current := r.keys(); current != b.ID || len(keys) != 2 {
		t.Fatalf("after instance 1 took B: current %s of %d keys", current, len(keys))
	}
	r.wantRetirement(a, tB.Add(retire))

	// Instance 3 cannot load B: it signs with A, no later than A retires.
	tokCapped, kid, exp, expiresIn := r.issue(three, tB.Add(30*time.Minute))
	if kid != a.ID || !exp.Equal(tB.Add(retire)) || expiresIn != int((retire-30*time.Minute)/time.Second) {
		t.Fatalf("instance 3: kid %s, exp %v, expiresIn %d; want A until %v", kid, exp, expiresIn, tB.Add(retire))
	}
	r.clock.Set(tB.Add(retire + auth.KeyRecheckInterval))
	if tok, _, err := three.Issue(context.Background(), auth.Claims{TenantID: "tenant", ClientID: "client"}); !errors.Is(err, auth.ErrNoSigningKey) {
		t.Fatalf("instance 3 after A retired = %q, %v; want ErrNoSigningKey", tok, err)
	}

	v := auth.NewVerifier(r.s, r.clock.Now)
	r.check(v, tB.Add(10*time.Second+ttl-time.Second), tokLate, nil) // its whole life
	r.check(v, tB.Add(retire-time.Millisecond), tokCapped, nil)
	r.check(v, tB.Add(retire), tokCapped, auth.ErrRetiredKey)
	r.check(v, tB.Add(30*time.Second+ttl-time.Second), tokB, nil) // its whole life
}

// TestSigningKeyPublishRaces publishes two new keys at once, round after round: one of
// them becomes current and every other key is retired, whoever wins.
func TestSigningKeyPublishRaces(t *testing.T) {
	r := newRotation(t, time.Now())
	if err := r.publish(seedKey(t, "0")); err != nil {
		t.Fatal(err)
	}
	for round := range 4 {
		pair := []auth.SigningKey{seedKey(t, fmt.Sprintf("%dx", round)), seedKey(t, fmt.Sprintf("%dy", round))}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, k := range pair {
			wg.Go(func() {
				// Each cold start has a store of its own.
				errs[i] = store.New(r.client, r.table, time.Now).PublishSigningKey(context.Background(), k.Public())
			})
		}
		wg.Wait()
		keys, current := r.keys()
		if current != pair[0].ID && current != pair[1].ID {
			t.Fatalf("round %d: current = %s, want one of the new pair", round, current)
		}
		for id, k := range keys {
			if (id == current) != k.RetiresAt.IsZero() {
				t.Fatalf("round %d: key %s (current %v) retires at %v", round, id, id == current, k.RetiresAt)
			}
		}
		for i, err := range errs {
			// The loser was published and retired before its own write, or after it:
			// either way it must not sign.
			if pair[i].ID == current && err != nil || pair[i].ID != current && err != nil && !errors.Is(err, auth.ErrRetiredKey) {
				t.Fatalf("round %d: publish %d = %v", round, i, err)
			}
		}
	}
}

// TestSigningKeysPublishedBeforeRetirement: a table whose keys were published before
// keys had retirements (no CURRENT, several unretired keys). The newest takes over at its
// next cold start and retires the others; an older one starting meanwhile changes
// nothing.
func TestSigningKeysPublishedBeforeRetirement(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := newRotation(t, t0)
	client, table := r.client, r.table
	old, newer := seedKey(t, "o"), seedKey(t, "n")
	for i, k := range []auth.SigningKey{old, newer} {
		if _, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
			"PK":        &types.AttributeValueMemberS{Value: "SIGNINGKEY"},
			"SK":        &types.AttributeValueMemberS{Value: "KID#" + k.ID},
			"type":      &types.AttributeValueMemberS{Value: "signingKey"},
			"publicKey": &types.AttributeValueMemberB{Value: k.Public()},
			"createdAt": &types.AttributeValueMemberS{Value: t0.Add(time.Duration(i-10) * time.Hour).Format("2006-01-02T15:04:05.000Z07:00")},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.publish(old); err != nil {
		t.Fatal(err)
	}
	if keys, current := r.keys(); current != "" || !keys[newer.ID].RetiresAt.IsZero() {
		t.Fatalf("the older key changed the table: current %q, %+v", current, keys)
	}
	if err := r.publish(newer); err != nil {
		t.Fatal(err)
	}
	if _, current := r.keys(); current != newer.ID {
		t.Fatalf("current = %q, want the newer key", current)
	}
	r.wantRetirement(old, t0.Add(auth.RetireAfter))
	if err := r.publish(old); !errors.Is(err, auth.ErrRetiredKey) {
		t.Fatalf("older key after the takeover = %v", err)
	}
}

func TestRetireOldSigningKeysNeedsACurrentKey(t *testing.T) {
	r := newRotation(t, time.Now())
	if _, err := r.s.RetireOldSigningKeys(context.Background()); !errors.Is(err, store.ErrNoCurrentKey) {
		t.Fatalf("err = %v, want ErrNoCurrentKey", err)
	}
	k := seedKey(t, "k")
	if err := r.publish(k); err != nil {
		t.Fatal(err)
	}
	left, err := r.s.RetireOldSigningKeys(context.Background())
	if err != nil || len(left) != 1 || !left[0].Current || !left[0].RetiresAt.IsZero() {
		t.Fatalf("= %+v, %v: the current key must never be retired by it", left, err)
	}
}

// TestVerifierReadsOfUnknownKeys counts the GetItem calls that tokens with forged,
// well-formed kids cost a verifier on DynamoDB Local.
func TestVerifierReadsOfUnknownKeys(t *testing.T) {
	t0 := time.Now()
	clock := &keyClock{t: t0}
	_, base, table := newStore(t)
	var gets atomic.Int64
	counted := passedThrough(base, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if awsmiddleware.GetOperationName(ctx) == "GetItem" {
			gets.Add(1)
		}
		return next.HandleInitialize(ctx, in)
	})
	s := store.New(counted, table, clock.Now)
	real := seedKey(t, "r")
	if err := s.PublishSigningKey(context.Background(), real.Public()); err != nil {
		t.Fatal(err)
	}
	r := &rotation{t: t, s: s, clock: clock, client: counted, table: table}
	v := auth.NewVerifier(s, clock.Now)
	forged := func(i int) string {
		k := seedKey(t, fmt.Sprintf("forged%d-", i)) // well-formed kid, never published
		return r.token(k)
	}
	reads := func() int64 { return gets.Swap(0) }

	r.check(v, t0, r.token(real), nil)
	if n := reads(); n != 1 {
		t.Fatalf("the real key cost %d reads, want 1", n)
	}
	one := forged(0)
	for range 50 {
		r.check(v, t0, one, auth.ErrUnknownKey)
	}
	if n := reads(); n != 1 {
		t.Fatalf("one forged kid 50 times cost %d reads, want 1", n)
	}
	for i := range 40 {
		r.check(v, t0, forged(i+1), auth.ErrUnknownKey)
	}
	// The window's lookups: two were spent already, on the real key and the first forgery.
	if n := reads(); n != auth.MaxKeyLookups-2 {
		t.Fatalf("40 forged kids cost %d reads, want %d", n, auth.MaxKeyLookups-2)
	}
	r.check(v, t0, r.token(real), nil) // a key already found still verifies, without a read
	if n := reads(); n != 0 {
		t.Fatalf("the cached real key cost %d reads", n)
	}
	next := t0.Add(auth.UnknownKeyTTL)
	r.check(v, next, forged(100), auth.ErrUnknownKey)
	r.check(v, next, one, auth.ErrUnknownKey)
	if n := reads(); n != 2 {
		t.Fatalf("a new window: %d reads, want 2 (a new kid, and the first one, now forgotten)", n)
	}
}
