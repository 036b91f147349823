package leaderboard_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// TestTokenFunctionMayRotateKeys holds the token function's policy to what its cold start
// does when its key is new and others are published: read the signing keys, publish its
// own, retire the others. TestPoliciesAreLeastPrivilege sees only a first publication.
func TestTokenFunctionMayRotateKeys(t *testing.T) {
	i := slices.IndexFunc(loadTemplate(t).Functions(), func(fn samtemplate.Function) bool { return fn.LogicalID == "TokenFunction" })
	if i < 0 {
		t.Fatal("no TokenFunction in template.yaml")
	}
	sts := statements(t, loadTemplate(t).Functions()[i])
	base, table := testdb.Table(t)
	ctx := context.Background()
	rec := &recorder{actions: map[string]bool{}}
	s := store.New(rec.client(base), table, time.Now)
	// B's cold start retires A; then an old instance starts with A, and is refused.
	for _, seed := range []string{"a", "b", "a"} {
		key, _ := auth.KeyFromSeed([]byte(strings.Repeat(seed, 64)))
		if err := s.PublishSigningKey(ctx, key.Public()); err != nil && !errors.Is(err, auth.ErrRetiredKey) {
			t.Fatal(err)
		}
	}
	if !rec.actions["dynamodb:UpdateItem"] {
		t.Fatal("the rotation retired no key: this test no longer exercises it")
	}
	denied := map[access]bool{}
	for _, a := range rec.accesses {
		if !allows(sts, a.action, a.pk) && !denied[a] {
			denied[a] = true
			t.Errorf("the token function's cold start calls %s on partition %q, which its policy does not allow (AccessDenied in AWS)", a.action, a.pk)
		}
	}
}
