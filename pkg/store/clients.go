package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/reqlog"
)

// Client is an API client of a tenant, as the token endpoint needs it: digests only.
type Client struct {
	ClientID     string
	TenantID     string
	APIKeyDigest []byte
	SecretDigest []byte
	Revoked      bool
}

type tenantItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	TenantID  string `dynamodbav:"tenantId"`
	CreatedAt string `dynamodbav:"createdAt"`
}

type clientItem struct {
	PK           string `dynamodbav:"PK"`
	SK           string `dynamodbav:"SK"`
	Type         string `dynamodbav:"type"`
	ClientID     string `dynamodbav:"clientId"`
	TenantID     string `dynamodbav:"tenantId"`
	APIKeyDigest []byte `dynamodbav:"apiKeyDigest"`
	SecretDigest []byte `dynamodbav:"secretDigest"`
	CreatedAt    string `dynamodbav:"createdAt"`
	RevokedAt    string `dynamodbav:"revokedAt,omitempty"`
}

// newTenant is the put of a new tenant's item, on condition that it does not exist.
func (s *Store) newTenant(tenant string, now time.Time) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(tenantItem{
		PK: tenantPK(tenant), SK: tenantSK(), Type: "tenant", TenantID: tenant, CreatedAt: stamp(now),
	})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal tenant: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

// OperatorClientLabel labels the clients that cmd/credentials makes.
const OperatorClientLabel = "made with cmd/credentials"

// CreateTenant stores a new tenant with one client holding creds, and returns the
// tenant id. Only the credentials' digests are stored.
func (s *Store) CreateTenant(ctx context.Context, creds auth.Credentials) (string, error) {
	now := s.now()
	tenant := newID(now)
	put, err := s.newTenant(tenant, now)
	if err != nil {
		return "", err
	}
	clients, err := s.clientItems(tenant, creds, OperatorClientLabel, now)
	if err != nil {
		return "", err
	}
	err = s.transact(ctx, append([]types.TransactWriteItem{put}, clients...))
	if cancelReasons(err) != nil {
		return "", fmt.Errorf("create tenant: %w", ErrConflict)
	}
	if err != nil {
		return "", fmt.Errorf("create tenant: %w", err)
	}
	return tenant, nil
}

// GetClient returns the client with the given id, or ErrClientNotFound.
func (s *Store) GetClient(ctx context.Context, clientID string) (Client, error) {
	raw, err := s.getItem(ctx, clientPK(clientID), clientSK())
	if err != nil {
		return Client{}, fmt.Errorf("get client: %w", err)
	}
	if raw == nil {
		return Client{}, ErrClientNotFound
	}
	var it clientItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return Client{}, fmt.Errorf("unmarshal client: %w", err)
	}
	return Client{
		ClientID: it.ClientID, TenantID: it.TenantID,
		APIKeyDigest: it.APIKeyDigest, SecretDigest: it.SecretDigest,
		Revoked: it.RevokedAt != "",
	}, nil
}

// RevokeClient stops a client from getting new tokens, whichever its tenant (the
// operator's tool). Tokens already issued stay valid until they expire (at most
// auth.TokenTTL).
func (s *Store) RevokeClient(ctx context.Context, clientID string) error {
	c, err := s.GetClient(ctx, clientID)
	if err != nil {
		return err
	}
	err = s.RevokeTenantClient(ctx, c.TenantID, clientID)
	if !errors.Is(err, ErrClientNotFound) {
		return err
	}
	// A client made before clients were listed in their tenant has only its own item.
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(clientPK(clientID), clientSK()),
		UpdateExpression:          aws.String("SET revokedAt = if_not_exists(revokedAt, :now)"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberS{Value: stamp(s.now())}},
		ReturnConsumedCapacity:    total,
	})
	if conditionFailed(err) {
		return ErrClientNotFound
	}
	if err != nil {
		return fmt.Errorf("revoke client: %w", err)
	}
	reqlog.AddWrite(ctx, capacity(out.ConsumedCapacity)...)
	return nil
}
