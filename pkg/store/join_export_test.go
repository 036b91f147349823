package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CheckMembershipsForTest checks a board's side of "no leaderboard lists a team that
// does not exist" (docs/data-model.md), with strongly consistent reads, so only once
// nothing writes any more:
//
//   - every membership's team is live, has the board in its boards set, and the name
//     the membership copies;
//   - every team of the tenant whose boards set has the board has a membership, and no
//     team is left marked deleting (a delete that did not finish);
//   - the board's memberCount is the number of memberships.
//
// It returns the board's members' team ids, sorted.
func (s *Store) CheckMembershipsForTest(ctx context.Context, tenant, boardID string) ([]string, error) {
	it, err := s.getLeaderboardItem(ctx, tenant, boardID)
	if err != nil {
		return nil, err
	}
	members, err := s.membersForTest(ctx, tenant, boardID)
	if err != nil {
		return nil, err
	}
	teams, err := s.teamsForTest(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var problems []string
	for id, m := range members {
		t, ok := teams[id]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("member %s: no such team", id))
		case t.Deleting:
			problems = append(problems, fmt.Sprintf("member %s: team marked deleting", id))
		case !slices.Contains(t.Boards, boardID):
			problems = append(problems, fmt.Sprintf("member %s: the team's boards set lacks the board", id))
		case t.Name != m.TeamName:
			problems = append(problems, fmt.Sprintf("member %s: named %q, the team %q", id, m.TeamName, t.Name))
		}
	}
	for id, t := range teams {
		if t.Deleting {
			problems = append(problems, fmt.Sprintf("team %s: still marked deleting", id))
		}
		if _, ok := members[id]; !ok && slices.Contains(t.Boards, boardID) {
			problems = append(problems, fmt.Sprintf("team %s: boards set has the board, but no membership", id))
		}
	}
	if it.MemberCount != len(members) {
		problems = append(problems, fmt.Sprintf("memberCount %d, %d memberships", it.MemberCount, len(members)))
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, errors.New(strings.Join(problems, "; "))
	}
	ids := make([]string, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// MembershipsForTest returns the team ids of a board's member items, whatever state the
// board is in.
func (s *Store) MembershipsForTest(ctx context.Context, tenant, boardID string) ([]string, error) {
	m, err := s.membersForTest(ctx, tenant, boardID)
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	return ids, err
}

// TeamBoardsForTest returns the boards set of a team, whatever state it is in.
func (s *Store) TeamBoardsForTest(ctx context.Context, tenant, team string) ([]string, error) {
	teams, err := s.teamsForTest(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return teams[team].Boards, nil
}

// LeaderboardItemsForTest counts the tenant's leaderboard items, including those that
// read as missing (being created or deleted).
func (s *Store) LeaderboardItemsForTest(ctx context.Context, tenant string) (int, error) {
	n := 0
	err := s.queryAllForTest(ctx, tenantPK(tenant), leaderboardSKPrefix(), func(map[string]types.AttributeValue) error {
		n++
		return nil
	})
	return n, err
}

func (s *Store) membersForTest(ctx context.Context, tenant, boardID string) (map[string]memberItem, error) {
	out := map[string]memberItem{}
	for shard := range memberShards {
		err := s.queryAllForTest(ctx, memberShardPK(boardPK(tenant, boardID), shard), memberSK(""), func(raw map[string]types.AttributeValue) error {
			var m memberItem
			if err := attributevalue.UnmarshalMap(raw, &m); err != nil {
				return err
			}
			out[m.TeamID] = m
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) teamsForTest(ctx context.Context, tenant string) (map[string]teamItem, error) {
	out := map[string]teamItem{}
	err := s.queryAllForTest(ctx, tenantPK(tenant), teamSKPrefix(), func(raw map[string]types.AttributeValue) error {
		var t teamItem
		if err := attributevalue.UnmarshalMap(raw, &t); err != nil {
			return err
		}
		out[t.TeamID] = t
		return nil
	})
	return out, err
}

func (s *Store) queryAllForTest(ctx context.Context, pk, prefix string, each func(map[string]types.AttributeValue) error) error {
	pages := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := each(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// TeamsOnBoardsForTest counts the tenant's teams whose boards set is not empty.
func (s *Store) TeamsOnBoardsForTest(ctx context.Context, tenant string) (int, error) {
	teams, err := s.teamsForTest(ctx, tenant)
	n := 0
	for _, t := range teams {
		if len(t.Boards) > 0 {
			n++
		}
	}
	return n, err
}
