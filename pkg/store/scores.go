package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/ranktree"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// Submission is one score submitted for one team.
type Submission struct {
	TeamID   string
	Score    int64
	Operator string // "" means the leaderboard's
}

// Ranked is a team's place on a leaderboard.
type Ranked struct {
	Rank      int64
	TeamID    string
	TeamName  string
	Score     int64
	UpdatedAt time.Time
}

// NotMembersError names submitted teams that are not on the leaderboard.
type NotMembersError struct{ IDs []string }

func (e *NotMembersError) Error() string {
	return "not members of the leaderboard: " + strings.Join(e.IDs, ", ")
}

// OutOfRangeError says a submission would leave a team's score outside the board's
// range (or outside +/-(2^53-1)).
type OutOfRangeError struct {
	TeamID   string
	Score    int64
	Min, Max int64
}

func (e *OutOfRangeError) Error() string {
	return fmt.Sprintf("score %d for team %s is outside %d..%d", e.Score, e.TeamID, e.Min, e.Max)
}

var (
	// ErrNotRanked is returned for a member team that has no score yet.
	ErrNotRanked = errors.New("team has no score on this leaderboard")
	// ErrIdempotencyKeyReused is returned when an Idempotency-Key comes back with a
	// different request.
	ErrIdempotencyKeyReused = errors.New("idempotency key was used for a different request")
)

// idempotencyTTL is how long the answer to a submit made with an Idempotency-Key is kept.
const idempotencyTTL = 24 * time.Hour

// board is what scoring needs to know of a leaderboard.
type board struct {
	tenant, id string
	pk         string
	settings   Settings
}

// board reads a leaderboard's settings once per process: they never change after the
// board is created, and ids are never reused. Whether it still exists is HEAD's to say
// (a deleted board's HEAD reads as missing), which every board read and commit reads.
func (s *Store) board(ctx context.Context, tenant, id string) (board, error) {
	ck := tenant + "#" + id
	if settings, ok := s.settings.Load(ck); ok {
		return board{tenant: tenant, id: id, pk: boardPK(tenant, id), settings: settings.(Settings)}, nil
	}
	it, err := s.getLeaderboardItem(ctx, tenant, id)
	if err != nil {
		return board{}, err
	}
	settings := it.leaderboard().Settings
	s.settings.Store(ck, settings)
	return board{tenant: tenant, id: id, pk: boardPK(tenant, id), settings: settings}, nil
}

func (b board) key(m memberItem) string {
	return rankKey(b.settings.SortOrder, *m.Score, m.ReachedAt, m.TeamID)
}

// SubmitScores applies submissions in order and returns each team's resulting score
// and rank, as of after the last submission. Every team must be a member and every
// result in range, or nothing is written. The whole batch is one commit when it fits in
// one transaction; a bigger one is applied in several commits while HEAD's lock keeps
// other writers out, and anyone who finds the lock expired finishes it from its LOG, so
// a batch is never left half-applied. With an idempotency key, the answer is stored in
// the same commit as the last of the writes: a repeat returns it and applies nothing,
// and the same key with another request is refused before anything is written.
func (s *Store) SubmitScores(ctx context.Context, tenant, boardID string, subs []Submission, idempotencyKey string) ([]Ranked, error) {
	b, err := s.board(ctx, tenant, boardID)
	if err != nil {
		return nil, err
	}
	if err := s.checkTeamsLive(ctx, tenant, subs); err != nil {
		return nil, err
	}
	var idem *idempotency
	if idempotencyKey != "" {
		idem = newIdempotency(idempotencyKey, subs)
	}
	for attempt := 0; ; attempt++ {
		if idem != nil {
			done, answer, err := s.loadIdempotency(ctx, b, idem)
			if err != nil || done {
				return answer, err
			}
		}
		var answer []Ranked
		if len(teams(subs)) <= maxQueuedTeams {
			answer, err = s.submitQueued(ctx, b, subs, idem)
		}
		if len(teams(subs)) > maxQueuedTeams || errors.Is(err, errTooBigToQueue) {
			answer, err = s.submit(ctx, b, subs, idem)
		}
		if errors.Is(err, errIdempotencyRace) && attempt < 10 {
			continue // another request with the key got in first: read what it left
		}
		return answer, err
	}
}

