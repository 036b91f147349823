package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// signingKeys prints the token signing keys, newest first, after retiring every one but
// the current at once if retire is set.
func signingKeys(ctx context.Context, s *store.Store, retire bool) error {
	var keys []store.SigningKeyInfo
	var err error
	if retire {
		keys, err = s.RetireOldSigningKeys(ctx)
	} else {
		keys, err = s.SigningKeys(ctx)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	for _, k := range keys {
		state := "current"
		switch {
		case k.Current:
		case k.RetiresAt.IsZero():
			state = "not retired (published before retirement existed)"
		case k.RetiresAt.After(now):
			state = "retires " + k.RetiresAt.Format(time.RFC3339)
		default:
			state = "retired " + k.RetiresAt.Format(time.RFC3339)
		}
		fmt.Printf("%s  published %s  %s\n", k.ID, k.CreatedAt.Format(time.RFC3339), state)
	}
	for _, k := range keys {
		if retire && k.Current {
			// The current key is never retired here: if it is the one that leaked, the
			// new secret has not reached the token function yet.
			fmt.Fprintf(os.Stderr, "retired every key but the current one, %s (published %s); if that is the one that leaked, rotate the secret first (README, Security)\n",
				k.ID, k.CreatedAt.Format(time.RFC3339))
		}
	}
	return nil
}
