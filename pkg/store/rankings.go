package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// MaxAround is the most neighbours TeamRank returns on each side.
const MaxAround = 50

// rankOf returns a member's rank, or ErrNotRanked if it has no score.
func (s *Store) rankOf(ctx context.Context, b board, team string) (Ranked, error) {
	m, err := s.getMember(ctx, b.pk, team)
	if err != nil {
		return Ranked{}, err
	}
	return s.rankMember(ctx, b, m)
}

// rankMember returns the rank of a member already read.
func (s *Store) rankMember(ctx context.Context, b board, m memberItem) (Ranked, error) {
	if m.Score == nil {
		return Ranked{}, ErrNotRanked
	}
	rank, err := s.rankAt(ctx, b, b.key(m), *m.Score)
	if err != nil {
		return Ranked{}, err
	}
	return Ranked{Rank: rank, TeamID: m.TeamID, TeamName: m.TeamName, Score: *m.Score, UpdatedAt: parseStamp(m.UpdatedAt)}, nil
}

// rankAt is the rank of the entry with rank key k and score: in ordinal mode, how many
// entries have a key up to k; in competition mode, one more than how many have a
// better score.
func (s *Store) rankAt(ctx context.Context, b board, k string, score int64) (int64, error) {
	if b.settings.RankMode == RankCompetition {
		n, err := s.countThrough(ctx, b.pk, scorePrefix(b.settings.SortOrder, score))
		return n + 1, err
	}
	return s.countThrough(ctx, b.pk, k)
}

// TeamRank returns a team's exact rank and up to around entries on each side, shifted at
// the top and bottom so that there are 2*around neighbours when the board has them.
func (s *Store) TeamRank(ctx context.Context, tenant, boardID, team string, around int) (Ranked, []Ranked, error) {
	b, err := s.board(ctx, tenant, boardID)
	if err != nil {
		return Ranked{}, nil, err
	}
	m, err := s.getMember(ctx, b.pk, team)
	if err != nil {
		return Ranked{}, nil, err
	}
	if m.Score == nil {
		return Ranked{}, nil, ErrNotRanked
	}
	k := b.key(m)
	ordinal, err := s.countThrough(ctx, b.pk, k)
	if err != nil {
		return Ranked{}, nil, err
	}
	// Up to 2*around on each side, to fill one side from the other at an edge, plus one
	// more above, whose score tells whether the window's first rank needs a lookup.
	above, err := s.entries(ctx, b.pk, entrySK(""), entrySK(k), false, 2*around+2)
	if err != nil {
		return Ranked{}, nil, err
	}
	below, err := s.entries(ctx, b.pk, entrySK(k), entrySK("~"), true, 2*around+1)
	if err != nil {
		return Ranked{}, nil, err
	}
	// Both start with the team's own entry, unless its score moved since it was read.
	above, below = dropKey(above, k), dropKey(below, k)
	nb := min(len(below), around)
	na := min(len(above), 2*around-nb)
	nb = min(len(below), 2*around-na)

	window := make([]entryItem, 0, na+nb+1)
	for i := na - 1; i >= 0; i-- {
		window = append(window, above[i])
	}
	self := len(window)
	window = append(window, entryItem{TeamID: m.TeamID, TeamName: m.TeamName, Score: *m.Score, UpdatedAt: m.UpdatedAt, SK: entrySK(k)})
	window = append(window, below[:nb]...)

	tiedAbove := na < len(above) && above[na].Score == window[0].Score
	ranked, err := s.rankWindow(ctx, b, window, ordinal-int64(na), tiedAbove)
	if err != nil {
		return Ranked{}, nil, err
	}
	entry := ranked[self]
	return entry, append(ranked[:self:self], ranked[self+1:]...), nil
}

// dropKey drops the first entry if it has rank key k.
func dropKey(entries []entryItem, k string) []entryItem {
	if len(entries) > 0 && entries[0].rankKey() == k {
		return entries[1:]
	}
	return entries
}

// Rankings returns up to limit entries in rank order after the entry with rank key
// after ("" for the top), and the rank key to continue from, "" on the last page.
// Paging by key, not offset, means no entry is repeated or skipped across pages while
// scores stay put.
func (s *Store) Rankings(ctx context.Context, tenant, boardID string, limit int, after string) ([]Ranked, string, error) {
	b, err := s.board(ctx, tenant, boardID)
	if err != nil {
		return nil, "", err
	}
	from := entrySK("")
	if after != "" && len(after) != rankKeyLen {
		return nil, "", fmt.Errorf("rankings after %q: not a rank key", after)
	}
	if after != "" {
		from = entrySK(after) + "\x00"
	}
	page, err := s.entries(ctx, b.pk, from, entrySK("~"), true, limit+1)
	if err != nil || len(page) == 0 {
		return nil, "", err
	}
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = page[limit-1].rankKey()
	}
	first := int64(1)
	if after != "" {
		if first, err = s.countThrough(ctx, b.pk, page[0].rankKey()); err != nil {
			return nil, "", err
		}
	}
	// The previous page ended on the same score exactly when the keys share the score part.
	tiedAbove := after != "" && scoreOf(after) == scoreOf(page[0].rankKey())
	ranked, err := s.rankWindow(ctx, b, page, first, tiedAbove)
	return ranked, next, err
}

// rankWindow ranks consecutive entries whose first has ordinal rank first. tiedAbove
// says the entry just before the window has the first one's score. In competition mode
// equal scores share the rank of the first of them, which is looked up only if the tie
// reaches above the window.
func (s *Store) rankWindow(ctx context.Context, b board, window []entryItem, first int64, tiedAbove bool) ([]Ranked, error) {
	out := make([]Ranked, len(window))
	for i, e := range window {
		rank := first + int64(i)
		if b.settings.RankMode == RankCompetition {
			switch {
			case i > 0 && e.Score == window[i-1].Score:
				rank = out[i-1].Rank
			case i == 0 && tiedAbove:
				r, err := s.rankAt(ctx, b, e.rankKey(), e.Score)
				if err != nil {
					return nil, err
				}
				rank = r
			}
		}
		out[i] = e.ranked(rank)
	}
	return out, nil
}

// entries reads up to limit entries with sort keys in [lo, hi], strongly consistent.
func (s *Store) entries(ctx context.Context, pk, lo, hi string, forward bool, limit int) ([]entryItem, error) {
	in := s.between(pk, lo, hi)
	in.ScanIndexForward, in.Limit = aws.Bool(forward), aws.Int32(int32(limit))
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("read entries: %w", err)
	}
	reqlog.AddRead(ctx, capacity(out.ConsumedCapacity)...)
	var items []entryItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("unmarshal entries: %w", err)
	}
	return items, nil
}

// CountedRank is the rank of a team found the way DynamoDB users usually do without a
// tree: by counting every entry ahead of it. It reads in proportion to the rank and
// exists only to be compared with the tree (make bench).
func (s *Store) CountedRank(ctx context.Context, tenant, boardID, team string) (int64, error) {
	b, err := s.board(ctx, tenant, boardID)
	if err != nil {
		return 0, err
	}
	m, err := s.getMember(ctx, b.pk, team)
	if err != nil {
		return 0, err
	}
	if m.Score == nil {
		return 0, ErrNotRanked
	}
	return s.countEntries(ctx, b.pk, "", b.key(m))
}