func (s *Store) submit(ctx context.Context, b board, subs []Submission, idem *idempotency) ([]Ranked, error) {
	var answer []Ranked
	var rest *batchLog
	_, err := s.commitBoard(ctx, b, func(ctx context.Context, c *commit) error {
		members, err := s.getMembers(ctx, b.pk, teams(subs))
		if err != nil {
			return err
		}
		p := newPlanner(b, members, s.now())
		if err := p.add(subs); err != nil {
			return err
		}
		answer, rest, err = s.writePlan(ctx, c, p, subs, idem)
		return err
	})
	if err != nil || rest == nil {
		return answer, err
	}
	// The batch goes on in further commits; this request drives them, and anyone who
	// finds the lock expired helps. From here on the batch is written, or will be by
	// whoever finishes it: a failure must not tell the client that nothing was.
	answer, err = s.finishBatch(ctx, b, subs, idem)
	if err != nil {
		return nil, fmt.Errorf("%w: the batch is partly written and will be finished: %w", ErrOutcomeUnknown, err)
	}
	return answer, nil
}

func (s *Store) finishBatch(ctx context.Context, b board, subs []Submission, idem *idempotency) ([]Ranked, error) {
	if err := s.settle(ctx, b); err != nil {
		return nil, err
	}
	if idem != nil {
		if _, answer, err := s.loadIdempotency(ctx, b, idem); err != nil || answer != nil {
			return answer, err
		}
	}
	return s.rankTeams(ctx, b, subs)
}

// update is one team's change in a commit: the member as read, and what it becomes.
type update struct {
	TeamID    string `json:"t"`
	Name      string `json:"n"`
	Ver       int64  `json:"v"`           // the member's ver as read; written as Ver+1
	OldKey    string `json:"o,omitempty"` // its rank key before, "" if it had no score
	Score     int64  `json:"s"`
	ReachedAt int64  `json:"r"`
	UpdatedAt string `json:"u"`
}

func (u update) key(b board) string {
	return rankKey(b.settings.SortOrder, u.Score, u.ReachedAt, u.TeamID)
}

// planner plays requests through in memory on the members as read. Each request is
// checked whole against the state the requests before it leave, and refused whole: a
// non-member or an out-of-range result keeps nothing of it.
type planner struct {
	b     board
	read  map[string]*memberItem // as read; nil for a team that is no member
	state map[string]*memberItem // as the accepted requests leave them
	order []string               // teams in the order requests first named them
	now   time.Time
}

func newPlanner(b board, read map[string]*memberItem, now time.Time) *planner {
	p := &planner{b: b, read: read, state: map[string]*memberItem{}, now: now}
	for id, m := range read {
		p.state[id] = m
	}
	return p
}

// teams returns the distinct teams of subs, in order.
func teams(subs []Submission) []string {
	var ids []string
	seen := map[string]bool{}
	for _, sub := range subs {
		if !seen[sub.TeamID] {
			seen[sub.TeamID] = true
			ids = append(ids, sub.TeamID)
		}
	}
	return ids
}

