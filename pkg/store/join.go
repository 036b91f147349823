package store

// Joining teams to a board: how CreateLeaderboard and AddTeams put up to
// MaxTeamsPerWrite teams on a board, when one transaction holds 100 items and a team
// costs two. Each step, and the DynamoDB guarantee it relies on:
//
//  1. Read every team named, with BatchGetItem, strongly consistent (liveTeams). A
//     BatchGetItem is not a snapshot: each item is as of its own moment. That is enough,
//     because the read only decides two things: which ids are unknown (a missing or
//     marked team never becomes live again, so the answer stays true), and which name
//     to copy onto each membership, which step 2 checks again.
//  2. Join the teams joinsPerTransaction to a TransactWriteItems (joinChunk): per team,
//     the team's boards set gains the board on condition that the team is live and
//     still has the name read, and its membership is put if absent. Transactions are
//     atomic and serializable, and DeleteTeam's first step is a single-item write that
//     marks the team: so a team's join is ordered wholly before the mark (the mark
//     returns boards with the board in it, and the delete removes the membership) or
//     wholly after it (the join's condition fails). No membership outlives its team,
//     and no team's boards set names a board it is not on. A team whose condition
//     fails is read again: if it is gone or being deleted it is dropped (its delete is
//     ordered after our add), if renamed it is joined with its new name.
//  3. Keep the board's memberCount exact. AddTeams adds to it in each of its
//     transactions, on condition that the board is live, so every committed
//     transaction counts exactly the memberships it put, and a board deleted meanwhile
//     refuses the rest. CreateLeaderboard adds the whole count in the single-item
//     write that makes the board live (createInSteps); a team leaving before then has
//     already taken one off, so the sum is exact too.
//
// The request as a whole is not one transaction. For a create that is invisible: the
// board reads as missing until its last step. An add that fails half-way leaves the
// teams of its committed transactions on the board; adding is idempotent, so the same
// request again converges.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// joinsPerTransaction is the most teams one transaction joins: two items each, and
// room for the board's own one or two (its member count, or it and its HEAD).
const joinsPerTransaction = 49

// parallelJoins is how many of a create's transactions are in flight at once. They
// share no item while the board is being created, so they do not conflict. More would
// not go faster: every team item is in the tenant's partition, which takes 1,000 write
// units a second, and two transactions of 49 teams (2 units per item in a transaction)
// in flight already ask about that much.
const parallelJoins = 2

// joinMargin is the time a join keeps in hand before the request's deadline, to stop
// cleanly rather than be cut off. A create keeps abandonTimeout more, for its undo.
const joinMargin = time.Second

// abandonTimeout bounds the undo of a create that failed (abandon, settleCreate), which
// runs even when the request's context is done.
const abandonTimeout = 2 * time.Second

// withMargin is ctx ending margin before ctx's deadline, if it has one.
func withMargin(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, deadline.Add(-margin))
	}
	return context.WithCancel(ctx)
}

// undoContext is the context of an undo: it is not cancelled with ctx (a client that
// went away must not leave a create half done), and it ends after abandonTimeout or at
// ctx's deadline, whichever is first, since Lambda stops the function at that deadline
// whatever it is doing.
func undoContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(abandonTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return context.WithDeadline(context.WithoutCancel(ctx), deadline)
}

var (
	// errBoardRefused: a join transaction's own board items failed their condition.
	errBoardRefused = errors.New("the leaderboard refused the join")
	// errOutOfTime: too little of the request's time was left to go on.
	errOutOfTime = errors.New("out of time before every team joined")
)

// boardItems returns the items a join transaction writes besides the teams', for n
// teams joining; nil means none.
type boardItems func(n int) ([]types.TransactWriteItem, error)

