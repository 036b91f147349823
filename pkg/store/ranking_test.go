package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

const maxScore = 1<<53 - 1

// propertySeed is fixed in `make test`; PROPERTY_SEED=random (or a number) picks another.
func propertySeed(t *testing.T) uint64 {
	switch v := os.Getenv("PROPERTY_SEED"); v {
	case "":
		return 20261127
	case "random":
		return uint64(time.Now().UnixNano())
	default:
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PROPERTY_SEED=%q", v)
		}
		return n
	}
}

// model is the brute-force reference: every scored member in memory, sorted on demand.
type model struct {
	settings store.Settings
	members  map[string]*modelEntry
}

type modelEntry struct {
	team, name string
	score, at  int64
	scored     bool
}

func (m *model) norm(score int64) int64 {
	if m.settings.SortOrder == "asc" {
		return score
	}
	return -score
}

func (m *model) sorted() []*modelEntry {
	var out []*modelEntry
	for _, e := range m.members {
		if e.scored {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *modelEntry) int {
		if c := m.norm(a.score) - m.norm(b.score); c != 0 {
			return sign(c)
		}
		if c := a.at - b.at; c != 0 {
			return sign(c)
		}
		return stringsCompare(a.team, b.team)
	})
	return out
}

func (m *model) ranked() []store.Ranked {
	sorted := m.sorted()
	out := make([]store.Ranked, len(sorted))
	for i, e := range sorted {
		rank := int64(i + 1)
		if m.settings.RankMode == "competition" && i > 0 && e.score == sorted[i-1].score {
			rank = out[i-1].Rank
		}
		out[i] = store.Ranked{Rank: rank, TeamID: e.team, TeamName: e.name, Score: e.score}
	}
	return out
}

// apply plays a batch; it returns false, changing nothing, if the store must refuse it.
func (m *model) apply(subs []store.Submission, now int64) bool {
	scores := map[string]*modelEntry{}
	for _, s := range subs {
		e, ok := m.members[s.TeamID]
		if !ok {
			return false
		}
		if _, seen := scores[s.TeamID]; !seen {
			c := *e
			scores[s.TeamID] = &c
		}
	}
	lo, hi := int64(-maxScore), int64(maxScore)
	if m.settings.MinScore != nil {
		lo = *m.settings.MinScore
	}
	if m.settings.MaxScore != nil {
		hi = *m.settings.MaxScore
	}
	for _, s := range subs {
		e := scores[s.TeamID]
		op := s.Operator
		if op == "" {
			op = m.settings.ScoreOperator
		}
		next := s.Score
		switch op {
		case "increment":
			if e.scored {
				next = e.score + s.Score
			}
		case "best":
			if e.scored && m.norm(s.Score) >= m.norm(e.score) {
				next = e.score
			}
		}
		if next < lo || next > hi {
			return false
		}
		if !e.scored || next != e.score {
			e.score, e.at, e.scored = next, now, true
		}
	}
	for team, e := range scores {
		m.members[team] = e
	}
	return true
}

func sign(n int64) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func stringsCompare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestRankingProperty(t *testing.T) {
	seed := propertySeed(t)
	t.Logf("PROPERTY_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for _, settings := range []store.Settings{
		{SortOrder: "desc", ScoreOperator: "best", RankMode: "ordinal"},
		{SortOrder: "asc", ScoreOperator: "set", RankMode: "competition"},
		{SortOrder: "desc", ScoreOperator: "increment", RankMode: "competition"},
		{SortOrder: "asc", ScoreOperator: "best", RankMode: "ordinal", MinScore: ptr(int64(-20)), MaxScore: ptr(int64(20))},
	} {
		name := fmt.Sprintf("%s-%s-%s", settings.SortOrder, settings.ScoreOperator, settings.RankMode)
		t.Run(name, func(t *testing.T) {
			client, table := testdb.Table(t)
			runProperty(t, client, table, rng, settings, 160)
		})
	}
}