// add plays one request through.
func (p *planner) add(subs []Submission) error {
	ids := teams(subs)
	var missing []string
	for _, id := range ids {
		if p.state[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return &NotMembersError{IDs: missing}
	}
	scores := map[string]*int64{}
	for _, id := range ids {
		scores[id] = p.state[id].Score
	}
	for _, sub := range subs {
		score, changed, err := p.b.combine(sub, scores[sub.TeamID])
		if err != nil {
			return err
		}
		if changed {
			scores[sub.TeamID] = &score
		}
	}
	for _, id := range ids {
		cur, read := p.state[id], p.read[id]
		if cur.Score != nil && *cur.Score == *scores[id] {
			continue
		}
		if !slices.Contains(p.order, id) {
			p.order = append(p.order, id)
		}
		if read.Score != nil && *read.Score == *scores[id] {
			p.state[id] = read // back where it was: nothing to write
			continue
		}
		next := *read
		next.Score, next.ReachedAt, next.UpdatedAt, next.Ver = scores[id], p.now.UnixMilli(), stamp(p.now), read.Ver+1
		p.state[id] = &next
	}
	return nil
}

// updates are the writes that take the members from as read to as planned.
func (p *planner) updates() []update {
	var out []update
	for _, id := range p.order {
		read, cur := p.read[id], p.state[id]
		if cur == read {
			continue
		}
		u := update{TeamID: id, Name: read.TeamName, Ver: read.Ver, Score: *cur.Score, ReachedAt: cur.ReachedAt, UpdatedAt: cur.UpdatedAt}
		if read.Score != nil {
			u.OldKey = p.b.key(*read)
		}
		out = append(out, u)
	}
	return out
}

// writePlan adds to c as much of plan as one transaction holds. If that is all of it,
// it also adds the idempotency record and returns the answer. If not, it starts a
// batch: HEAD is locked and the rest goes to the LOG item, for settle to apply.
func (s *Store) writePlan(ctx context.Context, c *commit, p *planner, subs []Submission, idem *idempotency) ([]Ranked, *batchLog, error) {
	plan := p.updates()
	n, err := s.applyUpdates(ctx, c, plan, 3)
	if err != nil {
		return nil, nil, err
	}
	if n == len(plan) {
		answer, err := c.answer(ctx, subs, p.state)
		if err != nil {
			return nil, nil, err
		}
		if idem != nil {
			c.idem = len(c.items)
			c.add(s.idempotencyPut(c.b.pk, idem, answer))
		}
		return answer, nil, nil
	}
	// The rest goes to the LOG with the members' ver as read, and this commit checks
	// only the members it writes. Reads of separate items are not a snapshot together,
	// so the members are first confirmed with TransactGetItems, which is.
	if err := s.confirmMembers(ctx, c, p); err != nil {
		return nil, nil, err
	}
	log := &batchLog{Rest: plan[n:], Subs: subs}
	if idem != nil {
		log.IdemHash, log.IdemRequest = idem.hash, idem.request
		c.idem = len(c.items)
		c.add(s.idempotencyPut(c.b.pk, idem, nil))
	}
	item, err := s.logPut(c, log)
	if err != nil {
		return nil, nil, err
	}
	c.add(item)
	c.lockUntil = time.Now().Add(batchLockTTL).UnixMilli()
	return nil, log, nil
}

// applyUpdates applies the longest prefix of plan whose writes, with reserve more
// items, fit in one transaction, to c's tree and items. It returns how many it applied.
func (s *Store) applyUpdates(ctx context.Context, c *commit, plan []update, reserve int) (int, error) {
	n := len(plan)
	for {
		if err := s.resetTree(c.view); err != nil {
			return 0, err
		}
		base := len(c.items)
		// Read every node the moves need at once, not one after another.
		var keys []string
		for _, u := range plan[:n] {
			if u.OldKey != "" {
				keys = append(keys, treeKey(u.OldKey))
			}
			keys = append(keys, treeKey(u.key(c.b)))
		}
		if err := c.tree.Prefetch(ctx, keys); err != nil {
			return 0, err
		}
		for _, u := range plan[:n] {
			if err := s.applyUpdate(ctx, c, u); err != nil {
				return 0, err
			}
		}
		ch := c.tree.Changes()
		size := 1 + len(ch.Put) + len(ch.Delete) + len(c.items) + reserve
		if size <= maxTransactItems || n == 1 {
			if size > maxTransactItems {
				return 0, fmt.Errorf("one score update needs %d items: %w", size, errTooBig)
			}
			return n, nil
		}
		c.items = c.items[:base]
		n = max(1, n*(maxTransactItems-reserve)/size*9/10)
	}
}

// applyUpdate moves one team in the tree and adds its member's write.
func (s *Store) applyUpdate(ctx context.Context, c *commit, u update) error {
	newKey := u.key(c.b)
	if u.OldKey != "" {
		if err := c.tree.Delete(ctx, treeKey(u.OldKey)); err != nil {
			return fmt.Errorf("team %s leaves %s: %w", u.TeamID, u.OldKey, s.treeError(ctx, c, u.TeamID, u.Ver, err))
		}
	}
	if err := c.tree.Insert(ctx, treeKey(newKey), u.Name); err != nil {
		return fmt.Errorf("team %s enters %s: %w", u.TeamID, newKey, s.treeError(ctx, c, u.TeamID, u.Ver, err))
	}
	c.add(
		types.TransactWriteItem{Update: &types.Update{
			TableName:           &s.table,
			Key:                 key(memberPK(c.b.pk, u.TeamID), memberSK(u.TeamID)),
			UpdateExpression:    aws.String("SET score = :score, reachedAt = :at, updatedAt = :updated ADD ver :one"),
			ConditionExpression: aws.String("ver = :ver"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":score": number(u.Score), ":at": number(u.ReachedAt), ":updated": &types.AttributeValueMemberS{Value: u.UpdatedAt},
				":one": number(1), ":ver": number(u.Ver),
			},
		}},
	)
	return nil
}

// ErrDrift says the rank tree disagrees with a member: a key the member has is not in
// the tree, or one it is about to get already is. cmd/treecheck finds and repairs it.
var ErrDrift = errors.New("the rank tree disagrees with the members")

// treeError tells drift from a stale read when the tree refuses to move team's key.
// The member was read after HEAD, and single-item reads are each serializable but not
// together: the member may already show a commit whose HEAD this commit's read did not
// see. TransactGetItems is a snapshot: if it shows HEAD at the version read and the
// member at the ver read, the tree of that version (read by stamps) is wrong. Anything
// else, a conflict included, starts the commit again.
func (s *Store) treeError(ctx context.Context, c *commit, team string, ver int64, err error) error {
	if !errors.Is(err, ranktree.ErrMissing) && !errors.Is(err, ranktree.ErrExists) {
		return err
	}
	if cerr := s.confirmVers(ctx, c, map[string]*int64{team: &ver}); cerr != nil {
		return fmt.Errorf("%w: %w", ranktree.ErrStale, err)
	}
	return &driftError{team: team, err: err}
}

// driftError is ErrDrift for one team.
type driftError struct {
	team string
	err  error
}

func (e *driftError) Error() string   { return fmt.Sprintf("team %s: %v: %v", e.team, ErrDrift, e.err) }
func (e *driftError) Unwrap() []error { return []error{ErrDrift, e.err} }

// answer ranks every submitted team, given the members as the view leaves them.
func (v *view) answer(ctx context.Context, subs []Submission, members map[string]*memberItem) ([]Ranked, error) {
	out := make([]Ranked, len(subs))
	ranked := map[string]Ranked{}
	for i, sub := range subs {
		r, ok := ranked[sub.TeamID]
		if !ok {
			m := members[sub.TeamID]
			if m == nil {
				return nil, &NotMembersError{IDs: []string{sub.TeamID}}
			}
			var err error
			if r, err = v.rankOf(ctx, *m); err != nil {
				return nil, err
			}
			ranked[sub.TeamID] = r
		}
		out[i] = r
	}
	return out, nil
}

// rankTeams reads the submitted teams' ranks afresh: the answer to a batch that took
// several commits.
func (s *Store) rankTeams(ctx context.Context, b board, subs []Submission) ([]Ranked, error) {
	var ids []string
	for _, sub := range subs {
		ids = append(ids, sub.TeamID)
	}
	var out []Ranked
	err := s.readView(ctx, b, func(v *view) error {
		members, err := s.getMembers(ctx, b.pk, ids)
		if err != nil {
			return err
		}
		out, err = v.answer(ctx, subs, members)
		return err
	})
	return out, err
}

// checkTeamsLive refuses submissions for teams whose delete has begun: the delete takes
// them off every board, one after another, and a board it has not reached yet must not
// take new scores meanwhile. An eventually consistent read is enough: a submission that
// passes just before the mark commits before the delete reaches its board, and is
// removed with the member.
func (s *Store) checkTeamsLive(ctx context.Context, tenant string, subs []Submission) error {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, sub := range subs {
		if !seen[sub.TeamID] && ValidID(sub.TeamID) {
			seen[sub.TeamID] = true
			keys = append(keys, key(tenantPK(tenant), teamSK(sub.TeamID)))
		}
	}
	items, err := s.batchGet(ctx, keys, false, "teamId, deleting")
	if err != nil {
		return fmt.Errorf("read teams: %w", err)
	}
	var gone []string
	for _, it := range items {
		if _, deleting := it["deleting"]; deleting {
			gone = append(gone, it["teamId"].(*types.AttributeValueMemberS).Value)
		}
	}
	if len(gone) > 0 {
		return &NotMembersError{IDs: gone}
	}
	return nil
}

// getMembers reads members by team id, strongly consistent; missing ones are nil.
func (s *Store) getMembers(ctx context.Context, pk string, teams []string) (map[string]*memberItem, error) {
	out := make(map[string]*memberItem, len(teams))
	var keys []map[string]types.AttributeValue
	for _, t := range teams {
		out[t] = nil
		if ValidID(t) {
			keys = append(keys, key(memberPK(pk, t), memberSK(t)))
		}
	}
	items, err := s.batchGet(ctx, keys, true, "")
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	for _, it := range items {
		var m memberItem
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			return nil, fmt.Errorf("unmarshal member: %w", err)
		}
		out[m.TeamID] = &m
	}
	return out, nil
}

