package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// Accounts, sessions and the clients a tenant manages from the dashboard. An account is
// a person who signed up: an email (unique across tenants, ignoring case), a password
// hash, and the tenant the sign-up created. The email is stored once, in the account
// item; everything else refers to the account by the digest of its email.

var (
	ErrAccountNotFound = fmt.Errorf("account %w", ErrNotFound)
	ErrSessionNotFound = fmt.Errorf("session %w", ErrNotFound)
	// ErrEmailTaken says an account with this email exists already.
	ErrEmailTaken = errors.New("email taken")
	// ErrTooManyClients says the tenant holds MaxClients clients already.
	ErrTooManyClients = errors.New("too many clients")
)

// MaxClients is how many clients, active and revoked, a tenant may hold.
const MaxClients = 100

// Account is a person who signed up.
type Account struct {
	Key          string // the digest of the email: what sessions refer to
	Email        string
	TenantID     string
	PasswordHash string
	CreatedAt    time.Time
}

type accountItem struct {
	PK           string `dynamodbav:"PK"`
	SK           string `dynamodbav:"SK"`
	Type         string `dynamodbav:"type"`
	Email        string `dynamodbav:"email"`
	TenantID     string `dynamodbav:"tenantId"`
	PasswordHash string `dynamodbav:"passwordHash"`
	CreatedAt    string `dynamodbav:"createdAt"`
}

// AccountKey is the digest an account is stored under: SHA-256 of the email, trimmed
// and lower-cased, so that one address cannot sign up twice in another case.
func AccountKey(email string) string {
	d := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(d[:])
}

// CreateAccount stores a new account and the tenant it owns, or answers ErrEmailTaken.
func (s *Store) CreateAccount(ctx context.Context, email, passwordHash string) (Account, error) {
	now := s.now()
	acct := Account{Key: AccountKey(email), Email: strings.TrimSpace(email), TenantID: newID(now), PasswordHash: passwordHash, CreatedAt: now}
	acctAV, err := attributevalue.MarshalMap(accountItem{
		PK: accountPK(acct.Key), SK: accountSK(), Type: "account", Email: acct.Email, TenantID: acct.TenantID,
		PasswordHash: passwordHash, CreatedAt: stamp(now),
	})
	if err != nil {
		return Account{}, fmt.Errorf("marshal account: %w", err)
	}
	tenant, err := s.newTenant(acct.TenantID, now)
	if err != nil {
		return Account{}, err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: acctAV, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		tenant,
	})
	if reasons := cancelReasons(err); len(reasons) > 0 && reasons[0] == reasonConditionFailed {
		return Account{}, ErrEmailTaken
	}
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	return acct, nil
}

// GetAccount returns the account stored under key (see AccountKey), or ErrAccountNotFound.
func (s *Store) GetAccount(ctx context.Context, key string) (Account, error) {
	raw, err := s.getItem(ctx, accountPK(key), accountSK())
	if err != nil {
		return Account{}, fmt.Errorf("get account: %w", err)
	}
	if raw == nil {
		return Account{}, ErrAccountNotFound
	}
	var it accountItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return Account{}, fmt.Errorf("unmarshal account: %w", err)
	}
	return Account{Key: key, Email: it.Email, TenantID: it.TenantID, PasswordHash: it.PasswordHash, CreatedAt: parseStamp(it.CreatedAt)}, nil
}

// Session is a signed-in browser. Only the digest of its id is stored, so the table
// holds nothing a reader could present as a cookie.
type Session struct {
	AccountKey string
	TenantID   string
	ExpiresAt  time.Time
}

type sessionItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	AccountKey string `dynamodbav:"accountKey"`
	TenantID   string `dynamodbav:"tenantId"`
	CreatedAt  string `dynamodbav:"createdAt"`
	ExpiresAt  int64  `dynamodbav:"expiresAt"` // the table's TTL attribute, epoch seconds
}