// runProperty plays steps random operations on a board through client and checks every
// read against the model as it goes. It returns how many operations the store applied.
func runProperty(t *testing.T, client *dynamodb.Client, table string, rng *rand.Rand, settings store.Settings, steps int) int {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).UnixMilli())
	s := store.New(client, table, func() time.Time { return time.UnixMilli(clock.Load()) })
	s.SetTreeShape(3, 3)
	applied := 0
	ctx := context.Background()
	const tenant = "tenant-p"

	var teams []string
	names := map[string]string{}
	newTeam := func() string {
		name := fmt.Sprintf("Team %d", len(teams))
		team, err := s.CreateTeam(ctx, tenant, name)
		if err != nil {
			t.Fatal(err)
		}
		teams = append(teams, team.ID)
		names[team.ID] = name
		return team.ID
	}
	for range 30 {
		newTeam()
	}
	m := &model{settings: settings, members: map[string]*modelEntry{}}
	board, err := s.CreateLeaderboard(ctx, tenant, "P", settings, teams[:24])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range teams[:24] {
		m.members[id] = &modelEntry{team: id, name: names[id]}
	}

	score := func() int64 {
		switch r := rng.IntN(10); {
		case r < 6:
			return int64(rng.IntN(11) - 5) // many ties
		case r < 8:
			return int64(rng.IntN(41) - 20)
		case r < 9:
			return []int64{maxScore, -maxScore, maxScore - 1, 0}[rng.IntN(4)]
		default:
			return int64(rng.IntN(2_000_001) - 1_000_000)
		}
	}
	for step := range steps {
		clock.Add(int64(rng.IntN(3))) // sometimes the same millisecond: ties broken by team id
		switch r := rng.IntN(20); {
		case r < 13: // a submit or a batch
			n := 1 + rng.IntN(4)
			subs := make([]store.Submission, n)
			for i := range subs {
				subs[i] = store.Submission{TeamID: teams[rng.IntN(len(teams))], Score: score()}
				if rng.IntN(4) == 0 {
					subs[i].Operator = []string{"best", "set", "increment"}[rng.IntN(3)]
				}
			}
			ok := m.apply(subs, clock.Load())
			got, err := s.SubmitScores(ctx, tenant, board.ID, subs, "")
			var notMembers *store.NotMembersError
			var outOfRange *store.OutOfRangeError
			switch {
			case ok && err != nil:
				t.Fatalf("step %d: submit %+v: %v", step, subs, err)
			case !ok && !errors.As(err, &notMembers) && !errors.As(err, &outOfRange):
				t.Fatalf("step %d: submit %+v should be refused, got %v", step, subs, err)
			case ok:
				want := m.ranked()
				for i, sub := range subs {
					w := want[slices.IndexFunc(want, func(r store.Ranked) bool { return r.TeamID == sub.TeamID })]
					if got[i].Rank != w.Rank || got[i].Score != w.Score {
						t.Fatalf("step %d: submission %d answered %+v, want %+v", step, i, got[i], w)
					}
				}
			}
		case r < 15: // a member leaves
			team := randomMember(rng, m)
			if team == "" {
				continue
			}
			if err := s.RemoveTeam(ctx, tenant, board.ID, team); err != nil {
				t.Fatalf("step %d: remove %s: %v", step, team, err)
			}
			delete(m.members, team)
		case r < 17: // a team joins (or rejoins, without its old score)
			team := teams[rng.IntN(len(teams))]
			if _, member := m.members[team]; member {
				continue
			}
			if err := s.AddTeams(ctx, tenant, board.ID, []string{team}); err != nil {
				t.Fatalf("step %d: add %s: %v", step, team, err)
			}
			m.members[team] = &modelEntry{team: team, name: names[team]}
		case r < 18: // a team is deleted, and another made
			team := randomMember(rng, m)
			if team == "" {
				continue
			}
			if _, err := s.DeleteTeam(ctx, tenant, team); err != nil {
				t.Fatalf("step %d: delete team: %v", step, err)
			}
			delete(m.members, team)
			teams = slices.DeleteFunc(teams, func(id string) bool { return id == team })
			newTeam()
		default: // a rename shows in the rankings
			team := randomMember(rng, m)
			if team == "" {
				continue
			}
			names[team] = fmt.Sprintf("Renamed %d", step)
			if _, err := s.RenameTeam(ctx, tenant, team, names[team]); err != nil {
				t.Fatal(err)
			}
			m.members[team].name = names[team]
		}
		applied++
		if step%20 == 19 {
			verify(t, ctx, s, rng, m, tenant, board.ID, step)
		}
	}
	verify(t, ctx, s, rng, m, tenant, board.ID, -1)
	return applied
}

func randomMember(rng *rand.Rand, m *model) string {
	var ids []string
	for id := range m.members {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return ""
	}
	slices.Sort(ids)
	return ids[rng.IntN(len(ids))]
}

// verify compares every read of the board with the model: every page, every team's rank
// and neighbours, and the tree's own counts.
func verify(t *testing.T, ctx context.Context, s *store.Store, rng *rand.Rand, m *model, tenant, board string, step int) {
	t.Helper()
	if err := s.CheckTreeForTest(ctx, tenant, board); err != nil {
		t.Fatalf("step %d: rank tree: %v", step, err)
	}
	want := m.ranked()
	limit := 1 + rng.IntN(7)
	var got []store.Ranked
	after := ""
	for pages := 0; ; pages++ {
		page, next, err := s.Rankings(ctx, tenant, board, limit, after)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if next == "" {
			break
		}
		if pages > len(want) {
			t.Fatal("paging does not end")
		}
		after = next
	}
	if diff := compareRanked(got, want); diff != "" {
		t.Fatalf("step %d: rankings with limit %d: %s", step, limit, diff)
	}
	for i, w := range want {
		n := rng.IntN(5)
		entry, around, err := s.TeamRank(ctx, tenant, board, w.TeamID, n)
		if err != nil {
			t.Fatalf("step %d: rank of %s: %v", step, w.TeamID, err)
		}
		if diff := compareRanked([]store.Ranked{entry}, []store.Ranked{w}); diff != "" {
			t.Fatalf("step %d: rank of %s: %s", step, w.TeamID, diff)
		}
		lo, hi := i-n, i+n
		if lo < 0 {
			hi, lo = hi-lo, 0
		}
		if hi > len(want)-1 {
			lo, hi = max(0, lo-(hi-(len(want)-1))), len(want)-1
		}
		wantAround := slices.Concat(want[lo:i], want[i+1:hi+1])
		if diff := compareRanked(around, wantAround); diff != "" {
			t.Fatalf("step %d: around %s (n=%d): %s", step, w.TeamID, n, diff)
		}
	}
	for id, e := range m.members {
		if !e.scored {
			if _, _, err := s.TeamRank(ctx, tenant, board, id, 1); !errors.Is(err, store.ErrNotRanked) {
				t.Fatalf("step %d: unscored %s: %v", step, id, err)
			}
		}
	}
}

func compareRanked(got, want []store.Ranked) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d entries, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Rank != w.Rank || g.TeamID != w.TeamID || g.Score != w.Score || g.TeamName != w.TeamName {
			return fmt.Sprintf("entry %d is %+v, want %+v", i, g, w)
		}
	}
	return ""
}