// batchGet reads items by key, 100 to a BatchGetItem, retrying unprocessed keys.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool, projection string) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for i := 0; i < len(keys); i += 100 {
		ka := types.KeysAndAttributes{Keys: keys[i:min(i+100, len(keys))], ConsistentRead: aws.Bool(consistent)}
		if projection != "" {
			ka.ProjectionExpression = aws.String(projection)
		}
		req := map[string]types.KeysAndAttributes{s.table: ka}
		for attempt := 0; len(req) > 0; attempt++ {
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req, ReturnConsumedCapacity: total})
			if err != nil {
				return nil, err
			}
			reqlog.AddRead(ctx, res.ConsumedCapacity...)
			out = append(out, res.Responses[s.table]...)
			req = res.UnprocessedKeys
			if len(req) > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// confirmMembers checks that HEAD is still at the commit's version and every member the
// planner read is as it read it (see confirmVers).
func (s *Store) confirmMembers(ctx context.Context, c *commit, p *planner) error {
	want := make(map[string]*int64, len(p.read))
	for id, m := range p.read {
		want[id] = nil
		if m != nil {
			want[id] = &m.Ver
		}
	}
	return s.confirmVers(ctx, c, want)
}

// confirmVers checks, with TransactGetItems (a snapshot), that HEAD is at the commit's
// version and each team's member at the ver given (nil: no member); else ErrStale. Each
// call holds HEAD and up to 99 members; equal HEAD versions make the calls one snapshot,
// since every member write is a commit that changes HEAD.
func (s *Store) confirmVers(ctx context.Context, c *commit, want map[string]*int64) error {
	ids := slices.Sorted(maps.Keys(want))
	for i := 0; i < len(ids); i += maxTransactItems - 1 {
		chunk := ids[i:min(i+maxTransactItems-1, len(ids))]
		gets := []types.TransactGetItem{{Get: &types.Get{TableName: &s.table, Key: key(c.b.pk, headSK()), ProjectionExpression: aws.String("ver")}}}
		for _, id := range chunk {
			gets = append(gets, types.TransactGetItem{Get: &types.Get{TableName: &s.table, Key: key(memberPK(c.b.pk, id), memberSK(id)), ProjectionExpression: aws.String("ver")}})
		}
		out, err := s.db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets, ReturnConsumedCapacity: total})
		if err != nil {
			if cancelReasons(err) != nil || transient(err) {
				return fmt.Errorf("confirm members: %w: %w", ranktree.ErrStale, err)
			}
			return fmt.Errorf("confirm members: %w", err)
		}
		reqlog.AddRead(ctx, out.ConsumedCapacity...)
		for j, r := range out.Responses {
			var got struct {
				Ver *int64 `dynamodbav:"ver"`
			}
			if err := attributevalue.UnmarshalMap(r.Item, &got); err != nil {
				return err
			}
			expect := &c.head.Ver
			if j > 0 {
				expect = want[chunk[j-1]]
			}
			if (got.Ver == nil) != (expect == nil) || got.Ver != nil && *got.Ver != *expect {
				return fmt.Errorf("confirm members: %w", ranktree.ErrStale)
			}
		}
	}
	return nil
}