// CreateSession stores a session under the digest of its id, ending at expires.
func (s *Store) CreateSession(ctx context.Context, id string, acct Account, expires time.Time) error {
	item, err := attributevalue.MarshalMap(sessionItem{
		PK: sessionPK(sessionDigest(id)), SK: sessionSK(), Type: "session", AccountKey: acct.Key, TenantID: acct.TenantID,
		CreatedAt: stamp(s.now()), ExpiresAt: expires.Unix(),
	})
	if err != nil {
		return fmt.Errorf("marshal session: %w", err)
	}
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:    aws.String("attribute_not_exists(PK)"),
		ReturnConsumedCapacity: total,
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return nil
}

// GetSession returns the live session with this id, or ErrSessionNotFound if there is
// none or it has expired. TTL deletes expired items only eventually, so expiry is
// checked here; the read is strongly consistent, so a sign-out ends a session at once.
func (s *Store) GetSession(ctx context.Context, id string) (Session, error) {
	raw, err := s.getItem(ctx, sessionPK(sessionDigest(id)), sessionSK())
	if err != nil {
		return Session{}, fmt.Errorf("get session: %w", err)
	}
	if raw == nil {
		return Session{}, ErrSessionNotFound
	}
	var it sessionItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return Session{}, fmt.Errorf("unmarshal session: %w", err)
	}
	expires := time.Unix(it.ExpiresAt, 0)
	if !s.now().Before(expires) {
		return Session{}, ErrSessionNotFound
	}
	return Session{AccountKey: it.AccountKey, TenantID: it.TenantID, ExpiresAt: expires}, nil
}

// DeleteSession ends the session with this id; ending one that is gone is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(sessionPK(sessionDigest(id)), sessionSK()), ReturnConsumedCapacity: total,
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return nil
}

func sessionDigest(id string) string {
	d := sha256.Sum256([]byte(id))
	return hex.EncodeToString(d[:])
}

// SignInThrottle counts failed sign-ins of one account or one address. Its policy (how
// many are free, how long a lock lasts) is the caller's; the store only keeps the count.
type SignInThrottle struct {
	Failures    int
	LockedUntil time.Time
}

type throttleItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Failures    int    `dynamodbav:"failures"`
	LastFailure int64  `dynamodbav:"lastFailure"` // epoch milliseconds
	LockedUntil int64  `dynamodbav:"lockedUntil"` // epoch milliseconds
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
}

// throttleMemory is how long failed sign-ins are remembered after the last one.
const throttleMemory = 24 * time.Hour

// SignInThrottles reads the failure counts of each subject ("account:<key>",
// "address:<ip>"), in order; a subject without failures counts zero.
func (s *Store) SignInThrottles(ctx context.Context, subjects ...string) ([]SignInThrottle, error) {
	out := make([]SignInThrottle, len(subjects))
	for i, subject := range subjects {
		raw, err := s.getItem(ctx, throttlePK(subject), throttleSK())
		if err != nil {
			return nil, fmt.Errorf("get sign-in throttle: %w", err)
		}
		var it throttleItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal sign-in throttle: %w", err)
		}
		if s.now().Sub(time.UnixMilli(it.LastFailure)) < throttleMemory {
			out[i] = SignInThrottle{Failures: it.Failures, LockedUntil: time.UnixMilli(it.LockedUntil)}
		}
	}
	return out, nil
}

