package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

// entryItem is one scored team in rank order; rankings pages read only these.
type entryItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	TeamID    string `dynamodbav:"teamId"`
	TeamName  string `dynamodbav:"teamName"`
	Score     int64  `dynamodbav:"score"`
	UpdatedAt string `dynamodbav:"updatedAt"`
}

func (e entryItem) rankKey() string { return strings.TrimPrefix(e.SK, entrySK("")) }

func (e entryItem) ranked(rank int64) Ranked {
	return Ranked{Rank: rank, TeamID: e.TeamID, TeamName: e.TeamName, Score: e.Score, UpdatedAt: parseStamp(e.UpdatedAt)}
}

// board is what scoring needs to know of a leaderboard.
type board struct {
	pk       string
	settings Settings
}

func (s *Store) board(ctx context.Context, tenant, id string) (board, error) {
	it, err := s.getLeaderboardItem(ctx, tenant, id)
	if err != nil {
		return board{}, err
	}
	return board{pk: boardPK(tenant, id), settings: it.leaderboard().Settings}, nil
}

func (b board) key(m memberItem) string {
	return rankKey(b.settings.SortOrder, *m.Score, m.ReachedAt, m.TeamID)
}

// SubmitScores applies submissions in order and returns each team's resulting score
// and rank (ranks as of after the last submission). Every team must be a member; every
// result must stay in range; both are checked for the whole batch before anything is
// written. Each submission is its own transaction. With an idempotency key, a retried
// request applies only what the first attempt did not, and a completed one returns its
// first answer unchanged.
func (s *Store) SubmitScores(ctx context.Context, tenant, boardID string, subs []Submission, idempotencyKey string) ([]Ranked, error) {
	b, err := s.board(ctx, tenant, boardID)
	if err != nil {
		return nil, err
	}
	var idem *idempotency
	if idempotencyKey != "" {
		idem = newIdempotency(idempotencyKey, subs)
		if err := s.loadIdempotency(ctx, b.pk, idem); err != nil {
			return nil, err
		}
		if idem.answer != nil {
			return idem.answer, nil
		}
	}
	// A single submission is checked by applyOne itself, at no extra read.
	if len(subs) > 1 {
		if err := s.checkBatch(ctx, b, subs, idem); err != nil {
			return nil, err
		}
	}
	// The member as this request left it, per team; missing where an earlier try did
	// the work, and the member is read again for the answer.
	written := map[string]*memberItem{}
	for i, sub := range subs {
		if idem != nil && idem.applied[i] {
			delete(written, sub.TeamID)
			continue
		}
		marker := ""
		if idem != nil {
			marker = idempotencyMarkerSK(idem.hash, i)
		}
		m, err := s.applyOne(ctx, b, sub, marker)
		if err != nil {
			return nil, fmt.Errorf("submission %d (team %s): %w", i, sub.TeamID, err)
		}
		written[sub.TeamID] = m
	}
	results := make([]Ranked, len(subs))
	ranks := map[string]Ranked{}
	for i, sub := range subs {
		r, ok := ranks[sub.TeamID]
		if !ok {
			if m := written[sub.TeamID]; m != nil {
				r, err = s.rankMember(ctx, b, *m)
			} else {
				r, err = s.rankOf(ctx, b, sub.TeamID)
			}
			if err != nil {
				return nil, err
			}
			ranks[sub.TeamID] = r
		}
		results[i] = r
	}
	if idem != nil {
		return s.saveIdempotency(ctx, b.pk, idem, results)
	}
	return results, nil
}

