package store

// The board protocol: how every write to a board's ranking state stays exact on
// DynamoDB's documented guarantees alone. docs/ranking.md has the table of steps and
// the guarantee each relies on; in short:
//
//   - A board's HEAD item holds its version and the root of its rank tree. Every write
//     to the board's members, entries or tree is one TransactWriteItems that updates HEAD
//     on condition that its version is the one read (and the board is not being deleted
//     or held by a batch). Transactions are serializable, so board writes happen one
//     after another, each on exactly the state it read.
//   - A commit reads HEAD with a strongly consistent GetItem (serializable), then the
//     tree nodes it needs one GetItem each, checking each node's stamp against its
//     parent's record (package ranktree): a node half-way through another commit fails
//     the check instead of mixing two versions. Members are read with GetItem and their
//     updates conditioned on their ver, so a stale read fails rather than applies.
//   - Reads take the same path: HEAD, then stamped nodes, so every rank, page and
//     around-window is computed on one version of the tree.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/leaderboardapi/leaderboard/pkg/ranktree"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// Errors a client can act on by trying again later. Nothing was written, except where
// ErrOutcomeUnknown says it may have been.
var (
	// ErrBusy: the board changed under the write every time it was tried, for longer
	// than the retry budget.
	ErrBusy = errors.New("the leaderboard is busy")
	// ErrThrottled: DynamoDB refused the work for capacity.
	ErrThrottled = errors.New("throttled by DynamoDB")
	// ErrOutcomeUnknown: DynamoDB did not say whether a write was applied.
	ErrOutcomeUnknown = errors.New("the write may or may not have been applied")
)

// commitBudget bounds how long one write keeps trying against concurrent writers; it
// is well inside the functions' timeout, so a client hears 503 rather than a timeout.
const commitBudget = 3 * time.Second

// headItem is a board's version, and the root of its rank tree.
type headItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	Ver      int64  `dynamodbav:"ver"`
	Root     []byte `dynamodbav:"root"`
	Next     int64  `dynamodbav:"next"`
	Tx       string `dynamodbav:"tx,omitempty"`
	Deleting bool   `dynamodbav:"deleting,omitempty"`
	// Lock is set while a batch too big for one transaction is applied in several (see
	// LOG in scores.go): the time in Unix ms after which anyone may finish it.
	Lock int64 `dynamodbav:"lock,omitempty"`
}

func newHead(pk string) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(headItem{
		PK: pk, SK: headSK(), Type: "head", Root: ranktree.Encode(ranktree.EmptyRoot().Node), Next: 1,
	})
}

func (h headItem) root() (ranktree.Root, error) {
	n, err := ranktree.Decode(h.Root)
	if err != nil {
		return ranktree.Root{}, fmt.Errorf("head of %s: %w", h.PK, err)
	}
	return ranktree.Root{Node: n, Next: ranktree.ID(h.Next)}, nil
}

// readHead reads a board's HEAD, strongly consistent. A missing or deleting HEAD is a
// missing board.
func (s *Store) readHead(ctx context.Context, pk string) (headItem, error) {
	raw, err := s.getItem(ctx, pk, headSK())
	if err != nil {
		return headItem{}, fmt.Errorf("read head: %w", err)
	}
	if raw == nil {
		return headItem{}, ErrLeaderboardNotFound
	}
	var h headItem
	if err := attributevalue.UnmarshalMap(raw, &h); err != nil {
		return headItem{}, fmt.Errorf("unmarshal head: %w", err)
	}
	if h.Deleting {
		return headItem{}, ErrLeaderboardNotFound
	}
	return h, nil
}

// nodes loads stored tree nodes for package ranktree. A node's ID and stamp name one
// content for ever, so loaded nodes are cached across requests (and across boards:
// the key includes the partition).
type nodes struct {
	s  *Store
	pk string
}

func (l nodes) Load(ctx context.Context, id ranktree.ID, stamp uint64) (ranktree.Node, error) {
	ck := nodeCacheKey{pk: l.pk, id: id, stamp: stamp}
	if n, ok := l.s.cache.get(ck); ok {
		return n, nil
	}
	raw, err := l.s.getItem(ctx, nodePK(l.pk, uint64(id)), nodeSK(uint64(id)))
	if err != nil {
		return ranktree.Node{}, fmt.Errorf("read node %d: %w", id, err)
	}
	if raw == nil {
		return ranktree.Node{}, fmt.Errorf("node %d is gone: %w", id, ranktree.ErrStale)
	}
	b, ok := raw["node"].(*types.AttributeValueMemberB)
	if !ok {
		return ranktree.Node{}, fmt.Errorf("node %d has no body", id)
	}
	n, err := ranktree.Decode(b.Value)
	if err != nil {
		return ranktree.Node{}, fmt.Errorf("node %d: %w", id, err)
	}
	if n.Stamp != stamp {
		return ranktree.Node{}, fmt.Errorf("node %d has stamp %d, want %d: %w", id, n.Stamp, stamp, ranktree.ErrStale)
	}
	l.s.cache.put(ck, n)
	return n, nil
}

type nodeCacheKey struct {
	pk    string
	id    ranktree.ID
	stamp uint64
}

