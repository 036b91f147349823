package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/store"
)

const (
	tenant   = "bench"
	maxScore = 1_000_000
)

// board is a seeded board: its id and every team on it, all scored.
type board struct {
	id     string
	teams  []string
	scores []int64
}

// seeded is what seeding a board cost.
type seeded struct {
	took              time.Duration
	write, localWrite float64
}

// seed imports a board of n teams with scores uniform in 0..maxScore, so ties are rare.
func seed(ctx context.Context, s *store.Store, n int, rng *rand.Rand) (board, seeded, error) {
	scores := make([]store.ImportedScore, n)
	for i := range scores {
		scores[i] = store.ImportedScore{TeamName: fmt.Sprintf("Team %06d", i), Score: rng.Int64N(maxScore + 1)}
	}
	settings := store.Settings{SortOrder: "desc", ScoreOperator: store.OperatorSet, RankMode: store.RankOrdinal}
	var b board
	// Wall time: the import writes from several goroutines at once, so the meter's
	// summed look-up time is not to be subtracted (it has no look-ups for puts anyway).
	start := time.Now()
	sm, err := call(ctx, false, func(ctx context.Context) error {
		lb, ids, err := s.ImportBoard(ctx, tenant, fmt.Sprintf("bench %d", n), settings, scores)
		b = board{id: lb.ID, teams: ids}
		return err
	})
	took := time.Since(start)
	if err != nil {
		return board{}, seeded{}, fmt.Errorf("import %d teams: %w", n, err)
	}
	for _, sc := range scores {
		b.scores = append(b.scores, sc.Score)
	}
	return b, seeded{took: took, write: sm.write, localWrite: sm.localWrite}, nil
}

// last is the team ranked last: the lowest score and, among equal scores (all reached
// at the same millisecond by import), the greatest team id.
func (b board) last() string {
	at := 0
	for i := range b.teams {
		if b.scores[i] < b.scores[at] || b.scores[i] == b.scores[at] && b.teams[i] > b.teams[at] {
			at = i
		}
	}
	return b.teams[at]
}