// createInSteps creates a board of more teams than one transaction holds.
//
//  1. One transaction puts the leaderboard item and HEAD (atomic: no item without the
//     other). The item carries deleting, so every read and list treats the board as
//     missing, and creating, so that the writes that keep memberships whole (a team
//     leaving, a team renamed) treat it as a board: see memberBoard and
//     boardHoldsMembers. HEAD is live, so those writes' board commits work as usual.
//  2. The teams join, parallelJoins transactions at a time (joinChunk).
//  3. One single-item conditional write removes both marks and adds the number of
//     teams joined to memberCount: the board appears whole, at once.
//
// Any failure after step 1 abandons the board (abandon), so it never appears.
func (s *Store) createInSteps(ctx context.Context, tenant string, it leaderboardItem, teams []teamItem, now time.Time) ([]string, error) {
	id := it.LeaderboardID
	it.Deleting, it.Creating, it.MemberCount = true, true, 0
	items, err := s.newBoardItems(tenant, it)
	if err != nil {
		return nil, err
	}
	if err := s.transact(ctx, items); err != nil {
		// Not applied, or applied with no member yet: a board that reads as missing.
		return nil, fmt.Errorf("put leaderboard %s: %w", id, err)
	}
	joined, err := s.joinAll(ctx, tenant, id, teams, nil, parallelJoins, now, joinMargin+abandonTimeout)
	if err == nil {
		err = s.goLive(ctx, tenant, id, len(joined))
	}
	if err != nil {
		if live, aerr := s.abandon(ctx, tenant, id, err); !live {
			return nil, aerr
		}
	}
	return joined, nil
}

// goLive makes a board being created live with its n members (step 3 of createInSteps).
func (s *Store) goLive(ctx context.Context, tenant, id string, n int) error {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(tenantPK(tenant), leaderboardSK(id)),
		UpdateExpression:          aws.String("REMOVE deleting, creating ADD memberCount :n"),
		ConditionExpression:       aws.String("attribute_exists(creating)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": number(int64(n))},
		ReturnConsumedCapacity:    total,
	})
	if conditionFailed(err) {
		// The SDK's repeat of this very write, the first having been applied and its
		// answer lost; or a DELETE of the board by its id (which ends creating).
		if _, gerr := s.getLeaderboardItem(ctx, tenant, id); gerr == nil {
			return nil
		}
		return fmt.Errorf("leaderboard %s was deleted while being created", id)
	}
	if err != nil {
		return fmt.Errorf("make leaderboard %s live: %w", id, err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return nil
}

// abandon gives up a create that failed with cause after the board was put. One
// transaction marks the leaderboard and its HEAD deleting, as DeleteLeaderboard's first
// step does, and ends creating: from then on it is an ordinary half-deleted board, which
// reads as missing, which a team leaving skips, and which DeleteLeaderboard with the id
// (in the error, so in the log) clears. If the undo fails too, the board stays being
// created: missing for every read, its memberships still kept whole.
//
// live reports that the board turned out to be live after all: goLive was applied but
// its answer lost. Then the create succeeded.
func (s *Store) abandon(ctx context.Context, tenant, id string, cause error) (live bool, err error) {
	ctx, cancel := undoContext(ctx)
	defer cancel()
	err = s.transact(ctx, []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(tenantPK(tenant), leaderboardSK(id)),
			UpdateExpression:          aws.String("SET deleting = :true REMOVE creating"),
			ConditionExpression:       aws.String("attribute_exists(creating)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}},
		}},
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(boardPK(tenant, id), headSK()),
			UpdateExpression:          aws.String("SET deleting = :true ADD ver :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}, ":one": number(1)},
		}},
	})
	if reasons := cancelReasons(err); len(reasons) > 0 && reasons[0] == reasonConditionFailed {
		if _, gerr := s.getLeaderboardItem(ctx, tenant, id); gerr == nil {
			return true, nil
		}
		return false, fmt.Errorf("leaderboard %s abandoned: %w", id, cause)
	}
	if err != nil {
		// %v, not %w: what the client hears is that the create failed, not why the undo did.
		return false, fmt.Errorf("leaderboard %s left half-created (invisible): %v; undo: %v", id, cause, err)
	}
	return false, fmt.Errorf("leaderboard %s abandoned: %w", id, cause)
}