// RecordSignInFailure counts one more failed sign-in of subject and, once lock says the
// count calls for one, locks it until the time lock returns. ADD keeps the count exact
// however many fail at once.
func (s *Store) RecordSignInFailure(ctx context.Context, subject string, lock func(failures int) time.Time) (SignInThrottle, error) {
	now := s.now()
	values := map[string]types.AttributeValue{
		":zero": number(0), ":one": number(1), ":now": number(now.UnixMilli()),
		":exp": number(now.Add(throttleMemory).Unix()), ":forgotten": number(now.Add(-throttleMemory).UnixMilli()),
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(throttlePK(subject), throttleSK()),
		UpdateExpression:          aws.String("SET failures = if_not_exists(failures, :zero) + :one, lastFailure = :now, expiresAt = :exp"),
		ConditionExpression:       aws.String("attribute_not_exists(lastFailure) OR lastFailure > :forgotten"),
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
		ReturnConsumedCapacity:    total,
	})
	if conditionFailed(err) {
		// A count older than throttleMemory starts again: TTL deletes it only eventually.
		delete(values, ":zero")
		delete(values, ":forgotten")
		out, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: key(throttlePK(subject), throttleSK()),
			UpdateExpression:          aws.String("SET failures = :one, lastFailure = :now, expiresAt = :exp REMOVE lockedUntil"),
			ExpressionAttributeValues: values,
			ReturnValues:              types.ReturnValueAllNew,
			ReturnConsumedCapacity:    total,
		})
	}
	if err != nil {
		return SignInThrottle{}, fmt.Errorf("record sign-in failure: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	var it throttleItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return SignInThrottle{}, fmt.Errorf("unmarshal sign-in throttle: %w", err)
	}
	t := SignInThrottle{Failures: it.Failures, LockedUntil: time.UnixMilli(it.LockedUntil)}
	if until := lock(it.Failures); until.After(t.LockedUntil) {
		// Only ever lengthens a lock: of two failures at once, the later count wins.
		out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: key(throttlePK(subject), throttleSK()),
			UpdateExpression:          aws.String("SET lockedUntil = :until"),
			ConditionExpression:       aws.String("attribute_not_exists(lockedUntil) OR lockedUntil < :until"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":until": number(until.UnixMilli())},
			ReturnConsumedCapacity:    total,
		})
		if err != nil && !conditionFailed(err) {
			return SignInThrottle{}, fmt.Errorf("lock sign-ins: %w", err)
		}
		if err == nil {
			reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
		}
		t.LockedUntil = until
	}
	return t, nil
}

// ResetSignInFailures forgets subject's failed sign-ins (after a successful one).
func (s *Store) ResetSignInFailures(ctx context.Context, subject string) error {
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(throttlePK(subject), throttleSK()), ReturnConsumedCapacity: total,
	})
	if err != nil {
		return fmt.Errorf("reset sign-in failures: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return nil
}

// ClientInfo is what the dashboard shows of a client: never a secret or its digest.
type ClientInfo struct {
	ClientID   string
	Label      string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if it never got a token
	RevokedAt  time.Time // zero while active
}

// tenantClientItem lists a client in its tenant's partition, for the dashboard: the
// CLIENT# item is keyed by client id alone, for the token endpoint.
type tenantClientItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	ClientID   string `dynamodbav:"clientId"`
	Label      string `dynamodbav:"label"`
	CreatedAt  string `dynamodbav:"createdAt"`
	LastUsedAt string `dynamodbav:"lastUsedAt,omitempty"`
	RevokedAt  string `dynamodbav:"revokedAt,omitempty"`
}

// CreateClient gives the tenant one more client holding creds, labelled for people.
// Only the credentials' digests are stored.
func (s *Store) CreateClient(ctx context.Context, tenant string, creds auth.Credentials, label string) (ClientInfo, error) {
	existing, err := s.ListClients(ctx, tenant)
	if err != nil {
		return ClientInfo{}, err
	}
	if len(existing) >= MaxClients {
		return ClientInfo{}, ErrTooManyClients
	}
	now := s.now()
	items, err := s.clientItems(tenant, creds, label, now)
	if err != nil {
		return ClientInfo{}, err
	}
	if err := s.transact(ctx, items); err != nil {
		if cancelReasons(err) != nil {
			return ClientInfo{}, fmt.Errorf("create client: %w", ErrConflict)
		}
		return ClientInfo{}, fmt.Errorf("create client: %w", err)
	}
	return ClientInfo{ClientID: creds.ClientID, Label: label, CreatedAt: now}, nil
}