// nodeCache keeps recently read nodes, dropping everything when full: simple, and
// a Lambda instance serves few boards.
type nodeCache struct {
	mu    sync.Mutex
	nodes map[nodeCacheKey]ranktree.Node
}

const nodeCacheSize = 4096

func (c *nodeCache) get(k nodeCacheKey) (ranktree.Node, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[k]
	return n, ok
}

func (c *nodeCache) put(k nodeCacheKey, n ranktree.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes == nil || len(c.nodes) >= nodeCacheSize {
		c.nodes = map[nodeCacheKey]ranktree.Node{}
	}
	c.nodes[k] = n
}

// view is one version of a board, read from its HEAD.
type view struct {
	b    board
	head headItem
	tree *ranktree.Tree
}

func (s *Store) openView(ctx context.Context, b board) (*view, error) {
	h, err := s.readHead(ctx, b.pk)
	if err != nil {
		return nil, err
	}
	if s.hooks.afterHead != nil {
		s.hooks.afterHead(ctx, b.pk)
	}
	v := &view{b: b, head: h}
	return v, s.resetTree(v)
}

// resetTree opens the view's tree afresh at its HEAD, dropping any change made to it.
func (s *Store) resetTree(v *view) error {
	r, err := v.head.root()
	if err != nil {
		return err
	}
	v.tree = ranktree.Open(r, uint64(v.head.Ver)+1, nodes{s: s, pk: v.b.pk}, s.shape)
	return nil
}

// readView runs read on one version of the board, again on a fresh one whenever a
// commit came in between (ErrStale), within the retry budget.
func (s *Store) readView(ctx context.Context, b board, read func(*view) error) error {
	deadline := time.Now().Add(commitBudget)
	for attempt := 0; ; attempt++ {
		v, err := s.openView(ctx, b)
		if err == nil {
			err = read(v)
		}
		if !retryable(err) {
			return err
		}
		if time.Now().After(deadline) {
			return giveUp(err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// commit is one attempt to write a board: the version read, and what to write.
type commit struct {
	*view
	items []types.TransactWriteItem
	// idem is the index in items of the idempotency record's write, or -1.
	idem int
	// lockUntil sets HEAD's lock (a batch that continues in further commits); 0 clears it.
	lockUntil int64
}

func (c *commit) add(items ...types.TransactWriteItem) { c.items = append(c.items, items...) }

// errLocked says a live batch holds the board: wait and try again.
var errLocked = errors.New("a batch holds the leaderboard")

// errIdempotencyRace says the idempotency record changed under the commit: re-read it.
var errIdempotencyRace = errors.New("idempotency record changed")

// commitBoard applies build to the board as of its current version and writes the
// result in one transaction with HEAD's version as its condition, trying again from a
// fresh read when a concurrent commit got in first, within commitBudget. build adds
// the items to write besides HEAD and the tree; if it adds none and changes nothing in
// the tree, nothing is written. It returns the commit as written.
func (s *Store) commitBoard(ctx context.Context, b board, build func(ctx context.Context, c *commit) error) (*commit, error) {
	return s.commitBoardAs(ctx, b, build, true)
}

// commitBoardAs is commitBoard; with finish false, a commit that finds a batch's lock
// expired waits for someone else to finish the batch instead of finishing it itself:
// for the functions whose IAM policy grants only what their own writes need.
func (s *Store) commitBoardAs(ctx context.Context, b board, build func(ctx context.Context, c *commit) error, finish bool) (*commit, error) {
	deadline := time.Now().Add(commitBudget)
	for attempt := 0; ; attempt++ {
		c, err := s.tryCommit(ctx, b, build, finish)
		if err == nil {
			return c, nil
		}
		if !retryable(err) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, giveUp(err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

func (s *Store) tryCommit(ctx context.Context, b board, build func(ctx context.Context, c *commit) error, finish bool) (*commit, error) {
	v, err := s.openView(ctx, b)
	if err != nil {
		return nil, err
	}
	if v.head.Lock != 0 {
		if !finish || time.Now().UnixMilli() < v.head.Lock {
			return nil, errLocked
		}
		// The batch's writer stopped half-way: finish its batch first.
		if err := s.settle(ctx, b); err != nil {
			return nil, err
		}
		return nil, errLocked // and then begin again on the new version
	}
	c := &commit{view: v, idem: -1}
	if err := build(ctx, c); err != nil {
		return nil, err
	}
	if s.hooks.beforeCommit != nil {
		s.hooks.beforeCommit(ctx, b.pk)
	}
	if err := s.writeCommit(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// writeCommit sends a commit's items, its tree's changes and HEAD in one transaction.
func (s *Store) writeCommit(ctx context.Context, c *commit) error {
	changes := c.tree.Changes()
	if !changes.Modified && len(c.items) == 0 && c.lockUntil == c.head.Lock {
		return nil
	}
	ver := c.head.Ver + 1
	token := newToken()
	update := "SET ver = :next, #root = :root, #next = :nextID, tx = :tx"
	values := map[string]types.AttributeValue{
		":ver": number(c.head.Ver), ":next": number(ver), ":root": &types.AttributeValueMemberB{Value: ranktree.Encode(changes.Root.Node)},
		":nextID": number(int64(changes.Root.Next)), ":tx": &types.AttributeValueMemberS{Value: token},
	}
	if c.lockUntil != 0 {
		update += ", #lock = :lock"
		values[":lock"] = number(c.lockUntil)
	} else {
		update += " REMOVE #lock"
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: &s.table, Key: key(c.b.pk, headSK()),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("ver = :ver AND attribute_not_exists(deleting)"),
		ExpressionAttributeNames:  map[string]string{"#root": "root", "#next": "next", "#lock": "lock"},
		ExpressionAttributeValues: values,
	}}}
	for id, n := range changes.Put {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: nodeItem(c.b.pk, id, n)}})
	}
	for _, id := range changes.Delete {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(nodePK(c.b.pk, uint64(id)), nodeSK(uint64(id)))}})
	}
	if ver%checkEvery == 1 && len(items)+len(c.items) < maxTransactItems {
		items = append(items, s.sampleForCheck(c.b))
	}
	offset := len(items)
	items = append(items, c.items...)
	if len(items) > maxTransactItems {
		return fmt.Errorf("commit of %d items: %w", len(items), errTooBig)
	}
	err := s.writeTransaction(ctx, items, token)
	if errors.Is(err, ErrOutcomeUnknown) {
		// If HEAD carries this commit's token, it was applied.
		if h, rerr := s.readHead(ctx, c.b.pk); rerr == nil && h.Tx == token {
			err = nil
		}
	}
	if reasons := cancelReasons(err); reasons != nil && c.idem >= 0 && reasons[offset+c.idem] == reasonConditionFailed {
		return errIdempotencyRace
	}
	if err == nil {
		c.head.Ver, c.head.Tx, c.head.Lock = ver, token, c.lockUntil
		// What this commit wrote is the nodes' content at their new stamps: the next
		// commit of this process need not read them back.
		for id, n := range changes.Put {
			s.cache.put(nodeCacheKey{pk: c.b.pk, id: id, stamp: n.Stamp}, n)
		}
	}
	return err
}

// maxTransactItems is DynamoDB's limit on the items of one transaction.
const maxTransactItems = 100

var errTooBig = errors.New("too many items for one transaction")

func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeTransaction sends one transaction with ClientRequestToken token. DynamoDB applies
// a token at most once within 10 minutes, so when it does not answer (a timeout, a 500,
// throttling past the SDK's retries) the very same request is sent again: if the first
// was applied, the repeat succeeds without applying anything. A cancellation is final:
// nothing was applied. If no answer comes after a few repeats the outcome is unknown.
func (s *Store) writeTransaction(ctx context.Context, items []types.TransactWriteItem, token string) error {
	for try := 0; ; try++ {
		out, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems:          items,
			ClientRequestToken:     aws.String(token),
			ReturnConsumedCapacity: total,
		})
		if err == nil {
			reqlog.AddWrite(ctx, out.ConsumedCapacity...)
			return nil
		}
		if cancelReasons(err) != nil || !transient(err) {
			return err
		}
		if try == 4 || ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		if err := backoff(ctx, try+3); err != nil {
			return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
	}
}