// joinAll joins teams to the board, joinsPerTransaction to a transaction with the items
// board gives, up to workers transactions at a time (1: in order). It returns the
// teams joined, in the order given, and on error those of the transactions that
// committed before it. After an error it starts no transaction, and waits for the
// answers of those in flight rather than cancel them: a cancelled call may still be
// applied, after whatever the caller does next (such as abandon). Once less than margin
// is left before ctx's deadline, it stops as after an error, errOutOfTime.
func (s *Store) joinAll(ctx context.Context, tenant, boardID string, teams []teamItem, board boardItems, workers int, now time.Time, margin time.Duration) ([]string, error) {
	chunks := slices.Collect(slices.Chunk(teams, joinsPerTransaction))
	results := make([][]string, len(chunks))
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	failed := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	// stopped also ends a chunk's retries, between attempts that were not applied.
	stopped := func() bool {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < margin {
			failed(errOutOfTime)
		}
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	slots := make(chan struct{}, workers)
	for i, chunk := range chunks {
		slots <- struct{}{}
		if stopped() {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			joined, err := s.joinChunk(ctx, tenant, boardID, chunk, board, now, stopped)
			if err != nil {
				failed(err)
				return
			}
			results[i] = joined
		})
	}
	wg.Wait()
	joined := make([]string, 0, len(teams))
	for _, r := range results {
		joined = append(joined, r...)
	}
	return joined, firstErr
}

// joinChunk joins teams (at most joinsPerTransaction) to the board in one transaction,
// together with the items board gives (nil: none), and returns the ids of the teams it
// joined. When the transaction is cancelled nothing of it was applied, and it is built
// again from what failed: a team whose condition failed is read again, and dropped if
// it is gone or being deleted, or joined under its new name; a team whose membership
// exists already is left as it is; conflicts and throttling are waited out. If board's
// items fail their condition, the answer is errBoardRefused. Once stopped (nil: never)
// reports true, it tries no more.
func (s *Store) joinChunk(ctx context.Context, tenant, boardID string, teams []teamItem, board boardItems, now time.Time, stopped func() bool) ([]string, error) {
	teams = slices.Clone(teams)
	for attempt := 0; ; attempt++ {
		var extra []types.TransactWriteItem
		if board != nil {
			var err error
			if extra, err = board(len(teams)); err != nil {
				return nil, err
			}
		}
		joins, err := s.joinItems(tenant, boardID, teams, now)
		if err != nil {
			return nil, err
		}
		items := append(extra, joins...)
		if len(items) == 0 {
			return []string{}, nil
		}
		err = s.transact(ctx, items)
		if err == nil {
			return teamIDs(teams), nil
		}
		reasons := cancelReasons(err)
		if reasons == nil || attempt+1 == maxAttempts || stopped != nil && stopped() {
			return nil, err
		}
		var recheck []string
		member := map[string]bool{}
		for i, r := range reasons {
			switch r {
			case "", "None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
				continue // nothing wrong with this item: try again after a wait
			case reasonConditionFailed:
			default:
				return nil, err // e.g. a validation error: it would fail again
			}
			if i < len(extra) {
				return nil, fmt.Errorf("%w: %w", errBoardRefused, err)
			}
			t := teams[(i-len(extra))/2]
			if (i-len(extra))%2 == 0 {
				recheck = append(recheck, t.TeamID) // renamed, deleted or being deleted
			} else {
				member[t.TeamID] = true // a concurrent add put it on the board first
			}
		}
		fresh, err := s.readTeams(ctx, tenant, recheck)
		if err != nil {
			return nil, err
		}
		teams = slices.DeleteFunc(teams, func(t teamItem) bool { return member[t.TeamID] })
		for i, t := range teams {
			if slices.Contains(recheck, t.TeamID) {
				teams[i] = fresh[t.TeamID] // the zero teamItem marks a team gone
			}
		}
		teams = slices.DeleteFunc(teams, func(t teamItem) bool { return t.TeamID == "" })
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// teamIDs are the ids of teams, in order.
func teamIDs(teams []teamItem) []string {
	ids := make([]string, len(teams))
	for i, t := range teams {
		ids[i] = t.TeamID
	}
	return ids
}

// joinItems are the two transaction items per team that put it on a board: the team's
// boards set gains the board, on condition that the team is live and still has the name
// copied onto the member item, and the board gains the member item if it has none.
func (s *Store) joinItems(tenant, boardID string, teams []teamItem, now time.Time) ([]types.TransactWriteItem, error) {
	items := make([]types.TransactWriteItem, 0, 2*len(teams))
	for _, t := range teams {
		member, err := attributevalue.MarshalMap(memberItem{
			PK: memberPK(boardPK(tenant, boardID), t.TeamID), SK: memberSK(t.TeamID), Type: "member", TeamID: t.TeamID, TeamName: t.Name, JoinedAt: stamp(now),
		})
		if err != nil {
			return nil, fmt.Errorf("marshal member: %w", err)
		}
		items = append(items,
			types.TransactWriteItem{Update: &types.Update{
				TableName:           &s.table,
				Key:                 key(tenantPK(tenant), teamSK(t.TeamID)),
				UpdateExpression:    aws.String("ADD boards :board"),
				ConditionExpression: aws.String(teamLive + " AND teamName = :name"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":board": &types.AttributeValueMemberSS{Value: []string{boardID}},
					":name":  &types.AttributeValueMemberS{Value: t.Name},
				},
			}},
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: member, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		)
	}
	return items, nil
}

// liveTeams reads the given teams (step 1 above), in the order given; ids that are not
// live teams of the tenant come back in unknown.
func (s *Store) liveTeams(ctx context.Context, tenant string, ids []string) (teams []teamItem, unknown []string, err error) {
	found, err := s.readTeams(ctx, tenant, ids)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		if t, ok := found[id]; ok {
			teams = append(teams, t)
		} else {
			unknown = append(unknown, id)
		}
	}
	return teams, unknown, nil
}

// readTeams reads the live teams among ids, 100 to a strongly consistent BatchGetItem.
// Malformed ids are not read; ids must be distinct.
func (s *Store) readTeams(ctx context.Context, tenant string, ids []string) (map[string]teamItem, error) {
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if ValidID(id) {
			keys = append(keys, key(tenantPK(tenant), teamSK(id)))
		}
	}
	// Only what a join needs: a team on many boards is a big item.
	raw, err := s.batchGet(ctx, keys, true, "teamId, teamName, deleting")
	if err != nil {
		return nil, fmt.Errorf("read teams: %w", err)
	}
	out := make(map[string]teamItem, len(raw))
	for _, r := range raw {
		var it teamItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, fmt.Errorf("unmarshal team: %w", err)
		}
		if !it.Deleting {
			out[it.TeamID] = it
		}
	}
	return out, nil
}

