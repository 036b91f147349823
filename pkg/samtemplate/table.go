package samtemplate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Properties of AWS::DynamoDB::Table (and of its indexes) that CreateTableInput leaves out.
// They matter in AWS but not to the shape of the table, and DynamoDB Local either rejects
// them in CreateTable or has no API for them at all:
//   - SSESpecification, PointInTimeRecoverySpecification, DeletionProtectionEnabled,
//     ContributorInsightsSpecification, KinesisStreamSpecification, TimeToLiveSpecification
//     (separate APIs in DynamoDB, mostly absent from DynamoDB Local), ResourcePolicy,
//     Tags, TableClass, OnDemandThroughput, WarmThroughput, ImportSourceSpecification;
//   - TableName, because the caller names the table (tests want a fresh one each).
//
// Any other property is an error, so that a property added to the template later is not
// silently missing from the local table.
var ignoredTableProperties = map[string]bool{
	"SSESpecification":                 true,
	"PointInTimeRecoverySpecification": true,
	"DeletionProtectionEnabled":        true,
	"Tags":                             true,
	"TimeToLiveSpecification":          true,
	"ContributorInsightsSpecification": true,
	"KinesisStreamSpecification":       true,
	"ResourcePolicy":                   true,
	"TableClass":                       true,
	"OnDemandThroughput":               true,
	"WarmThroughput":                   true,
	"ImportSourceSpecification":        true,
	"TableName":                        true,
}

var ignoredIndexProperties = map[string]bool{
	"ContributorInsightsSpecification": true,
	"OnDemandThroughput":               true,
	"WarmThroughput":                   true,
}

// CreateTableInput builds the CreateTable call for the AWS::DynamoDB::Table logicalID,
// naming the table tableName: keys, attribute definitions, billing mode (with provisioned
// throughput for PROVISIONED, CloudFormation's default), secondary indexes and the stream.
// Refs to template parameters resolve to their defaults; any other intrinsic is an error.
func (t *Template) CreateTableInput(logicalID, tableName string) (*dynamodb.CreateTableInput, error) {
	r, ok := t.Resources[logicalID]
	if !ok {
		return nil, fmt.Errorf("table %s: no such resource", logicalID)
	}
	if r.Type != TypeTable {
		return nil, fmt.Errorf("table %s: resource type is %s, want %s", logicalID, r.Type, TypeTable)
	}
	d := tableDecoder{params: t.Parameters}
	props := r.Properties
	for _, k := range slices.Sorted(maps.Keys(props)) {
		switch k {
		case "AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput",
			"GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification":
		default:
			if !ignoredTableProperties[k] {
				return nil, fmt.Errorf("table %s: property %s is not supported locally", logicalID, k)
			}
		}
	}

	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName)}
	var err error
	if in.AttributeDefinitions, err = d.attributeDefinitions(props["AttributeDefinitions"], "AttributeDefinitions"); err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, err)
	}
	if in.KeySchema, err = d.keySchema(props["KeySchema"], "KeySchema"); err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, err)
	}

	billing := string(types.BillingModeProvisioned)
	if v, ok := props["BillingMode"]; ok {
		if billing, err = d.str(v, "BillingMode"); err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
	}
	in.BillingMode = types.BillingMode(billing)
	provisioned := in.BillingMode == types.BillingModeProvisioned
	if !provisioned && in.BillingMode != types.BillingModePayPerRequest {
		return nil, fmt.Errorf("table %s: BillingMode %q: want PROVISIONED or PAY_PER_REQUEST", logicalID, billing)
	}
	if provisioned {
		if in.ProvisionedThroughput, err = d.throughput(props["ProvisionedThroughput"], "ProvisionedThroughput"); err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
	}

	gsis, err := d.list(props["GlobalSecondaryIndexes"], "GlobalSecondaryIndexes")
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, err)
	}
	for i, v := range gsis {
		path := fmt.Sprintf("GlobalSecondaryIndexes[%d]", i)
		idx, err := d.index(v, path, "ProvisionedThroughput")
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
		gsi := types.GlobalSecondaryIndex{IndexName: idx.name, KeySchema: idx.keys, Projection: idx.projection}
		if provisioned {
			if gsi.ProvisionedThroughput, err = d.throughput(idx.props["ProvisionedThroughput"], path+".ProvisionedThroughput"); err != nil {
				return nil, fmt.Errorf("table %s: %w", logicalID, err)
			}
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}

	lsis, err := d.list(props["LocalSecondaryIndexes"], "LocalSecondaryIndexes")
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, err)
	}
	for i, v := range lsis {
		idx, err := d.index(v, fmt.Sprintf("LocalSecondaryIndexes[%d]", i))
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes,
			types.LocalSecondaryIndex{IndexName: idx.name, KeySchema: idx.keys, Projection: idx.projection})
	}

	if v, ok := props["StreamSpecification"]; ok {
		spec, err := d.mapping(v, "StreamSpecification")
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
		// CloudFormation turns the stream on by naming a view type; the API wants both.
		viewType, err := d.str(spec["StreamViewType"], "StreamSpecification.StreamViewType")
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(viewType),
		}
	}
	return in, nil
}

// tableDecoder reads table properties, naming the property path in every error.
type tableDecoder struct {
	params map[string]map[string]any
}

type index struct {
	name       *string
	keys       []types.KeySchemaElement
	projection *types.Projection
	props      map[string]any
}