// transient reports whether err is DynamoDB failing to do the work this time (capacity,
// an internal error, a transaction still in progress, a timeout), so that the same
// request may succeed later.
func transient(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable", "TransactionInProgressException", "TransactionConflictException":
			return true
		}
		return false
	}
	// An operation that failed without an answer from DynamoDB (a connection reset, a
	// timeout of one attempt) may succeed when tried again.
	var op *smithy.OperationError
	return errors.As(err, &op) && notCancelled(err)
}

// Throttled reports whether err is DynamoDB refusing work for capacity, after the SDK's
// own retries: the client may try again shortly.
func Throttled(err error) bool { return throttled(err) }

// throttled reports whether err is DynamoDB refusing work for capacity.
func throttled(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded":
			return true
		}
	}
	for _, r := range cancelReasons(err) {
		if r == "ThrottlingError" {
			return true
		}
	}
	return false
}

// retryable reports whether an attempt at a board read or commit may succeed if begun
// again from a fresh read.
func retryable(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ranktree.ErrStale), errors.Is(err, errLocked):
		return true
	case errors.Is(err, ErrOutcomeUnknown):
		return false
	case cancelReasons(err) != nil:
		// Cancelled: nothing was applied. A failed condition means another commit got in
		// first (HEAD's version, or a member's ver, changed); the rest are conflicts and
		// throttling. Anything else (a validation error) would fail again.
		for _, r := range cancelReasons(err) {
			switch r {
			case "", "None", reasonConditionFailed, "TransactionConflict", "ThrottlingError":
			default:
				return false
			}
		}
		return true
	default:
		return transient(err) && notCancelled(err)
	}
}

func notCancelled(err error) bool {
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// giveUp turns the last retryable error into what the client hears.
func giveUp(err error) error {
	if throttled(err) {
		return fmt.Errorf("%w: %w", ErrThrottled, err)
	}
	return fmt.Errorf("%w: %w", ErrBusy, err)
}