// clientItems are the two puts that make a client: the token endpoint's, by client id,
// and the tenant's listing of it.
func (s *Store) clientItems(tenant string, creds auth.Credentials, label string, now time.Time) ([]types.TransactWriteItem, error) {
	clientAV, err := attributevalue.MarshalMap(clientItem{
		PK: clientPK(creds.ClientID), SK: clientSK(), Type: "client", ClientID: creds.ClientID, TenantID: tenant,
		APIKeyDigest: auth.Digest(creds.APIKey), SecretDigest: auth.Digest(creds.ClientSecret), CreatedAt: stamp(now),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal client: %w", err)
	}
	listedAV, err := attributevalue.MarshalMap(tenantClientItem{
		PK: tenantPK(tenant), SK: tenantClientSK(creds.ClientID), Type: "tenantClient", ClientID: creds.ClientID,
		Label: label, CreatedAt: stamp(now),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal client listing: %w", err)
	}
	notExists := aws.String("attribute_not_exists(PK)")
	return []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: clientAV, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: &s.table, Item: listedAV, ConditionExpression: notExists}},
	}, nil
}

// ListClients returns the tenant's clients, newest first (at most MaxClients).
func (s *Store) ListClients(ctx context.Context, tenant string) ([]ClientInfo, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: tenantPK(tenant)}, ":prefix": &types.AttributeValueMemberS{Value: tenantClientSK("")},
		},
		ConsistentRead:         aws.Bool(true),
		Limit:                  aws.Int32(MaxClients + 1),
		ReturnConsumedCapacity: total,
	})
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	reqlog.AddRead(ctx, capacity(out.ConsumedCapacity)...)
	var items []tenantClientItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("unmarshal clients: %w", err)
	}
	clients := make([]ClientInfo, len(items))
	for i, it := range items {
		clients[i] = ClientInfo{
			ClientID: it.ClientID, Label: it.Label, CreatedAt: parseStamp(it.CreatedAt),
			LastUsedAt: parseStamp(it.LastUsedAt), RevokedAt: parseStamp(it.RevokedAt),
		}
	}
	slices.SortFunc(clients, func(a, b ClientInfo) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ClientID, b.ClientID)
	})
	return clients, nil
}

// RevokeTenantClient stops one of the tenant's clients from getting tokens, or answers
// ErrClientNotFound if the tenant has no such client (another tenant's included).
// Revoking twice keeps the first time.
func (s *Store) RevokeTenantClient(ctx context.Context, tenant, clientID string) error {
	now := &types.AttributeValueMemberS{Value: stamp(s.now())}
	err := s.transact(ctx, []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: key(tenantPK(tenant), tenantClientSK(clientID)),
			UpdateExpression:          aws.String("SET revokedAt = if_not_exists(revokedAt, :now)"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": now},
		}},
		{Update: &types.Update{
			TableName: &s.table, Key: key(clientPK(clientID), clientSK()),
			UpdateExpression:          aws.String("SET revokedAt = if_not_exists(revokedAt, :now)"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND tenantId = :tenant"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": now, ":tenant": &types.AttributeValueMemberS{Value: tenant}},
		}},
	})
	if slices.Contains(cancelReasons(err), reasonConditionFailed) {
		return ErrClientNotFound
	}
	if err != nil {
		return fmt.Errorf("revoke client: %w", err)
	}
	return nil
}

// clientUseInterval is how stale a client's "last used" may get: the token endpoint
// writes it at most this often per client.
const clientUseInterval = 5 * time.Minute

// TouchClient records that the client got a token now, for the dashboard's "last used".
// A client made by cmd/credentials before listings existed has no listing to touch.
func (s *Store) TouchClient(ctx context.Context, tenant, clientID string) error {
	now := s.now()
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(tenantPK(tenant), tenantClientSK(clientID)),
		UpdateExpression:    aws.String("SET lastUsedAt = :now"),
		ConditionExpression: aws.String("attribute_exists(PK) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :stale)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberS{Value: stamp(now)}, ":stale": &types.AttributeValueMemberS{Value: stamp(now.Add(-clientUseInterval))},
		},
		ReturnConsumedCapacity: total,
	})
	if conditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("touch client: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return nil
}
