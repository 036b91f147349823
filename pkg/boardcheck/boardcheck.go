// Package boardcheck is the scheduled check of leaderboards: it verifies a sample of
// recently written boards (every board's first write, and one in 64 after) with the
// store's CheckBoard, logs one line per board, and fails the invocation when a board
// has drifted, so that the function's Errors metric, and the alarm on it, sees it.
// cmd/treecheck checks and repairs boards by hand.
package boardcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// Window is how far back the scheduled check looks for sampled boards: the current
// hour and the one before, so a schedule of every 15 minutes sees each sample a few times.
const Window = time.Hour

// MaxBoards bounds one run's work.
const MaxBoards = 50

type checker interface {
	SampledBoards(ctx context.Context, since time.Time, limit int) ([]store.BoardRef, error)
	CheckBoard(ctx context.Context, tenant, board string) (store.BoardCheck, error)
}

// Result is what a run answers.
type Result struct {
	Checked int `json:"checked"`
	Drifted int `json:"drifted"`
}

// Scheduled is the whole Lambda handler of the check function. Its event (the schedule's
// Input) carries nothing it needs.
func Scheduled(c checker, log *slog.Logger, now func() time.Time) func(ctx context.Context, event json.RawMessage) (Result, error) {
	return func(ctx context.Context, _ json.RawMessage) (Result, error) {
		boards, err := c.SampledBoards(ctx, now().Add(-Window), MaxBoards)
		if err != nil {
			return Result{}, err
		}
		var res Result
		for _, b := range boards {
			check, err := c.CheckBoard(ctx, b.Tenant, b.Board)
			if err != nil {
				// A board deleted since it was sampled is nothing to check.
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				return res, fmt.Errorf("check board %s: %w", b.Board, err)
			}
			res.Checked++
			attrs := []any{"tenant", b.Tenant, "board", b.Board, "version", check.Version, "entries", check.Entries}
			switch {
			case !check.Sound():
				res.Drifted++
				log.ErrorContext(ctx, "board check", append(attrs, "result", "drift", "problems", check.Problems)...)
			default:
				log.InfoContext(ctx, "board check", append(attrs, "result", "sound")...)
			}
		}
		if res.Drifted > 0 {
			return res, fmt.Errorf("%d of %d boards drifted: repair with go run ./cmd/treecheck -repair", res.Drifted, res.Checked)
		}
		return res, nil
	}
}