// batchLockTTL is how long a batch applied in several commits keeps other writers out
// before anyone may finish it for it.
const batchLockTTL = 2 * time.Second

// batchLog is the rest of a batch being applied in several commits: the LOG item, written
// in the same commit as the lock. Ver is the HEAD version of that commit: a LOG that
// does not match HEAD is a stale read.
type batchLog struct {
	Ver         int64        `json:"ver"`
	Rest        []update     `json:"rest"`
	Subs        []Submission `json:"subs"`
	IdemHash    string       `json:"idemHash,omitempty"`
	IdemRequest string       `json:"idemRequest,omitempty"`
}

func (s *Store) logPut(c *commit, log *batchLog) (types.TransactWriteItem, error) {
	log.Ver = c.head.Ver + 1
	body, err := json.Marshal(log)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: c.b.pk}, "SK": &types.AttributeValueMemberS{Value: batchLogSK()},
		"type": &types.AttributeValueMemberS{Value: "batchlog"}, "log": &types.AttributeValueMemberS{Value: string(body)},
	}}}, nil
}

// settle applies the rest of a batch that holds the board, commit by commit, until the
// board is free.
func (s *Store) settle(ctx context.Context, b board) error {
	deadline := time.Now().Add(commitBudget)
	for attempt := 0; ; attempt++ {
		v, err := s.openView(ctx, b)
		if err == nil {
			if v.head.Lock == 0 {
				return nil
			}
			err = s.rollForward(ctx, v)
		}
		if err != nil && !retryable(err) {
			return err
		}
		if err == nil {
			// A part went in: the budget is for waiting, not for a batch's length.
			attempt, deadline = 0, time.Now().Add(commitBudget)
			continue
		}
		if time.Now().After(deadline) {
			return giveUp(err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// rollForward applies the next part of the batch that holds the board in view v, and
// releases the board with the last part.
func (s *Store) rollForward(ctx context.Context, v *view) error {
	raw, err := s.getItem(ctx, v.b.pk, batchLogSK())
	if err != nil {
		return fmt.Errorf("read batch log: %w", err)
	}
	var log batchLog
	if body, ok := raw["log"].(*types.AttributeValueMemberS); ok {
		if err := json.Unmarshal([]byte(body.Value), &log); err != nil {
			return fmt.Errorf("batch log: %w", err)
		}
	}
	if log.Ver != v.head.Ver {
		return fmt.Errorf("batch log of version %d, head %d: %w", log.Ver, v.head.Ver, ranktree.ErrStale)
	}
	c := &commit{view: v, idem: -1}
	n, err := s.applyUpdates(ctx, c, log.Rest, 1)
	if err != nil {
		return err
	}
	if n == len(log.Rest) {
		c.add(types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(v.b.pk, batchLogSK())}})
	} else {
		log.Rest = log.Rest[n:]
		item, err := s.logPut(c, &log)
		if err != nil {
			return err
		}
		c.add(item)
		c.lockUntil = time.Now().Add(batchLockTTL).UnixMilli()
	}
	return s.writeCommit(ctx, c)
}

// combine applies a submission's operator to a team's current score.
func (b board) combine(sub Submission, old *int64) (int64, bool, error) {
	op := sub.Operator
	if op == "" {
		op = b.settings.ScoreOperator
	}
	score := sub.Score
	switch op {
	case OperatorSet:
	case OperatorBest:
		if old != nil && !b.better(score, *old) {
			return *old, false, nil
		}
	case OperatorIncrement:
		if old != nil {
			score = *old + sub.Score // both within 2^53, so no overflow
		}
	default:
		return 0, false, fmt.Errorf("unknown score operator %q", op)
	}
	lo, hi := int64(-maxScore), int64(maxScore)
	if b.settings.MinScore != nil {
		lo = *b.settings.MinScore
	}
	if b.settings.MaxScore != nil {
		hi = *b.settings.MaxScore
	}
	if score < lo || score > hi {
		return 0, false, &OutOfRangeError{TeamID: sub.TeamID, Score: score, Min: lo, Max: hi}
	}
	return score, old == nil || score != *old, nil
}

func (b board) better(a, than int64) bool {
	if b.settings.SortOrder == SortAscending {
		return a < than
	}
	return a > than
}

// backoff waits a jittered, growing time before attempt+1.
func backoff(ctx context.Context, attempt int) error {
	ceiling := time.Duration(2<<min(attempt, 6)) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(ceiling/2 + rand.N(ceiling/2+1)):
		return nil
	}
}

func (s *Store) getMember(ctx context.Context, pk, team string) (memberItem, error) {
	if !ValidID(team) {
		return memberItem{}, ErrTeamNotFound
	}
	raw, err := s.getItem(ctx, memberPK(pk, team), memberSK(team))
	if err != nil {
		return memberItem{}, fmt.Errorf("get member %s: %w", team, err)
	}
	if raw == nil {
		return memberItem{}, ErrTeamNotFound
	}
	var m memberItem
	if err := attributevalue.UnmarshalMap(raw, &m); err != nil {
		return memberItem{}, fmt.Errorf("unmarshal member %s: %w", team, err)
	}
	return m, nil
}

// idempotency is an Idempotency-Key's hash and the request it comes with.
type idempotency struct {
	hash, request string
	subs          []Submission
}

type idempotencyRecord struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	Request   string `dynamodbav:"request"`
	Answer    string `dynamodbav:"answer,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func newIdempotency(idempotencyKey string, subs []Submission) *idempotency {
	h := sha256.Sum256([]byte(idempotencyKey))
	req, _ := json.Marshal(subs)
	r := sha256.Sum256(req)
	return &idempotency{hash: hex.EncodeToString(h[:16]), request: hex.EncodeToString(r[:]), subs: subs}
}

// loadIdempotency reads what an earlier request with the same key left. done is false
// if there is nothing (or only an expired record: TTL deletes them only eventually). A
// record of another request is ErrIdempotencyKeyReused. A record without an answer is a
// batch that took several commits: it is finished first if need be, and its answer
// read and stored.
func (s *Store) loadIdempotency(ctx context.Context, b board, idem *idempotency) (done bool, answer []Ranked, err error) {
	pk := b.pk
	raw, err := s.getItem(ctx, idempotencyPK(pk, idem.hash), idempotencySK())
	if err != nil {
		return false, nil, fmt.Errorf("read idempotency record: %w", err)
	}
	var rec idempotencyRecord
	if raw != nil {
		if err := attributevalue.UnmarshalMap(raw, &rec); err != nil {
			return false, nil, fmt.Errorf("unmarshal idempotency record: %w", err)
		}
	}
	switch {
	case raw == nil || rec.ExpiresAt < s.now().Unix():
		return false, nil, nil
	case rec.Request != idem.request:
		return false, nil, ErrIdempotencyKeyReused
	case rec.Answer != "":
		if err := json.Unmarshal([]byte(rec.Answer), &answer); err != nil {
			return false, nil, fmt.Errorf("stored answer: %w", err)
		}
		return true, answer, nil
	}
	if err := s.settle(ctx, b); err != nil {
		return false, nil, err
	}
	if answer, err = s.rankTeams(ctx, b, idem.subs); err != nil {
		return false, nil, err
	}
	body, _ := json.Marshal(answer)
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(idempotencyPK(pk, idem.hash), idempotencySK()),
		UpdateExpression:         aws.String("SET answer = :answer"),
		ConditionExpression:      aws.String("#request = :req AND attribute_not_exists(answer)"),
		ExpressionAttributeNames: map[string]string{"#request": "request"}, // a reserved word
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":answer": &types.AttributeValueMemberS{Value: string(body)}, ":req": &types.AttributeValueMemberS{Value: idem.request},
		},
		ReturnConsumedCapacity: total,
	})
	if conditionFailed(err) {
		return s.loadIdempotency(ctx, b, idem) // someone stored it first
	}
	if err != nil {
		return false, nil, fmt.Errorf("save idempotent answer: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return true, answer, nil
}

// idempotencyPut creates the record of an idempotent request, with its answer if known,
// on condition that no live record has the key.
func (s *Store) idempotencyPut(pk string, idem *idempotency, answer []Ranked) types.TransactWriteItem {
	rec := idempotencyRecord{PK: idempotencyPK(pk, idem.hash), SK: idempotencySK(), Type: "idempotency", Request: idem.request,
		ExpiresAt: s.now().Add(idempotencyTTL).Unix()}
	if answer != nil {
		body, _ := json.Marshal(answer)
		rec.Answer = string(body)
	}
	item, _ := attributevalue.MarshalMap(rec)
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR expiresAt < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(s.now().Unix())},
	}}
}
