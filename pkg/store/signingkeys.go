package store

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// Signing keys. The token function publishes the public half of its key in the
// partition PK=SIGNINGKEY, where the functions that verify tokens find it by kid. The
// partition keeps these invariants (signingkeys_test.go checks them):
//
//   - A key's item is created once, by a conditional put, and never deleted; its
//     retiresAt, once set, is never removed and only ever moves earlier. So nothing
//     (least of all an old token function instance publishing its old key again) can
//     bring a retired key back.
//   - The item SK=CURRENT names the newest key, and every other key has a retiresAt:
//     publishing a new key retires the others auth.RetireAfter later, so that the
//     tokens they signed, even by a warm instance that has not yet seen the new key,
//     live out their hour and no longer.
//   - Every write to the partition is one transaction that also moves CURRENT's
//     version on from the version its writer read. So each write is made on the state
//     the one before it left, and two cold starts with two new keys cannot both become
//     current.
//
// Keys published before CURRENT existed have no retiresAt; the first new publication
// retires them as it retires any other.

// currentKeySK is the sort key of the CURRENT item in signingKeyPK().
// (Beside signingKeySK in the key shapes of keys.go.)
func currentKeySK() string { return "CURRENT" }

type signingKeyItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	PublicKey []byte `dynamodbav:"publicKey"`
	CreatedAt string `dynamodbav:"createdAt"`
	RetiresAt string `dynamodbav:"retiresAt,omitempty"`
}

type currentKeyItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	KeyID     string `dynamodbav:"kid"`
	Version   int64  `dynamodbav:"version"`
	UpdatedAt string `dynamodbav:"updatedAt"`
}

// SigningKeyInfo describes a published signing key, for the operator.
type SigningKeyInfo struct {
	ID        string
	CreatedAt time.Time
	RetiresAt time.Time // zero while nothing has retired it
	Current   bool
}

// ErrNoCurrentKey says no signing key has been published since CURRENT came to be: the
// token function has not yet started with this version of the store.
var ErrNoCurrentKey = errors.New("no current signing key: the token function records it when it starts")

// publishAttempts bounds how often a write to the partition is tried again after another
// write changed it in between.
const publishAttempts = 5

// PublishSigningKey publishes pub as the newest signing key, if it is not published
// yet, and retires every other key auth.RetireAfter from now. Every cold start of the token
// function calls it. A key that is already retired is never published again: that
// answers an error wrapping auth.ErrRetiredKey, and the caller must not sign with it.
func (s *Store) PublishSigningKey(ctx context.Context, pub ed25519.PublicKey) error {
	kid := auth.KeyID(pub)
	for range publishAttempts {
		keys, current, err := s.readSigningKeys(ctx)
		if err != nil {
			return fmt.Errorf("publish signing key %s: %w", kid, err)
		}
		now := s.now()
		var items []types.TransactWriteItem
		if mine, ok := keys[kid]; ok {
			switch {
			case mine.RetiresAt != "":
				return fmt.Errorf("publish signing key %s: it retires at %s (a newer key was published, or the operator retired it) and must not sign again: %w",
					kid, mine.RetiresAt, auth.ErrRetiredKey)
			case current != nil && current.KeyID == kid:
				return nil
			case !newestUnretired(keys, kid):
				// Published before CURRENT existed, and an older one: the newest takes over.
				return nil
			}
		} else {
			item, err := attributevalue.MarshalMap(signingKeyItem{
				PK: signingKeyPK(), SK: signingKeySK(kid), Type: "signingKey",
				PublicKey: pub, CreatedAt: stamp(now),
			})
			if err != nil {
				return fmt.Errorf("marshal signing key: %w", err)
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}})
		}
		retire, err := s.keyWrite(keys, current, kid, now, now.Add(auth.RetireAfter))
		if err != nil {
			return fmt.Errorf("publish signing key %s: %w", kid, err)
		}
		err = s.transact(ctx, append(items, retire...))
		if lostRace(err) {
			continue // another cold start or the operator wrote in between: look again
		}
		if err != nil {
			return fmt.Errorf("publish signing key %s: %w", kid, err)
		}
		return nil
	}
	return fmt.Errorf("publish signing key %s: %w", kid, ErrConflict)
}

// RetireOldSigningKeys retires at once every published key but the current one, for
// the operator after a key has leaked (and a new one has been published). Verifiers
// refuse their tokens within auth.KeyCacheTTL. It answers the keys as they stand after.
func (s *Store) RetireOldSigningKeys(ctx context.Context) ([]SigningKeyInfo, error) {
	for range publishAttempts {
		keys, current, err := s.readSigningKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("retire signing keys: %w", err)
		}
		if current == nil {
			return nil, ErrNoCurrentKey
		}
		now := s.now()
		items, err := s.keyWrite(keys, current, current.KeyID, now, now)
		if err != nil {
			return nil, fmt.Errorf("retire signing keys: %w", err)
		}
		if len(items) == 1 { // nothing to retire: no need to write CURRENT
			return signingKeyInfos(keys, current), nil
		}
		err = s.transact(ctx, items)
		if lostRace(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("retire signing keys: %w", err)
		}
		keys, current, err = s.readSigningKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("retire signing keys: %w", err)
		}
		return signingKeyInfos(keys, current), nil
	}
	return nil, fmt.Errorf("retire signing keys: %w", ErrConflict)
}

// SigningKeys lists the published keys, newest first.
func (s *Store) SigningKeys(ctx context.Context) ([]SigningKeyInfo, error) {
	keys, current, err := s.readSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return signingKeyInfos(keys, current), nil
}