// memberBoard is board for the writes that keep memberships whole (a team leaving, a
// team's new name copied onto its memberships). Unlike every read, they count a board
// being created as a board: its memberships are real, and it may yet go live with them.
// A board being deleted is ErrLeaderboardNotFound, as for board.
func (s *Store) memberBoard(ctx context.Context, tenant, id string) (board, error) {
	if settings, ok := s.settings.Load(tenant + "#" + id); ok {
		return board{tenant: tenant, id: id, pk: boardPK(tenant, id), settings: settings.(Settings)}, nil
	}
	if !ValidID(id) {
		return board{}, ErrLeaderboardNotFound
	}
	raw, err := s.getItem(ctx, tenantPK(tenant), leaderboardSK(id))
	if err != nil {
		return board{}, fmt.Errorf("get leaderboard %s: %w", id, err)
	}
	if raw == nil {
		return board{}, ErrLeaderboardNotFound
	}
	it, err := unmarshalLeaderboard(raw)
	if err != nil {
		return board{}, fmt.Errorf("unmarshal leaderboard %s: %w", id, err)
	}
	if it.Deleting && !it.Creating {
		return board{}, ErrLeaderboardNotFound
	}
	// Not cached: board, which trusts its cache, would then take scores for a board
	// that reads as missing (its HEAD is live while it is being created).
	return board{tenant: tenant, id: id, pk: boardPK(tenant, id), settings: it.leaderboard().Settings}, nil
}

// distinct returns ids without repeats, in first-seen order, never nil.
func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
