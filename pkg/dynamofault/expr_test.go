package dynamofault

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// The layer evaluates expressions on items DynamoDB Local no longer has; these tests hold
// its evaluator to DynamoDB Local's answers on items it does have.

func fixture(t *testing.T) (*dynamodb.Client, string, []item) {
	t.Helper()
	c, table := testdb.Table(t)
	items := []item{
		{"PK": s("p"), "SK": s("a"), "score": n("5"), "name": s("alpha"), "tags": &types.AttributeValueMemberSS{Value: []string{"red", "blue"}}},
		{"PK": s("p"), "SK": s("b"), "score": n("1.0"), "name": s("b"), "deleting": &types.AttributeValueMemberBOOL{Value: true}},
		{"PK": s("p"), "SK": s("b#1"), "score": s("5"), "m": &types.AttributeValueMemberM{Value: item{"x": n("1")}}},
		{"PK": s("p"), "SK": s("b#2"), "l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("a"), n("2")}}},
		{"PK": s("p"), "SK": s("c"), "score": n("12"), "name": s("a"), "tags": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("red")}}},
		{"PK": s("p"), "SK": s("d"), "score": n("-3"), "bin": &types.AttributeValueMemberB{Value: []byte{1, 2, 3}}},
	}
	for _, it := range items {
		if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	return c, table, items
}

var values = item{
	":pk": s("p"), ":five": n("5"), ":one": n("1"), ":a": s("a"), ":b": s("b"), ":red": s("red"),
	":N": s("N"), ":x": s("x"), ":lo": s("a"), ":hi": s("b#1"), ":bin": &types.AttributeValueMemberB{Value: []byte{1}},
}

func sks(items []item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it["SK"].(*types.AttributeValueMemberS).Value)
	}
	return out
}

// used keeps only the placeholders an expression uses: DynamoDB rejects unused ones.
func used(expr string, all item) item {
	out := item{}
	for k, v := range all {
		if strings.Contains(expr+" ", k+" ") || strings.Contains(expr, k+")") || strings.Contains(expr, k+",") {
			out[k] = v
		}
	}
	return out
}

func TestFilterMatchesDynamoDBLocal(t *testing.T) {
	c, table, items := fixture(t)
	names := map[string]string{"#n": "name"}
	for _, expr := range []string{
		"attribute_not_exists(deleting)",
		"attribute_exists(deleting)",
		"score > :five",
		"score <> :five",
		"score = :five",
		"score BETWEEN :one AND :five",
		"#n IN (:a, :b)",
		"begins_with(#n, :a)",
		"begins_with(bin, :bin)",
		"contains(tags, :red)",
		"contains(#n, :a)",
		"size(#n) > :one",
		"NOT (score = :five) AND attribute_type(score, :N)",
		"m.x = :one OR l[0] = :a",
		"score < :x",
		"(attribute_exists(m) OR attribute_exists(l)) AND NOT attribute_exists(deleting)",
	} {
		t.Run(expr, func(t *testing.T) {
			vals := used(expr, values)
			vals[":pk"] = values[":pk"]
			in := &dynamodb.QueryInput{
				TableName: &table, KeyConditionExpression: aws.String("PK = :pk"),
				FilterExpression: aws.String(expr), ExpressionAttributeValues: vals,
			}
			if strings.Contains(expr, "#n") {
				in.ExpressionAttributeNames = names
			}
			out, err := c.Query(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parseCondition(expr, names, vals)
			if err != nil {
				t.Fatal(err)
			}
			var mine []item
			for _, it := range items {
				if f.holds(it) {
					mine = append(mine, it)
				}
			}
			if got, want := sks(mine), sks(out.Items); !slices.Equal(got, want) {
				t.Errorf("layer keeps %v, DynamoDB Local %v", got, want)
			}
		})
	}
}

func TestKeyConditionMatchesDynamoDBLocal(t *testing.T) {
	c, table, items := fixture(t)
	for _, expr := range []string{
		"PK = :pk",
		"PK = :pk AND SK BETWEEN :lo AND :hi",
		"PK = :pk AND begins_with(SK, :b)",
		"#pk = :pk AND #sk > :b",
		"PK = :pk AND SK >= :b",
		"PK = :pk AND SK < :b",
		"PK = :pk AND SK <= :b",
		"PK = :pk AND SK = :b",
	} {
		t.Run(expr, func(t *testing.T) {
			in := &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String(expr), ExpressionAttributeValues: used(expr, values)}
			if strings.Contains(expr, "#") {
				in.ExpressionAttributeNames = map[string]string{"#pk": "PK", "#sk": "SK"}
			}
			out, err := c.Query(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			kc, err := parseCondition(expr, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := partitionValue(kc, "PK"); !ok || canon(v) != canon(s("p")) {
				t.Errorf("partition value %v, %v", v, ok)
			}
			var mine []item
			for _, it := range items {
				if kc.holds(it) {
					mine = append(mine, it)
				}
			}
			if got, want := sks(mine), sks(out.Items); !slices.Equal(got, want) {
				t.Errorf("layer matches %v, DynamoDB Local %v", got, want)
			}
		})
	}
}

func TestItemSizeMatchesDynamoDBLocal(t *testing.T) {
	c, table := testdb.Table(t)
	for _, it := range []item{
		{"PK": s("p"), "SK": s("small")},
		{"PK": s("p"), "SK": s("1k"), "v": s(strings.Repeat("x", 1100))},
		{"PK": s("p"), "SK": s("num"), "v": n("12345678901234567890.5"), "w": n("-0.000100")},
		{"PK": s("p"), "SK": s("doc"), "m": &types.AttributeValueMemberM{Value: item{"a": s(strings.Repeat("y", 3000)), "l": &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), &types.AttributeValueMemberNULL{Value: true}}}}}},
		{"PK": s("p"), "SK": s("sets"), "ss": &types.AttributeValueMemberSS{Value: []string{strings.Repeat("z", 2000), "b"}}, "bs": &types.AttributeValueMemberBS{Value: [][]byte{make([]byte, 500)}}},
	} {
		out, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: it, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := writeUnits(itemSize(it)), aws.ToFloat64(out.ConsumedCapacity.CapacityUnits); got != want {
			t.Errorf("%v: %v units (size %d), DynamoDB Local %v", it["SK"], got, itemSize(it), want)
		}
	}
}