// PublishedKey implements auth.RetiringKeySource.
func (s *Store) PublishedKey(ctx context.Context, keyID string) (auth.PublishedKey, error) {
	raw, err := s.getItem(ctx, signingKeyPK(), signingKeySK(keyID))
	if err != nil {
		return auth.PublishedKey{}, fmt.Errorf("get signing key: %w", err)
	}
	if raw == nil {
		return auth.PublishedKey{}, auth.ErrUnknownKey
	}
	var it signingKeyItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return auth.PublishedKey{}, fmt.Errorf("unmarshal signing key: %w", err)
	}
	if len(it.PublicKey) != ed25519.PublicKeySize {
		return auth.PublishedKey{}, fmt.Errorf("signing key %s: %w", keyID, auth.ErrUnknownKey)
	}
	k := auth.PublishedKey{Public: ed25519.PublicKey(it.PublicKey)}
	if it.RetiresAt != "" {
		k.RetiresAt = parseStamp(it.RetiresAt)
	}
	return k, nil
}

// PublicKey implements auth.KeySource, for a caller that does not ask for retirements:
// a key retired by the store's clock is unknown to it.
func (s *Store) PublicKey(ctx context.Context, keyID string) (ed25519.PublicKey, error) {
	k, err := s.PublishedKey(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if k.RetiredAt(s.now()) {
		return nil, fmt.Errorf("signing key %s: %w: %w", keyID, auth.ErrRetiredKey, auth.ErrUnknownKey)
	}
	return k.Public, nil
}

var _ auth.RetiringKeySource = (*Store)(nil)

// readSigningKeys reads the whole partition: the keys by id, and CURRENT (nil if none).
func (s *Store) readSigningKeys(ctx context.Context) (map[string]signingKeyItem, *currentKeyItem, error) {
	keys := map[string]signingKeyItem{}
	var current *currentKeyItem
	pages := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: signingKeyPK()}},
		ConsistentRead:            aws.Bool(true),
		ReturnConsumedCapacity:    total,
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, nil, err
		}
		reqlog.AddRead(ctx, capacity(page.ConsumedCapacity)...)
		for _, raw := range page.Items {
			sk, _ := raw["SK"].(*types.AttributeValueMemberS)
			switch {
			case sk == nil:
			case sk.Value == currentKeySK():
				current = &currentKeyItem{}
				if err := attributevalue.UnmarshalMap(raw, current); err != nil {
					return nil, nil, fmt.Errorf("unmarshal current signing key: %w", err)
				}
			case strings.HasPrefix(sk.Value, signingKeySK("")):
				var it signingKeyItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return nil, nil, fmt.Errorf("unmarshal signing key: %w", err)
				}
				keys[strings.TrimPrefix(sk.Value, signingKeySK(""))] = it
			}
		}
	}
	return keys, current, nil
}

// keyWrite makes the transaction items that make kid the current key as of now and
// retire every other key at retireAt (or leave it at an earlier retirement it has). The
// first item writes CURRENT on condition that its version is still the one read.
func (s *Store) keyWrite(keys map[string]signingKeyItem, current *currentKeyItem, kid string, now, retireAt time.Time) ([]types.TransactWriteItem, error) {
	next := currentKeyItem{PK: signingKeyPK(), SK: currentKeySK(), Type: "currentSigningKey", KeyID: kid, Version: 1, UpdatedAt: stamp(now)}
	head := &types.Put{TableName: &s.table, ConditionExpression: aws.String("attribute_not_exists(PK)")}
	if current != nil {
		next.Version = current.Version + 1
		head.ConditionExpression = aws.String("version = :seen")
		head.ExpressionAttributeValues = map[string]types.AttributeValue{":seen": number(current.Version)}
	}
	item, err := attributevalue.MarshalMap(next)
	if err != nil {
		return nil, fmt.Errorf("marshal current signing key: %w", err)
	}
	head.Item = item
	items := []types.TransactWriteItem{{Put: head}}
	at := stamp(retireAt)
	for other, it := range keys {
		if other == kid || (it.RetiresAt != "" && it.RetiresAt <= at) { // stamps sort as times
			continue
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:        &s.table,
			Key:              key(signingKeyPK(), signingKeySK(other)),
			UpdateExpression: aws.String("SET retiresAt = :at"),
			// CURRENT's version already says nothing changed since the read; the table
			// checks the invariant itself all the same.
			ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(retiresAt) OR retiresAt > :at)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":at": &types.AttributeValueMemberS{Value: at}},
		}})
	}
	if len(items) > 100 {
		return nil, fmt.Errorf("%d signing keys to retire at once, more than one transaction takes", len(items)-1)
	}
	return items, nil
}

// lostRace reports whether a write to the partition failed because another changed it
// after it was read.
func lostRace(err error) bool {
	return slices.Contains(cancelReasons(err), reasonConditionFailed)
}

// newestUnretired reports whether kid is the most recently created of the keys that
// nothing has retired.
func newestUnretired(keys map[string]signingKeyItem, kid string) bool {
	mine := keys[kid]
	for other, it := range keys {
		if other != kid && it.RetiresAt == "" && (it.CreatedAt > mine.CreatedAt || it.CreatedAt == mine.CreatedAt && other > kid) {
			return false
		}
	}
	return true
}

func signingKeyInfos(keys map[string]signingKeyItem, current *currentKeyItem) []SigningKeyInfo {
	out := make([]SigningKeyInfo, 0, len(keys))
	for kid, it := range keys {
		info := SigningKeyInfo{ID: kid, CreatedAt: parseStamp(it.CreatedAt), Current: current != nil && current.KeyID == kid}
		if it.RetiresAt != "" {
			info.RetiresAt = parseStamp(it.RetiresAt)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out
}