// checkBatch reads every member once and plays the batch through in memory, so that a
// batch with a non-member or an out-of-range result writes nothing. Submissions that an
// earlier try of the same idempotent request applied are already in the scores read.
func (s *Store) checkBatch(ctx context.Context, b board, subs []Submission, idem *idempotency) error {
	members := map[string]*memberItem{}
	var missing []string
	for _, sub := range subs {
		if _, seen := members[sub.TeamID]; seen {
			continue
		}
		m, err := s.getMember(ctx, b.pk, sub.TeamID)
		if errors.Is(err, ErrTeamNotFound) {
			missing = append(missing, sub.TeamID)
			members[sub.TeamID] = nil
			continue
		}
		if err != nil {
			return err
		}
		members[sub.TeamID] = &m
	}
	if len(missing) > 0 {
		return &NotMembersError{IDs: missing}
	}
	for i, sub := range subs {
		if idem != nil && idem.applied[i] {
			continue
		}
		m := members[sub.TeamID]
		score, changed, err := b.combine(sub, m.Score)
		if err != nil {
			return err
		}
		if changed {
			m.Score = &score
		}
	}
	return nil
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

// maxAttempts bounds how often one submission is retried when other writes to the same
// team or the same part of the rank tree get in first.
const maxAttempts = 100

// applyOne applies one submission in one transaction: the member's score, its entry
// (the old one out, the new one in), the rank tree counts, and the idempotency marker.
// It reads first and writes on condition that nothing it read has changed, retrying
// with jittered backoff when something has, so concurrent submissions never lose an
// update. It returns the member as the submission left it, or nil if a concurrent retry
// of the same idempotent request applied it instead.
func (s *Store) applyOne(ctx context.Context, b board, sub Submission, marker string) (*memberItem, error) {
	for attempt := 0; ; attempt++ {
		m, err := s.getMember(ctx, b.pk, sub.TeamID)
		if errors.Is(err, ErrTeamNotFound) {
			return nil, &NotMembersError{IDs: []string{sub.TeamID}}
		}
		if err != nil {
			return nil, err
		}
		score, changed, err := b.combine(sub, m.Score)
		if err != nil {
			return nil, err
		}
		var items []types.TransactWriteItem
		var to path
		if changed {
			items, to, m, err = s.scoreItems(ctx, b, m, score)
			if err != nil {
				return nil, err
			}
		}
		if marker != "" {
			items = append(items, s.markerPut(b.pk, marker, score))
		}
		if len(items) == 0 {
			return &m, nil
		}
		err = s.transact(ctx, items)
		if err == nil {
			if changed {
				// Splitting keeps reads bounded; if it fails, the next write retries it.
				_ = s.maybeSplit(ctx, to)
			}
			return &m, nil
		}
		reasons := cancelReasons(err)
		if reasons == nil {
			return nil, err
		}
		if marker != "" && reasons[len(reasons)-1] == reasonConditionFailed {
			return nil, nil // a concurrent retry of the same request applied it
		}
		if attempt+1 == maxAttempts {
			return nil, fmt.Errorf("submit score for %s: gave up after %d attempts: %w", sub.TeamID, maxAttempts, ErrConflict)
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// scoreItems are the writes that give member m the new score, and the member as they
// leave it.
func (s *Store) scoreItems(ctx context.Context, b board, m memberItem, score int64) ([]types.TransactWriteItem, path, memberItem, error) {
	now := s.now()
	old := m
	m.Score, m.ReachedAt, m.UpdatedAt, m.Ver = &score, now.UnixMilli(), stamp(now), m.Ver+1
	newKey := b.key(m)
	to, err := s.pathOf(ctx, b.pk, newKey)
	if err != nil {
		return nil, path{}, memberItem{}, err
	}
	entry, err := attributevalue.MarshalMap(entryItem{
		PK: b.pk, SK: entrySK(newKey), Type: "entry", TeamID: m.TeamID, TeamName: m.TeamName, Score: score, UpdatedAt: m.UpdatedAt,
	})
	if err != nil {
		return nil, path{}, memberItem{}, fmt.Errorf("marshal entry: %w", err)
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:           &s.table,
			Key:                 key(b.pk, memberSK(m.TeamID)),
			UpdateExpression:    aws.String("SET score = :score, reachedAt = :at, updatedAt = :updated ADD ver :one"),
			ConditionExpression: aws.String("ver = :ver"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":score": number(score), ":at": number(m.ReachedAt), ":updated": &types.AttributeValueMemberS{Value: m.UpdatedAt},
				":one": number(1), ":ver": number(old.Ver),
			},
		}},
		{Put: &types.Put{TableName: &s.table, Item: entry}},
	}
	var from *path
	if old.Score != nil {
		oldKey := b.key(old)
		p, err := s.pathOf(ctx, b.pk, oldKey)
		if err != nil {
			return nil, path{}, memberItem{}, err
		}
		from = &p
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(b.pk, entrySK(oldKey))}})
	}
	return append(items, s.moveItems(from, &to)...), to, m, nil
}

