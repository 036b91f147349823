package samtemplate_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
)

// property parses a template whose only resource has the property V set to value (YAML,
// possibly several lines) and returns V as decoded.
func property(t *testing.T, value string) (any, error) {
	t.Helper()
	doc := "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      V: " +
		strings.ReplaceAll(value, "\n", "\n        ") + "\n"
	tmpl, err := samtemplate.Parse([]byte(doc))
	if err != nil {
		return nil, err
	}
	return tmpl.Resources["R"].Properties["V"], nil
}

type m = map[string]any
type l = []any

func TestParseShortFormTags(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  any
	}{
		{"Ref", "!Ref Table", m{"Ref": "Table"}},
		{"Ref pseudo parameter", "!Ref AWS::Region", m{"Ref": "AWS::Region"}},
		{"GetAtt dotted", "!GetAtt Table.Arn", m{"Fn::GetAtt": l{"Table", "Arn"}}},
		{"GetAtt attribute with dots", "!GetAtt Db.Endpoint.Address", m{"Fn::GetAtt": l{"Db", "Endpoint.Address"}}},
		{"GetAtt list", "!GetAtt [Table, StreamArn]", m{"Fn::GetAtt": l{"Table", "StreamArn"}}},
		{"Sub string", `!Sub "arn:${AWS::Partition}:s3:::${Bucket}/*"`, m{"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*"}},
		{"Sub list with variables", "!Sub\n- ${Name}-${AWS::Region}\n- Name: !Ref Prefix",
			m{"Fn::Sub": l{"${Name}-${AWS::Region}", m{"Name": m{"Ref": "Prefix"}}}}},
		{"Join", `!Join [",", [a, !Ref B]]`, m{"Fn::Join": l{",", l{"a", m{"Ref": "B"}}}}},
		{"Select of GetAZs", `!Select [0, !GetAZs ""]`, m{"Fn::Select": l{0, m{"Fn::GetAZs": ""}}}},
		{"If with Equals and Not", "!If [IsProd, !Not [!Equals [!Ref Env, dev]], false]",
			m{"Fn::If": l{"IsProd", m{"Fn::Not": l{m{"Fn::Equals": l{m{"Ref": "Env"}, "dev"}}}}, false}}},
		{"And Or Condition", "!And [!Or [!Condition A, !Condition B], !Condition C]",
			m{"Fn::And": l{m{"Fn::Or": l{m{"Condition": "A"}, m{"Condition": "B"}}}, m{"Condition": "C"}}}},
		{"FindInMap", "!FindInMap [Map, !Ref AWS::Region, Key]", m{"Fn::FindInMap": l{"Map", m{"Ref": "AWS::Region"}, "Key"}}},
		{"Split", `!Split [",", !ImportValue Subnets]`, m{"Fn::Split": l{",", m{"Fn::ImportValue": "Subnets"}}}},
		// YAML allows one tag per node, so a short form inside another takes the long form.
		{"Base64 of Sub", `!Base64 {"Fn::Sub": "echo ${AWS::StackName}"}`, m{"Fn::Base64": m{"Fn::Sub": "echo ${AWS::StackName}"}}},
		{"Cidr", `!Cidr ["10.0.0.0/16", 4, 8]`, m{"Fn::Cidr": l{"10.0.0.0/16", 4, 8}}},
		{"block sequence", "!If\n- IsProd\n- !Ref A\n- b", m{"Fn::If": l{"IsProd", m{"Ref": "A"}, "b"}}},
		{"mapping value", "!Transform {Name: AWS::Include, Parameters: {Location: x}}",
			m{"Fn::Transform": m{"Name": "AWS::Include", "Parameters": m{"Location": "x"}}}},
		{"tagged scalar stays a string", "!Base64 true", m{"Fn::Base64": "true"}},
		{"inside a list", "[!Ref A, plain, 3]", l{m{"Ref": "A"}, "plain", 3}},
		{"long form untouched", `{"Fn::GetAtt": [A, B]}`, m{"Fn::GetAtt": l{"A", "B"}}},
		{"standard tag untouched", "!!str 10", "10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := property(t, tt.value)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"empty", "", "empty template"},
		{"not yaml", "Resources: [", "decode yaml"},
		{"no resources", "Parameters: {}\n", "no Resources"},
		{"resource without type", "Resources:\n  R:\n    Properties: {}\n", "R has no Type"},
		{"GetAtt without attribute", "Resources:\n  R:\n    Type: T\n    Properties:\n      V: !GetAtt Table\n", "want Resource.Attribute"},
		{"bad tag", "Resources:\n  R:\n    Type: T\n    Properties:\n      V: !Get-Att A.B\n", "unsupported tag"},
		{"duplicate key", "Resources:\n  R:\n    Type: T\n  R:\n    Type: T\n", "already defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := samtemplate.Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(`{"Resources": {"Q": {"Type": "AWS::SQS::Queue",
		"Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-q"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tmpl.Resources["Q"].Properties["QueueName"], (m{"Fn::Sub": "${AWS::StackName}-q"}); !reflect.DeepEqual(got, want) {
		t.Errorf("QueueName = %#v, want %#v", got, want)
	}
}

// function parses a template with the given Globals.Function body and one function F
// whose resource body (Properties, IgnoreGlobals, ...) is given, and returns F.
func function(t *testing.T, globals, resource string) samtemplate.Function {
	t.Helper()
	indent := func(s, by string) string { return by + strings.ReplaceAll(s, "\n", "\n"+by) }
	doc := "Resources:\n  F:\n    Type: AWS::Serverless::Function\n" + indent(resource, "    ") + "\n"
	if globals != "" {
		doc = "Globals:\n  Function:\n" + indent(globals, "    ") + "\n" + doc
	}
	tmpl, err := samtemplate.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", doc, err)
	}
	fns := tmpl.Functions()
	if len(fns) != 1 {
		t.Fatalf("got %d functions, want 1", len(fns))
	}
	return fns[0]
}

func TestFunctionsGlobalsMerge(t *testing.T) {
	tests := []struct {
		name     string
		globals  string
		resource string
		// want holds the merged properties to check; others are not compared.
		want m
	}{
		{
			name:     "globals fill what the function leaves out",
			globals:  "Runtime: provided.al2023\nHandler: bootstrap",
			resource: "Properties:\n  CodeUri: .",
			want:     m{"Runtime": "provided.al2023", "Handler": "bootstrap", "CodeUri": "."},
		},
		{
			name:     "function scalars win",
			globals:  "Timeout: 10\nMemorySize: 128",
			resource: "Properties:\n  Timeout: 30",
			want:     m{"Timeout": 30, "MemorySize": 128},
		},
		{
			name:     "maps merge key by key, function wins",
			globals:  "Environment:\n  Variables:\n    TABLE_NAME: !Ref Table\n    LEVEL: INFO",
			resource: "Properties:\n  Environment:\n    Variables:\n      LEVEL: DEBUG\n      EXTRA: x",
			want: m{"Environment": m{"Variables": m{
				"TABLE_NAME": m{"Ref": "Table"}, "LEVEL": "DEBUG", "EXTRA": "x"}}},
		},
		{
			// SAM concatenates lists, globals first (samtranslator GlobalProperties._merge_lists).
			name:     "lists concatenate",
			globals:  "Layers: [a, b]",
			resource: "Properties:\n  Layers: [c]",
			want:     m{"Layers": l{"a", "b", "c"}},
		},
		{
			name:     "an intrinsic replaces a map",
			globals:  "VpcConfig:\n  SubnetIds: [s1]",
			resource: "Properties:\n  VpcConfig: !If [InVpc, {SubnetIds: [s2]}, !Ref AWS::NoValue]",
			want: m{"VpcConfig": m{"Fn::If": l{"InVpc", m{"SubnetIds": l{"s2"}},
				m{"Ref": "AWS::NoValue"}}}},
		},
		{
			name:     "a value of another kind replaces",
			globals:  "CodeUri: s3://bucket/code.zip",
			resource: "Properties:\n  CodeUri: {Bucket: b, Key: k}",
			want:     m{"CodeUri": m{"Bucket": "b", "Key": "k"}},
		},
		{
			name:     "IgnoreGlobals star",
			globals:  "Timeout: 10\nRuntime: provided.al2023",
			resource: "IgnoreGlobals: '*'\nProperties:\n  Handler: h",
			want:     m{"Timeout": nil, "Runtime": nil, "Handler": "h"},
		},
		{
			name:     "IgnoreGlobals list",
			globals:  "Timeout: 10\nRuntime: provided.al2023",
			resource: "IgnoreGlobals: [Timeout]\nProperties:\n  Handler: h",
			want:     m{"Timeout": nil, "Runtime": "provided.al2023", "Handler": "h"},
		},
		{
			name:     "no globals",
			resource: "Properties:\n  Runtime: provided.al2023",
			want:     m{"Runtime": "provided.al2023"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := function(t, tt.globals, tt.resource)
			for k, want := range tt.want {
				if got := fn.Properties[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
		})
	}
}

func TestFunctionFields(t *testing.T) {
	fn := function(t,
		"Runtime: provided.al2023\nHandler: bootstrap\nArchitectures: [arm64]\nEnvironment:\n  Variables:\n    A: global\n    B: global",
		`Metadata:
  BuildMethod: makefile
Properties:
  CodeUri: .
  Environment:
    Variables:
      B: own
  Policies: AWSLambdaBasicExecutionRole
  Events:
    Zeta:
      Type: Schedule
      Properties: {Schedule: rate(1 hour)}
    Alpha:
      Type: HttpApi
      Properties: {Method: get, Path: /a}`)
	want := samtemplate.Function{
		LogicalID:     "F",
		CodeURI:       ".",
		BuildMethod:   "makefile",
		Handler:       "bootstrap",
		Runtime:       "provided.al2023",
		Architectures: []string{"arm64"},
		Environment:   m{"A": "global", "B": "own"},
		Policies:      l{"AWSLambdaBasicExecutionRole"},
		Events: []samtemplate.Event{
			{Name: "Alpha", Type: "HttpApi", Properties: m{"Method": "get", "Path": "/a"}},
			{Name: "Zeta", Type: "Schedule", Properties: m{"Schedule": "rate(1 hour)"}},
		},
	}
	fn.Properties = nil // covered by TestFunctionsGlobalsMerge
	if !reflect.DeepEqual(fn, want) {
		t.Errorf("got  %#v\nwant %#v", fn, want)
	}
}

func TestFunctionsDoNotShareTemplateState(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(`
Globals:
  Function:
    Environment: {Variables: {A: global}}
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties: {Environment: {Variables: {B: own}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.Functions()[0].Environment["A"] = "changed"
	if got := tmpl.Functions()[0].Environment["A"]; got != "global" {
		t.Errorf("after changing a returned Function, A = %v, want global", got)
	}
}

func TestHTTPRoutes(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(`
Resources:
  B:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Put: {Type: HttpApi, Properties: {Method: put, Path: "/items/{id}"}}
        Get: {Type: HttpApi, Properties: {Method: GET, Path: "/items/{id}"}}
        Queue: {Type: SQS, Properties: {Queue: q}}
  A:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        List: {Type: HttpApi, Properties: {Method: get, Path: /items}}
        CatchAll: {Type: HttpApi}
  Rest:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Old: {Type: Api, Properties: {Method: get, Path: /rest}}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []samtemplate.Route{
		{Method: "ANY", Path: "$default", FunctionID: "A"},
		{Method: "GET", Path: "/items", FunctionID: "A"},
		{Method: "GET", Path: "/items/{id}", FunctionID: "B"},
		{Method: "PUT", Path: "/items/{id}", FunctionID: "B"},
	}
	got := tmpl.HTTPRoutes()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	keys := []string{"$default", "GET /items", "GET /items/{id}", "PUT /items/{id}"}
	for i, r := range got {
		if i < len(keys) && r.RouteKey() != keys[i] {
			t.Errorf("RouteKey() = %q, want %q", r.RouteKey(), keys[i])
		}
	}
}

const tableTemplate = `
Parameters:
  ReadUnits: {Type: Number, Default: "7"}
Resources:
  Fn:
    Type: AWS::Serverless::Function
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: ignored
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: SK, AttributeType: S}
        - {AttributeName: GSI1PK, AttributeType: S}
        - {AttributeName: Score, AttributeType: N}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
        - {AttributeName: SK, KeyType: RANGE}
      ProvisionedThroughput: {ReadCapacityUnits: !Ref ReadUnits, WriteCapacityUnits: 3}
      GlobalSecondaryIndexes:
        - IndexName: GSI1
          KeySchema:
            - {AttributeName: GSI1PK, KeyType: HASH}
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [Name, Score]}
          ProvisionedThroughput: {ReadCapacityUnits: "1", WriteCapacityUnits: 2}
      LocalSecondaryIndexes:
        - IndexName: ByScore
          KeySchema:
            - {AttributeName: PK, KeyType: HASH}
            - {AttributeName: Score, KeyType: RANGE}
          Projection: {ProjectionType: KEYS_ONLY}
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      SSESpecification: {SSEEnabled: true}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
      DeletionProtectionEnabled: !Ref Protect
      TimeToLiveSpecification: {AttributeName: ExpiresAt, Enabled: true}
      Tags: [{Key: app, Value: leaderboard}]
`

func TestCreateTableInputProvisioned(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(tableTemplate))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.CreateTableInput("Table", "local-table")
	if err != nil {
		t.Fatal(err)
	}
	key := func(name string, kt types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
	}
	attr := func(name string, at types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: at}
	}
	want := &dynamodb.CreateTableInput{
		TableName: aws.String("local-table"),
		AttributeDefinitions: []types.AttributeDefinition{
			attr("PK", types.ScalarAttributeTypeS), attr("SK", types.ScalarAttributeTypeS),
			attr("GSI1PK", types.ScalarAttributeTypeS), attr("Score", types.ScalarAttributeTypeN),
		},
		KeySchema:   []types.KeySchemaElement{key("PK", types.KeyTypeHash), key("SK", types.KeyTypeRange)},
		BillingMode: types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{
			ReadCapacityUnits: aws.Int64(7), WriteCapacityUnits: aws.Int64(3)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("GSI1"),
			KeySchema: []types.KeySchemaElement{key("GSI1PK", types.KeyTypeHash)},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude,
				NonKeyAttributes: []string{"Name", "Score"}},
			ProvisionedThroughput: &types.ProvisionedThroughput{
				ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(2)},
		}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName:  aws.String("ByScore"),
			KeySchema:  []types.KeySchemaElement{key("PK", types.KeyTypeHash), key("Score", types.KeyTypeRange)},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", dump(got), dump(want))
	}
}

func TestCreateTableInputErrors(t *testing.T) {
	table := func(props string) string {
		return "Resources:\n  Q: {Type: AWS::SQS::Queue}\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n" +
			"      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]\n" +
			"      KeySchema: [{AttributeName: PK, KeyType: HASH}]\n" + props
	}
	tests := []struct {
		name    string
		doc     string
		id      string
		wantErr string
	}{
		{"no such resource", table("      BillingMode: PAY_PER_REQUEST\n"), "Nope", "no such resource"},
		{"not a table", table("      BillingMode: PAY_PER_REQUEST\n"), "Q", "resource type is AWS::SQS::Queue"},
		{"provisioned without throughput", table(""), "Table", "ProvisionedThroughput: required"},
		{"bad billing mode", table("      BillingMode: FREE\n"), "Table", `BillingMode "FREE"`},
		{"unresolvable intrinsic", table("      BillingMode: !If [Prod, PROVISIONED, PAY_PER_REQUEST]\n"), "Table", "intrinsic functions"},
		{"unknown property", table("      BillingMode: PAY_PER_REQUEST\n      Shiny: true\n"), "Table", "property Shiny is not supported"},
		{"index without projection", table("      BillingMode: PAY_PER_REQUEST\n      GlobalSecondaryIndexes:\n        - {IndexName: I, KeySchema: [{AttributeName: PK, KeyType: HASH}]}\n"),
			"Table", "GlobalSecondaryIndexes[0].Projection: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := samtemplate.Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.CreateTableInput(tt.id, "x")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func dump(in *dynamodb.CreateTableInput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v %v %s", aws.ToString(in.TableName), in.AttributeDefinitions, in.KeySchema, in.BillingMode)
	if in.ProvisionedThroughput != nil {
		fmt.Fprintf(&b, " %+v", *in.ProvisionedThroughput)
	}
	fmt.Fprintf(&b, " GSIs %+v LSIs %+v Stream %+v", in.GlobalSecondaryIndexes, in.LocalSecondaryIndexes, in.StreamSpecification)
	return b.String()
}

// The tests below read the real template. They assert what it must contain, so that adding
// functions and routes later does not break them.

func loadReal(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestRealTemplateFunctions(t *testing.T) {
	fns := loadReal(t).Functions()
	byID := map[string]samtemplate.Function{}
	for _, fn := range fns {
		byID[fn.LogicalID] = fn
	}
	for _, id := range []string{
		"PingFunction", "TokenFunction", "CreateTeamFunction", "UpdateTeamFunction",
		"GetTeamFunction", "DeleteTeamFunction", "CreateLeaderboardFunction",
	} {
		t.Run(id, func(t *testing.T) {
			fn, ok := byID[id]
			if !ok {
				t.Fatalf("template has no function %s", id)
			}
			if fn.BuildMethod != "makefile" || fn.CodeURI != "." {
				t.Errorf("BuildMethod %q, CodeUri %q; want makefile and .", fn.BuildMethod, fn.CodeURI)
			}
		})
	}
	for _, fn := range fns {
		t.Run(fn.LogicalID+" has Globals and an event", func(t *testing.T) {
			if fn.Handler != "bootstrap" || fn.Runtime != "provided.al2023" || !slices.Equal(fn.Architectures, []string{"arm64"}) {
				t.Errorf("Handler %q, Runtime %q, Architectures %v; want bootstrap, provided.al2023, [arm64]",
					fn.Handler, fn.Runtime, fn.Architectures)
			}
			if got, want := fn.Environment["TABLE_NAME"], (m{"Ref": "Table"}); !reflect.DeepEqual(got, want) {
				t.Errorf("TABLE_NAME = %#v, want %#v", got, want)
			}
			if len(fn.Events) == 0 {
				t.Error("no events: nothing would ever invoke this function")
			}
		})
	}
}

func TestRealTemplateRoutes(t *testing.T) {
	routes := loadReal(t).HTTPRoutes()
	got := map[string]string{}
	for _, r := range routes {
		if prev, dup := got[r.RouteKey()]; dup {
			t.Errorf("route %s on both %s and %s", r.RouteKey(), prev, r.FunctionID)
		}
		got[r.RouteKey()] = r.FunctionID
	}
	for key, fn := range map[string]string{
		"GET /ping":            "PingFunction",
		"GET /v1/token":        "TokenFunction",
		"POST /v1/team":        "CreateTeamFunction",
		"PUT /v1/team/{id}":    "UpdateTeamFunction",
		"GET /v1/team/{id}":    "GetTeamFunction",
		"DELETE /v1/team/{id}": "DeleteTeamFunction",
		"POST /v1/leaderboard": "CreateLeaderboardFunction",
	} {
		t.Run(key, func(t *testing.T) {
			if got[key] != fn {
				t.Errorf("route %s goes to %q, want %s", key, got[key], fn)
			}
		})
	}
}

func TestRealTemplateTable(t *testing.T) {
	tmpl := loadReal(t)
	if ids := tmpl.TableLogicalIDs(); !slices.Contains(ids, "Table") {
		t.Fatalf("TableLogicalIDs() = %v, want it to contain Table", ids)
	}
	in, err := tmpl.CreateTableInput("Table", "x")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.TableName) != "x" {
		t.Errorf("TableName = %q, want x", aws.ToString(in.TableName))
	}
	if in.BillingMode != types.BillingModePayPerRequest || in.ProvisionedThroughput != nil {
		t.Errorf("BillingMode %s, ProvisionedThroughput %v; want PAY_PER_REQUEST and none", in.BillingMode, in.ProvisionedThroughput)
	}
	wantKeys := []types.KeySchemaElement{
		{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
	}
	if !reflect.DeepEqual(in.KeySchema, wantKeys) {
		t.Errorf("KeySchema = %v, want PK HASH, SK RANGE", in.KeySchema)
	}
	attrTypes := map[string]types.ScalarAttributeType{}
	for _, a := range in.AttributeDefinitions {
		attrTypes[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	if attrTypes["PK"] != types.ScalarAttributeTypeS || attrTypes["SK"] != types.ScalarAttributeTypeS {
		t.Errorf("AttributeDefinitions = %v, want PK and SK of type S", attrTypes)
	}
}