func (d tableDecoder) index(v any, path string, extra ...string) (index, error) {
	props, err := d.mapping(v, path)
	if err != nil {
		return index{}, err
	}
	for k := range props {
		switch k {
		case "IndexName", "KeySchema", "Projection":
		default:
			if !ignoredIndexProperties[k] && !slices.Contains(extra, k) {
				return index{}, fmt.Errorf("%s: property %s is not supported locally", path, k)
			}
		}
	}
	name, err := d.str(props["IndexName"], path+".IndexName")
	if err != nil {
		return index{}, err
	}
	keys, err := d.keySchema(props["KeySchema"], path+".KeySchema")
	if err != nil {
		return index{}, err
	}
	proj, err := d.mapping(props["Projection"], path+".Projection")
	if err != nil {
		return index{}, err
	}
	projection := &types.Projection{}
	if v, ok := proj["ProjectionType"]; ok {
		s, err := d.str(v, path+".Projection.ProjectionType")
		if err != nil {
			return index{}, err
		}
		projection.ProjectionType = types.ProjectionType(s)
	}
	attrs, err := d.list(proj["NonKeyAttributes"], path+".Projection.NonKeyAttributes")
	if err != nil {
		return index{}, err
	}
	for i, a := range attrs {
		s, err := d.str(a, fmt.Sprintf("%s.Projection.NonKeyAttributes[%d]", path, i))
		if err != nil {
			return index{}, err
		}
		projection.NonKeyAttributes = append(projection.NonKeyAttributes, s)
	}
	return index{name: aws.String(name), keys: keys, projection: projection, props: props}, nil
}

func (d tableDecoder) attributeDefinitions(v any, path string) ([]types.AttributeDefinition, error) {
	pairs, err := d.namedPairs(v, path, "AttributeType")
	if err != nil {
		return nil, err
	}
	defs := make([]types.AttributeDefinition, len(pairs))
	for i, p := range pairs {
		defs[i] = types.AttributeDefinition{AttributeName: aws.String(p[0]), AttributeType: types.ScalarAttributeType(p[1])}
	}
	return defs, nil
}

func (d tableDecoder) keySchema(v any, path string) ([]types.KeySchemaElement, error) {
	pairs, err := d.namedPairs(v, path, "KeyType")
	if err != nil {
		return nil, err
	}
	keys := make([]types.KeySchemaElement, len(pairs))
	for i, p := range pairs {
		keys[i] = types.KeySchemaElement{AttributeName: aws.String(p[0]), KeyType: types.KeyType(p[1])}
	}
	return keys, nil
}

// namedPairs reads a non-empty list of {AttributeName, <field>} mappings as
// (name, value) pairs: the shape of both AttributeDefinitions and KeySchema.
func (d tableDecoder) namedPairs(v any, path, field string) ([][2]string, error) {
	list, err := d.list(v, path)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: missing", path)
	}
	pairs := make([][2]string, len(list))
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		m, err := d.mapping(e, p)
		if err != nil {
			return nil, err
		}
		if pairs[i][0], err = d.str(m["AttributeName"], p+".AttributeName"); err != nil {
			return nil, err
		}
		if pairs[i][1], err = d.str(m[field], p+"."+field); err != nil {
			return nil, err
		}
	}
	return pairs, nil
}

func (d tableDecoder) throughput(v any, path string) (*types.ProvisionedThroughput, error) {
	if v == nil {
		return nil, fmt.Errorf("%s: required when BillingMode is PROVISIONED", path)
	}
	m, err := d.mapping(v, path)
	if err != nil {
		return nil, err
	}
	read, err := d.int(m["ReadCapacityUnits"], path+".ReadCapacityUnits")
	if err != nil {
		return nil, err
	}
	write, err := d.int(m["WriteCapacityUnits"], path+".WriteCapacityUnits")
	if err != nil {
		return nil, err
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(read), WriteCapacityUnits: aws.Int64(write)}, nil
}

// resolve replaces a Ref to a template parameter by the parameter's default, the value
// a stack deployed without overrides would see.
func (d tableDecoder) resolve(v any) any {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v
	}
	name, ok := m["Ref"].(string)
	if !ok {
		return v
	}
	if def, ok := d.params[name]["Default"]; ok {
		return def
	}
	return v
}

func (d tableDecoder) str(v any, path string) (string, error) {
	switch v := d.resolve(v).(type) {
	case string:
		return v, nil
	case nil:
		return "", fmt.Errorf("%s: missing", path)
	default:
		return "", fmt.Errorf("%s: %v is not a string%s", path, v, intrinsicHint(v))
	}
}

func (d tableDecoder) int(v any, path string) (int64, error) {
	switch v := d.resolve(v).(type) {
	case int:
		return int64(v), nil
	case string:
		// CloudFormation accepts numbers as strings ("5"), and parameter defaults are strings.
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not an integer", path, v)
		}
		return n, nil
	case nil:
		return 0, fmt.Errorf("%s: missing", path)
	default:
		return 0, fmt.Errorf("%s: %v is not an integer%s", path, v, intrinsicHint(v))
	}
}

func (d tableDecoder) list(v any, path string) ([]any, error) {
	switch v := v.(type) {
	case []any:
		return v, nil
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("%s: %v is not a list%s", path, v, intrinsicHint(v))
	}
}

func (d tableDecoder) mapping(v any, path string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return nil, fmt.Errorf("%s: missing", path)
		}
		return nil, fmt.Errorf("%s: %v is not a map", path, v)
	}
	if IsIntrinsic(m) {
		return nil, fmt.Errorf("%s: %v is not a map%s", path, v, intrinsicHint(v))
	}
	return m, nil
}

func intrinsicHint(v any) string {
	if IsIntrinsic(v) {
		return " (intrinsic functions other than Ref to a parameter with a Default are not resolved)"
	}
	return ""
}
