package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/ranktree"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// MaxAround is the most neighbours TeamRank returns on each side.
const MaxAround = 50

// Every read below runs on one version of the board (see board.go): ranks, pages and
// windows, and the team names the tree keeps beside its keys, are exact as of the moment
// HEAD was read.

// rankOf ranks member m in the view. If m's key is not in the view's tree, the member
// moved since the view was read (or before, and the read of m was stale): ErrStale.
func (v *view) rankOf(ctx context.Context, m memberItem) (Ranked, error) {
	if m.Score == nil {
		return Ranked{}, ErrNotRanked
	}
	k := v.b.key(m)
	before, found, err := v.tree.Rank(ctx, treeKey(k))
	if err != nil {
		return Ranked{}, err
	}
	if !found {
		return Ranked{}, fmt.Errorf("team %s is not at %s: %w", m.TeamID, k, ranktree.ErrStale)
	}
	rank := before + 1
	if v.b.settings.RankMode == RankCompetition {
		if rank, err = v.competitionRank(ctx, *m.Score); err != nil {
			return Ranked{}, err
		}
	}
	return Ranked{Rank: rank, TeamID: m.TeamID, TeamName: m.TeamName, Score: *m.Score, UpdatedAt: parseStamp(m.UpdatedAt)}, nil
}

// competitionRank is one more than the number of entries with a better score.
func (v *view) competitionRank(ctx context.Context, score int64) (int64, error) {
	better, _, err := v.tree.Rank(ctx, treeProbe(scorePrefix(v.b.settings.SortOrder, score)))
	return better + 1, err
}

// TeamRank returns a team's exact rank and up to around entries on each side, shifted at
// the top and bottom so that there are 2*around neighbours when the board has them.
func (s *Store) TeamRank(ctx context.Context, tenant, boardID, team string, around int) (Ranked, []Ranked, error) {
	b, err := s.board(ctx, tenant, boardID)
	if err != nil {
		return Ranked{}, nil, err
	}
	var entry Ranked
	var window []Ranked
	err = s.readView(ctx, b, func(v *view) error {
		m, err := s.getMember(ctx, b.pk, team)
		if err != nil {
			return err
		}
		if entry, err = v.rankOf(ctx, m); err != nil {
			return err
		}
		window = nil
		if around == 0 {
			return nil
		}
		k := treeKey(b.key(m))
		// Up to 2*around on each side, to fill one side from the other at an edge.
		var above, below []named
		if err := v.tree.Descend(ctx, k, func(key, name string) bool {
			above = append(above, named{key, name})
			return len(above) < 2*around
		}); err != nil {
			return err
		}
		if err := v.tree.Ascend(ctx, k+"\x00", func(key, name string) bool {
			below = append(below, named{key, name})
			return len(below) < 2*around
		}); err != nil {
			return err
		}
		nb := min(len(below), around)
		na := min(len(above), 2*around-nb)
		nb = min(len(below), 2*around-na)
		keys := make([]named, 0, na+nb)
		for i := na - 1; i >= 0; i-- {
			keys = append(keys, above[i])
		}
		keys = append(keys, below[:nb]...)
		ordinal := entry.Rank
		if b.settings.RankMode == RankCompetition {
			before, _, err := v.tree.Rank(ctx, k)
			if err != nil {
				return err
			}
			ordinal = before + 1
		}
		all := append(append(append([]named{}, keys[:na]...), named{k, m.TeamName}), keys[na:]...)
		ranked, err := s.rankKeys(ctx, v, all, ordinal-int64(na))
		if err != nil {
			return err
		}
		window = append(ranked[:na:na], ranked[na+1:]...)
		return nil
	})
	return entry, window, err
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
	if after != "" && !validRankKey(after) {
		return nil, "", fmt.Errorf("rankings after %q: not a rank key", after)
	}
	var page []Ranked
	var next string
	err = s.readView(ctx, b, func(v *view) error {
		from := ""
		if after != "" {
			from = treeKey(after) + "\x00"
		}
		var keys []named
		if err := v.tree.Ascend(ctx, from, func(k, name string) bool {
			keys = append(keys, named{k, name})
			return len(keys) <= limit
		}); err != nil {
			return err
		}
		next = ""
		if len(keys) > limit {
			keys = keys[:limit]
			next = rankKeyOf(keys[limit-1].key)
		}
		if len(keys) == 0 {
			page = nil
			return nil
		}
		first := int64(1)
		if after != "" {
			before, _, err := v.tree.Rank(ctx, keys[0].key)
			if err != nil {
				return err
			}
			first = before + 1
		}
		var err error
		page, err = s.rankKeys(ctx, v, keys, first)
		return err
	})
	return page, next, err
}

// named is a tree key and the team name beside it.
type named struct{ key, name string }

// rankKeys ranks consecutive tree keys of the view whose first has ordinal rank first.
func (s *Store) rankKeys(ctx context.Context, v *view, keys []named, first int64) ([]Ranked, error) {
	out := make([]Ranked, len(keys))
	for i, k := range keys {
		rk := rankKeyOf(k.key)
		out[i] = Ranked{
			Rank: first + int64(i), TeamID: rankKeyTeam(rk), TeamName: k.name, Score: rankKeyScore(v.b.settings.SortOrder, rk),
			UpdatedAt: time.UnixMilli(rankKeyAt(rk)).UTC(),
		}
		if v.b.settings.RankMode == RankCompetition {
			if i > 0 && out[i].Score == out[i-1].Score {
				out[i].Rank = out[i-1].Rank
				continue
			}
			r, err := v.competitionRank(ctx, out[i].Score)
			if err != nil {
				return nil, err
			}
			out[i].Rank = r
		}
	}
	return out, nil
}

func validRankKey(k string) bool {
	if len(k) != rankKeyLen || !ValidID(k[26:]) {
		return false
	}
	for i := range 26 {
		if c := k[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// between is a strongly consistent Query of partition pk for sort keys in [lo, hi], in
// ascending order; callers adjust it.
func (s *Store) between(pk, lo, hi string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
			":lo": &types.AttributeValueMemberS{Value: lo},
			":hi": &types.AttributeValueMemberS{Value: hi},
		},
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: total,
	}
}

// queryRange reads the items of partition pk with sort keys in [lo, hi], page by page.
func (s *Store) queryRange(ctx context.Context, pk, lo, hi string, forward bool, each func([]map[string]types.AttributeValue) error) error {
	in := s.between(pk, lo, hi)
	in.ScanIndexForward = aws.Bool(forward)
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query %s..%s: %w", lo, hi, err)
		}
		reqlog.AddRead(ctx, capacity(out.ConsumedCapacity)...)
		if err := each(out.Items); err != nil {
			return err
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}