func (s *Store) markerPut(pk, sk string, score int64) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk},
			"type": &types.AttributeValueMemberS{Value: "idempotency"}, "score": number(score),
			"expiresAt": number(s.now().Add(idempotencyTTL).Unix()),
		},
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR expiresAt < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(s.now().Unix())},
	}}
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
	raw, err := s.getItem(ctx, pk, memberSK(team))
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

// idempotency is what is known of an Idempotency-Key: its hash, the request it was
// first used with, which submissions are already applied, and the answer if complete.
type idempotency struct {
	hash, request string
	applied       map[int]bool
	answer        []Ranked
}

type idempotencyRecord struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	Request   string `dynamodbav:"request"`
	Answer    string `dynamodbav:"answer"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func newIdempotency(idempotencyKey string, subs []Submission) *idempotency {
	h := sha256.Sum256([]byte(idempotencyKey))
	req, _ := json.Marshal(subs)
	r := sha256.Sum256(req)
	return &idempotency{hash: hex.EncodeToString(h[:16]), request: hex.EncodeToString(r[:]), applied: map[int]bool{}}
}

// loadIdempotency reads what an earlier request with the same key left: the markers of
// the submissions it applied, and its answer if it finished. Expired records count as
// gone: DynamoDB's TTL deletes them only eventually.
func (s *Store) loadIdempotency(ctx context.Context, pk string, idem *idempotency) error {
	record := idempotencySK(idem.hash)
	now := s.now().Unix()
	return s.queryRange(ctx, pk, record, record+"#~", true, func(items []map[string]types.AttributeValue) error {
		for _, it := range items {
			var rec idempotencyRecord
			if err := attributevalue.UnmarshalMap(it, &rec); err != nil {
				return err
			}
			if rec.ExpiresAt < now {
				continue
			}
			if rec.SK != record {
				var i int
				fmt.Sscanf(strings.TrimPrefix(rec.SK, record+"#"), "%d", &i)
				idem.applied[i] = true
				continue
			}
			if rec.Request != idem.request {
				return ErrIdempotencyKeyReused
			}
			if err := json.Unmarshal([]byte(rec.Answer), &idem.answer); err != nil {
				return fmt.Errorf("stored answer: %w", err)
			}
		}
		return nil
	})
}

// saveIdempotency stores the answer; if a concurrent retry stored one first, that one
// is the answer.
func (s *Store) saveIdempotency(ctx context.Context, pk string, idem *idempotency, answer []Ranked) ([]Ranked, error) {
	body, _ := json.Marshal(answer)
	item, err := attributevalue.MarshalMap(idempotencyRecord{
		PK: pk, SK: idempotencySK(idem.hash), Type: "idempotency", Request: idem.request, Answer: string(body),
		ExpiresAt: s.now().Add(idempotencyTTL).Unix(),
	})
	if err != nil {
		return nil, err
	}
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		// An expired record that TTL has not deleted yet may be replaced.
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR expiresAt < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(s.now().Unix())},
		ReturnConsumedCapacity:    total,
	})
	if conditionFailed(err) {
		if err := s.loadIdempotency(ctx, pk, idem); err != nil {
			return nil, err
		}
		return idem.answer, nil
	}
	if err != nil {
		return nil, fmt.Errorf("save idempotent answer: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return answer, nil
}
