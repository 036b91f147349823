package main

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// The operations, by the names the table and the targets use.
const (
	opSubmit  = "submit"
	opTop     = "top-25 page"
	opRank    = "rank of last team"
	opAround  = "around +/-5"
	opPage    = "page 100 via cursor"
	opCounted = "count-based rank"
)

// pageSize and cursorPage: the page read through a cursor is page 100 of 25 entries,
// or the last full page of a board that has fewer.
const (
	pageSize   = 25
	cursorPage = 100
)

// reps is how many measured calls each operation gets at one board size.
type reps struct{ reads, counted, submits int }

// sizeRun is one board size's board and the arguments its operations need.
type sizeRun struct {
	s     *store.Store
	db    *dynamodb.Client // for the count-based baseline (counted.go)
	table string
	n     int
	board board
	last  string // the team ranked last
	page  int    // the page read through a cursor
	after string // the cursor of that page: the last key of the page before
	rng   *rand.Rand
}

// prepare finds, unmeasured, the cursor of the page to read through a cursor.
func prepare(ctx context.Context, s *store.Store, n int, b board, rng *rand.Rand) (*sizeRun, error) {
	r := &sizeRun{s: s, n: n, board: b, last: b.last(), page: min(cursorPage, n/pageSize), rng: rng}
	for p := 1; p < r.page; p++ {
		rows, next, err := s.Rankings(ctx, tenant, b.id, pageSize, r.after)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", p, err)
		}
		if len(rows) != pageSize || next == "" {
			return nil, fmt.Errorf("page %d has %d entries, want %d and more after", p, len(rows), pageSize)
		}
		r.after = next
	}
	return r, nil
}

func (r *sizeRun) randomTeam() string { return r.board.teams[r.rng.IntN(len(r.board.teams))] }

// reads are the read operations, measured before any submit moves the teams.
func (r *sizeRun) reads(rp reps) []operation {
	pageNote := ""
	if r.page != cursorPage {
		pageNote = fmt.Sprintf("(page %d, the last full one)", r.page)
	}
	return []operation{
		{name: opTop, runs: rp.reads, do: func(ctx context.Context) error {
			rows, _, err := r.s.Rankings(ctx, tenant, r.board.id, pageSize, "")
			return expectRows(rows, err, pageSize)
		}},
		{name: opRank, runs: rp.reads, do: func(ctx context.Context) error {
			me, _, err := r.s.TeamRank(ctx, tenant, r.board.id, r.last, 0)
			return r.expectLast(me.Rank, err)
		}},
		{name: opAround, runs: rp.reads, do: func(ctx context.Context) error {
			_, around, err := r.s.TeamRank(ctx, tenant, r.board.id, r.randomTeam(), 5)
			return expectRows(around, err, 10)
		}},
		{name: opPage, note: pageNote, runs: rp.reads, do: func(ctx context.Context) error {
			rows, _, err := r.s.Rankings(ctx, tenant, r.board.id, pageSize, r.after)
			return expectRows(rows, err, pageSize)
		}},
		{name: opCounted, runs: rp.counted, do: func(ctx context.Context) error {
			rank, err := countedRank(ctx, r.db, r.table, r.board, r.last)
			return r.expectLast(rank, err)
		}},
	}
}

// submit sets a random team's score to a new random one.
func (r *sizeRun) submit(rp reps) operation {
	return operation{name: opSubmit, runs: rp.submits, do: func(ctx context.Context) error {
		sub := store.Submission{TeamID: r.randomTeam(), Score: r.rng.Int64N(maxScore + 1), Operator: store.OperatorSet}
		_, err := r.s.SubmitScores(ctx, tenant, r.board.id, []store.Submission{sub}, "")
		return err
	}}
}

// expectLast checks that the last team ranks N, which also checks that the bench has
// found it.
func (r *sizeRun) expectLast(rank int64, err error) error {
	if err == nil && rank != int64(r.n) {
		return fmt.Errorf("the last team ranks %d, want %d", rank, r.n)
	}
	return err
}

func expectRows(rows []store.Ranked, err error, want int) error {
	if err == nil && len(rows) != want {
		return fmt.Errorf("%d rows, want %d", len(rows), want)
	}
	return err
}
