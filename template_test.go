// Tests that hold template.yaml to the code: build targets, globals, routes, policies.
package leaderboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/api"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/boardcheck"
	"github.com/leaderboardapi/leaderboard/pkg/cursor"
	"github.com/leaderboardapi/leaderboard/pkg/localapi"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func loadTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// makefileFunctions reads the Makefile's FUNCTIONS list: logical ID -> folder.
func makefileFunctions(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)FUNCTIONS := \\\n(.*?)\n\n`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("no FUNCTIONS list in the Makefile")
	}
	out := map[string]string{}
	for _, f := range strings.Fields(strings.ReplaceAll(string(m[1]), `\`, "")) {
		id, folder, _ := strings.Cut(f, ":")
		out[id] = folder
	}
	return out
}

func TestBuildTargets(t *testing.T) {
	tmpl := loadTemplate(t)
	folders := makefileFunctions(t)
	seen := map[string]bool{}
	for _, fn := range tmpl.Functions() {
		t.Run(fn.LogicalID, func(t *testing.T) {
			if fn.BuildMethod != "makefile" || fn.CodeURI != "." {
				t.Errorf("BuildMethod %q CodeUri %q: want makefile and . (SAM copies only CodeUri)", fn.BuildMethod, fn.CodeURI)
			}
			folder, ok := folders[fn.LogicalID]
			if !ok {
				t.Fatalf("the Makefile's FUNCTIONS list has no %s", fn.LogicalID)
			}
			seen[folder] = true
			if _, err := os.Stat("functions/" + folder + "/main.go"); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("make", "-n", "build-"+fn.LogicalID, "ARTIFACTS_DIR=/artifacts").CombinedOutput()
			if err != nil {
				t.Fatalf("make -n build-%s: %v\n%s", fn.LogicalID, err, out)
			}
			for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "-tags lambda.norpc", "-trimpath", "-ldflags='-s -w'",
				"-o /artifacts/bootstrap ./functions/" + folder + "\n"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("build-%s lacks %q: %s", fn.LogicalID, want, out)
				}
			}
		})
	}
	dirs, _ := os.ReadDir("functions")
	for _, d := range dirs {
		if !seen[d.Name()] {
			t.Errorf("functions/%s is not a function in template.yaml", d.Name())
		}
	}
}

func TestGlobalsAndResources(t *testing.T) {
	tmpl := loadTemplate(t)
	for _, fn := range tmpl.Functions() {
		if fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" || !slices.Equal(fn.Architectures, []string{"arm64"}) {
			t.Errorf("%s: runtime %q handler %q arch %v", fn.LogicalID, fn.Runtime, fn.Handler, fn.Architectures)
		}
		if mustJSON(fn.Environment["TABLE_NAME"]) != `{"Ref":"Table"}` {
			t.Errorf("%s: TABLE_NAME = %v", fn.LogicalID, fn.Environment["TABLE_NAME"])
		}
		if logging, _ := fn.Properties["LoggingConfig"].(map[string]any); logging["LogFormat"] != "JSON" {
			t.Errorf("%s: LoggingConfig = %v", fn.LogicalID, fn.Properties["LoggingConfig"])
		}
	}
	checks := []struct{ path, want string }{
		{"Resources.HttpApi.Properties.DefaultRouteSettings.ThrottlingRateLimit", "100"},
		{"Resources.HttpApi.Properties.DefaultRouteSettings.ThrottlingBurstLimit", "200"},
		{"Resources.Table.Properties.BillingMode", `"PAY_PER_REQUEST"`},
		{"Resources.Table.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled", "true"},
		{"Resources.Table.Properties.SSESpecification.SSEEnabled", "true"},
		{"Resources.Table.Properties.TimeToLiveSpecification", `{"AttributeName":"expiresAt","Enabled":true}`},
		{"Resources.Table.Properties.DeletionProtectionEnabled", `{"Ref":"TableDeletionProtection"}`},
		{"Resources.PingFailureAlarm.Properties.MetricName", `"Errors"`},
		{"Resources.PingFailureAlarm.Properties.Dimensions", `[{"Name":"FunctionName","Value":{"Ref":"PingFunction"}}]`},
		{"Outputs.ApiUrl.Value", `{"Fn::Sub":"https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}`},
		{"Outputs.TableName.Value", `{"Ref":"Table"}`},
		{"Globals.Function.ReservedConcurrentExecutions", `{"Fn::If":["ReserveConcurrency",{"Ref":"FunctionConcurrency"},{"Ref":"AWS::NoValue"}]}`},
		{"Resources.SubmitScoresFunction.Properties.ReservedConcurrentExecutions", `{"Fn::If":["ReserveConcurrency",{"Ref":"SubmitConcurrency"},{"Ref":"AWS::NoValue"}]}`},
		{"Conditions.ReserveConcurrency", `{"Fn::Not":[{"Fn::Equals":[{"Ref":"FunctionConcurrency"},0]}]}`},
		{"Outputs.DashboardUrl.Value", `{"Fn::Sub":"https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dashboard"}`},
	}
	doc := map[string]any{"Resources": map[string]any{}, "Outputs": tmpl.Outputs, "Globals": tmpl.Globals, "Conditions": tmpl.Conditions}
	for id, r := range tmpl.Resources {
		doc["Resources"].(map[string]any)[id] = map[string]any{"Properties": r.Properties}
	}
	for _, c := range checks {
		if got := mustJSON(lookup(doc, c.path)); got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	var schedules []string
	for _, fn := range tmpl.Functions() {
		for _, e := range fn.Events {
			if e.Type == "ScheduleV2" {
				schedules = append(schedules, fn.LogicalID+" "+fmt.Sprint(e.Properties["ScheduleExpression"]))
			}
		}
	}
	slices.Sort(schedules)
	if want := []string{"CheckBoardsFunction rate(15 minutes)", "PingFunction rate(5 minutes)"}; !slices.Equal(schedules, want) {
		t.Errorf("schedules = %q, want %q", schedules, want)
	}
}

func lookup(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// recorder notes the IAM actions that DynamoDB calls through a client would need, and
// each access: the action and the partition key it touched (IAM's dynamodb:LeadingKeys).
type recorder struct {
	mu       sync.Mutex
	actions  map[string]bool
	accesses []access
}

type access struct{ action, pk string }

func (r *recorder) client(base *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(base.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("record",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					r.mu.Lock()
					for _, a := range iamActions(awsmiddleware.GetOperationName(ctx), in.Parameters) {
						r.actions[a] = true
					}
					r.accesses = append(r.accesses, accesses(awsmiddleware.GetOperationName(ctx), in.Parameters)...)
					r.mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
}

// iamActions maps an API call to the IAM actions it needs: a transaction needs the
// action of each kind of item in it, not one of its own.
func iamActions(op string, params any) []string {
	if _, ok := params.(*dynamodb.TransactGetItemsInput); ok {
		return []string{"dynamodb:GetItem"}
	}
	tx, ok := params.(*dynamodb.TransactWriteItemsInput)
	if !ok {
		return []string{"dynamodb:" + op}
	}
	var out []string
	for _, it := range tx.TransactItems {
		switch {
		case it.Put != nil:
			out = append(out, "dynamodb:PutItem")
		case it.Update != nil:
			out = append(out, "dynamodb:UpdateItem")
		case it.Delete != nil:
			out = append(out, "dynamodb:DeleteItem")
		case it.ConditionCheck != nil:
			out = append(out, "dynamodb:ConditionCheckItem")
		}
	}
	return out
}

// accesses lists the partition keys a call touches, with the IAM action each needs.
func accesses(op string, params any) []access {
	pk := func(key map[string]dbtypes.AttributeValue) string {
		if v, ok := key["PK"].(*dbtypes.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		return []access{{"dynamodb:GetItem", pk(in.Key)}}
	case *dynamodb.PutItemInput:
		return []access{{"dynamodb:PutItem", pk(in.Item)}}
	case *dynamodb.UpdateItemInput:
		return []access{{"dynamodb:UpdateItem", pk(in.Key)}}
	case *dynamodb.DeleteItemInput:
		return []access{{"dynamodb:DeleteItem", pk(in.Key)}}
	case *dynamodb.QueryInput:
		// Every query here names its partition "PK = :pk".
		v, _ := in.ExpressionAttributeValues[":pk"].(*dbtypes.AttributeValueMemberS)
		if v == nil {
			return []access{{"dynamodb:Query", ""}}
		}
		return []access{{"dynamodb:Query", v.Value}}
	case *dynamodb.BatchGetItemInput:
		var out []access
		for _, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				out = append(out, access{"dynamodb:BatchGetItem", pk(k)})
			}
		}
		return out
	case *dynamodb.BatchWriteItemInput:
		var out []access
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					out = append(out, access{"dynamodb:BatchWriteItem", pk(r.PutRequest.Item)})
				}
				if r.DeleteRequest != nil {
					out = append(out, access{"dynamodb:BatchWriteItem", pk(r.DeleteRequest.Key)})
				}
			}
		}
		return out
	case *dynamodb.TransactGetItemsInput:
		var out []access
		for _, it := range in.TransactItems {
			out = append(out, access{"dynamodb:GetItem", pk(it.Get.Key)})
		}
		return out
	case *dynamodb.TransactWriteItemsInput:
		var out []access
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, access{"dynamodb:PutItem", pk(it.Put.Item)})
			case it.Update != nil:
				out = append(out, access{"dynamodb:UpdateItem", pk(it.Update.Key)})
			case it.Delete != nil:
				out = append(out, access{"dynamodb:DeleteItem", pk(it.Delete.Key)})
			case it.ConditionCheck != nil:
				out = append(out, access{"dynamodb:ConditionCheckItem", pk(it.ConditionCheck.Key)})
			}
		}
		return out
	}
	return []access{{"dynamodb:" + op, ""}}
}

// statement is one statement of a function's policy, as far as these tests read it:
// its effect, actions, and the dynamodb:LeadingKeys patterns of its condition.
type statement struct {
	effect  string
	actions []string
	keys    []string // nil: any key
}

func statements(t *testing.T, fn samtemplate.Function) []statement {
	t.Helper()
	var out []statement
	for _, p := range fn.Policies {
		doc, _ := p.(map[string]any)
		for _, raw := range list(doc["Statement"]) {
			st, _ := raw.(map[string]any)
			s := statement{effect: fmt.Sprint(st["Effect"])}
			for _, a := range list(st["Action"]) {
				s.actions = append(s.actions, a.(string))
			}
			if cond, ok := st["Condition"].(map[string]any); ok {
				if len(cond) != 1 {
					t.Fatalf("%s: a condition of %d operators; these tests read one", fn.LogicalID, len(cond))
				}
				for op, c := range cond {
					switch op {
					case "ForAllValues:StringEquals", "ForAllValues:StringLike", "ForAnyValue:StringLike":
					default:
						t.Fatalf("%s: condition operator %s: these tests read only LeadingKeys string conditions", fn.LogicalID, op)
					}
					for _, k := range list(c.(map[string]any)["dynamodb:LeadingKeys"]) {
						s.keys = append(s.keys, k.(string))
					}
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// matches reports whether statement s covers action on partition key pk.
func (s statement) matches(action, pk string) bool {
	if !slices.Contains(s.actions, action) {
		return false
	}
	if s.keys == nil {
		return true
	}
	for _, k := range s.keys {
		if ok, _ := path.Match(k, pk); ok { // IAM's * is path.Match's: no key here holds a /
			return true
		}
	}
	return false
}

// allows evaluates a function's policy for one access as IAM does: an explicit Deny
// wins, else some Allow must cover it.
func allows(sts []statement, action, pk string) bool {
	allowed := false
	for _, s := range sts {
		if s.matches(action, pk) {
			if s.effect == "Deny" {
				return false
			}
			allowed = true
		}
	}
	return allowed
}

// grants reads a function's policy statements: action -> the resources it is granted on.
func grants(t *testing.T, fn samtemplate.Function) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range fn.Policies {
		doc, ok := p.(map[string]any)
		if !ok || doc["Statement"] == nil {
			t.Fatalf("%s: policy %v is not an inline statement list; SAM policy templates grant more than a function needs", fn.LogicalID, mustJSON(p))
		}
		for _, s := range doc["Statement"].([]any) {
			st := s.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			for _, a := range list(st["Action"]) {
				for _, r := range list(st["Resource"]) {
					out[a.(string)] = append(out[a.(string)], mustJSON(r))
				}
			}
		}
	}
	return out
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// TestPoliciesAreLeastPrivilege runs every HTTP function's handler, each through its
// own recording DynamoDB client, over the seed API's success and error paths, and holds
// each function's policy to what it used: every action it needs is granted, and no
// DynamoDB action is granted that it does not use.
func TestPoliciesAreLeastPrivilege(t *testing.T) {
	tmpl := loadTemplate(t)
	base, table := testdb.Table(t)
	ctx := context.Background()
	key, _ := auth.KeyFromSeed([]byte(strings.Repeat("p", 64)))
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Their mains read the cursor key at cold start, creating it if it is missing.
	cursorKeyAtColdStart := map[string]bool{"ListTeamsFunction": true, "ListLeaderboardsFunction": true, "GetRankingsFunction": true,
		"DashboardTeamsFunction": true, "DashboardLeaderboardsFunction": true, "DashboardRankingsFunction": true}

	used := map[string]*recorder{}
	handlers := map[string]apigw.Handler{}
	stores := map[string]*store.Store{}
	for _, fn := range tmpl.Functions() {
		rec := &recorder{actions: map[string]bool{}}
		used[fn.LogicalID] = rec
		s := store.New(rec.client(base), table, time.Now)
		stores[fn.LogicalID] = s
		if fn.LogicalID == "TokenFunction" {
			// Its main publishes the public key at cold start.
			if err := s.PublishSigningKey(ctx, key.Public()); err != nil {
				t.Fatal(err)
			}
		}
		cursorKey := make([]byte, cursor.KeySize)
		if cursorKeyAtColdStart[fn.LogicalID] {
			// Each on a table of its own, so that each is the first and creates the key.
			_, fresh := testdb.Table(t)
			k, err := store.New(rec.client(base), fresh, time.Now).CursorKey(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cursorKey = k
		}
		if h, ok := localapi.Handlers(s, key, cursor.New(cursorKey), discard)[fn.LogicalID]; ok {
			handlers[fn.LogicalID] = h
		}
	}
	creds := auth.NewCredentials()
	tenant, err := store.New(base, table, time.Now).CreateTenant(ctx, creds)
	if err != nil {
		t.Fatal(err)
	}

	callPath := func(fn string, headers, params map[string]string, body string, query map[string]string) map[string]any {
		t.Helper()
		req := events.APIGatewayV2HTTPRequest{Headers: headers, Body: body, QueryStringParameters: query, PathParameters: params}
		resp, err := handlers[fn](ctx, req)
		if err != nil || resp.StatusCode >= 500 {
			t.Fatalf("%s: %d %s %v", fn, resp.StatusCode, resp.Body, err)
		}
		var out map[string]any
		json.Unmarshal([]byte(resp.Body), &out)
		return out
	}
	callQuery := func(fn string, headers map[string]string, id, body string, query map[string]string) map[string]any {
		t.Helper()
		var params map[string]string
		if id != "" {
			params = map[string]string{"id": id}
		}
		return callPath(fn, headers, params, body, query)
	}
	call := func(fn string, headers map[string]string, id, body string) map[string]any {
		t.Helper()
		return callQuery(fn, headers, id, body, nil)
	}
	call("PingFunction", nil, "", "")
	call("TokenFunction", map[string]string{"x-api-key": "wrong", "x-client-id": creds.ClientID, "x-client-secret": "wrong"}, "", "")
	token := call("TokenFunction", map[string]string{"x-api-key": creds.APIKey, "x-client-id": creds.ClientID, "x-client-secret": creds.ClientSecret}, "", "")["authToken"].(string)
	bearer := map[string]string{"authorization": "Bearer " + token}
	a := call("CreateTeamFunction", bearer, "", `{"teamName":"A"}`)["id"].(string)
	b := call("CreateTeamFunction", bearer, "", `{"teamName":"B"}`)["id"].(string)
	call("GetTeamFunction", bearer, a, "")
	call("UpdateTeamFunction", bearer, a, `{"team":{"teamName":"A2"}}`)
	call("UpdateTeamFunction", bearer, "01J00000000000000000000000", `{"team":{"teamName":"A2"}}`)
	board := call("CreateLeaderboardFunction", bearer, "", `{"name":"S","teams":["`+a+`","`+b+`"]}`)["id"].(string)
	call("CreateLeaderboardFunction", bearer, "", `{"name":"S","teams":["`+a+`","01J00000000000000000000000"]}`)
	call("CreateLeaderboardFunction", bearer, "", `{"name":"T","teams":[],"sortOrder":"asc","minScore":0}`)
	call("GetLeaderboardFunction", bearer, board, "")
	call("GetLeaderboardFunction", bearer, "01J00000000000000000000000", "")
	call("UpdateLeaderboardFunction", bearer, board, `{"leaderboard":{"name":"S2"}}`)
	call("UpdateLeaderboardFunction", bearer, "01J00000000000000000000000", `{"leaderboard":{"name":"S2"}}`)
	call("UpdateLeaderboardFunction", bearer, board, `{"leaderboard":{"name":"S2","sortOrder":"asc"}}`)
	for _, fn := range []string{"ListTeamsFunction", "ListLeaderboardsFunction"} {
		page := callQuery(fn, bearer, "", "", map[string]string{"limit": "1"})
		callQuery(fn, bearer, "", "", map[string]string{"limit": "1", "cursor": page["nextCursor"].(string)})
		callQuery(fn, bearer, "", "", nil)
		callQuery(fn, bearer, "", "", map[string]string{"cursor": "forged"})
		callQuery(fn, bearer, "", "", map[string]string{"limit": "0"})
	}
	// Scores and rankings, past enough splits (a small tree) to use every action.
	for _, st := range stores {
		st.SetTreeShape(2, 2)
	}
	member := func(team string) map[string]string { return map[string]string{"id": board, "teamId": team} }
	c := call("CreateTeamFunction", bearer, "", `{"teamName":"C"}`)["id"].(string)
	call("AddTeamsFunction", bearer, board, `{"teams":["`+c+`"]}`)
	call("AddTeamsFunction", bearer, board, `{"teams":["01J00000000000000000000000"]}`)
	for i, team := range []string{a, b, c, a, b, c, a} {
		call("SubmitScoresFunction", bearer, board, fmt.Sprintf(`{"teamId":%q,"score":%d}`, team, 10*i))
	}
	// More scored teams, so that removing one rewrites tree nodes below the root.
	var more []string
	for i := range 6 {
		more = append(more, call("CreateTeamFunction", bearer, "", fmt.Sprintf(`{"teamName":"M%d"}`, i))["id"].(string))
	}
	call("AddTeamsFunction", bearer, board, `{"teams":["`+strings.Join(more, `","`)+`"]}`)
	for i, team := range more {
		call("SubmitScoresFunction", bearer, board, fmt.Sprintf(`{"teamId":%q,"score":%d}`, team, 5*i+3))
	}
	// While another submit holds the board's combiner lease, a submit queues in the
	// inbox; when the lease lapses it takes it and combines.
	if _, err := base.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]dbtypes.AttributeValue{
		"PK": &dbtypes.AttributeValueMemberS{Value: "BOARD#" + tenant + "#" + board}, "SK": &dbtypes.AttributeValueMemberS{Value: "LEASE"},
		"holder": &dbtypes.AttributeValueMemberS{Value: "another"}, "until": &dbtypes.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(300 * time.Millisecond).UnixMilli())},
	}}); err != nil {
		t.Fatal(err)
	}
	call("SubmitScoresFunction", bearer, board, fmt.Sprintf(`{"teamId":%q,"score":77}`, more[0]))
	idem := map[string]string{"authorization": bearer["authorization"], "idempotency-key": "k1"}
	batch := `{"scores":[{"teamId":"` + a + `","score":99},{"teamId":"` + b + `","score":1,"operator":"increment"}]}`
	callPath("SubmitScoresFunction", idem, map[string]string{"id": board}, batch, nil)
	callPath("SubmitScoresFunction", idem, map[string]string{"id": board}, batch, nil)
	call("SubmitScoresFunction", bearer, board, `{"teamId":"01J00000000000000000000000","score":1}`)
	page := callQuery("GetRankingsFunction", bearer, board, "", map[string]string{"limit": "1"})
	callQuery("GetRankingsFunction", bearer, board, "", map[string]string{"cursor": page["nextCursor"].(string)})
	callPath("GetTeamRankFunction", bearer, member(a), "", map[string]string{"around": "2"})
	callPath("GetTeamRankFunction", bearer, member("01J00000000000000000000000"), "", nil)
	call("UpdateTeamFunction", bearer, b, `{"team":{"teamName":"B2"}}`) // a scored member: rankings follow
	callPath("RemoveTeamFunction", bearer, member(c), "", nil)
	callPath("RemoveTeamFunction", bearer, member(c), "", nil)
	// The scheduled check of sampled boards (not an HTTP function).
	if res, err := boardcheck.Scheduled(stores["CheckBoardsFunction"], discard, time.Now)(ctx, []byte(`{"source":"leaderboard.boardcheck"}`)); err != nil || res.Checked == 0 {
		t.Fatalf("board check = %+v, %v", res, err)
	}
	exerciseAccounts(t, handlers, store.New(base, table, time.Now))
	call("DeleteTeamFunction", bearer, a, "")
	call("DeleteTeamFunction", bearer, a, "")
	call("DeleteLeaderboardFunction", bearer, board, "")
	call("DeleteLeaderboardFunction", bearer, board, "")

	for _, fn := range tmpl.Functions() {
		t.Run(fn.LogicalID, func(t *testing.T) {
			granted := grants(t, fn)
			var need, extra []string
			for a := range used[fn.LogicalID].actions {
				if _, ok := granted[a]; !ok {
					need = append(need, a)
				}
			}
			for a, resources := range granted {
				switch service, _, _ := strings.Cut(a, ":"); service {
				case "dynamodb":
					if !used[fn.LogicalID].actions[a] {
						extra = append(extra, a)
					}
					for _, r := range resources {
						if r != `{"Fn::GetAtt":["Table","Arn"]}` && r != `{"Fn::Sub":"${Table.Arn}/index/*"}` {
							t.Errorf("%s granted on %s: only the table and its indexes", a, r)
						}
					}
				case "secretsmanager":
					if fn.LogicalID != "TokenFunction" || a != "secretsmanager:GetSecretValue" || !slices.Equal(resources, []string{`{"Ref":"SigningKeySecret"}`}) {
						t.Errorf("%s granted %s on %v: only the token function may read its own secret", fn.LogicalID, a, resources)
					}
				default:
					t.Errorf("%s granted %s: not a service it uses", fn.LogicalID, a)
				}
			}
			sts := statements(t, fn)
			denied := map[string]bool{}
			for _, a := range used[fn.LogicalID].accesses {
				if !allows(sts, a.action, a.pk) && !denied[a.action+" "+a.pk] {
					denied[a.action+" "+a.pk] = true
					t.Errorf("the code calls %s on partition %q, which the policy does not allow there (AccessDenied in AWS)", a.action, a.pk)
				}
			}
			sort.Strings(need)
			sort.Strings(extra)
			if len(need) > 0 {
				t.Errorf("the code calls %v but the policy does not grant it (AccessDenied in AWS)", need)
			}
			if len(extra) > 0 {
				t.Errorf("the policy grants %v that the code never calls", extra)
			}
		})
	}
}

// exerciseAccounts runs the dashboard's functions over their success and error paths:
// sign-up, sign-in (failed and not), the clients, the dashboard's reads of a board, and
// sign-out. plain writes what the flow needs but does not test.
func exerciseAccounts(t *testing.T, handlers map[string]apigw.Handler, plain *store.Store) {
	t.Helper()
	ctx := context.Background()
	const host = "abc123.execute-api.us-east-1.amazonaws.com"
	call := func(fn, method, session string, params map[string]string, body string, query map[string]string, want int) events.APIGatewayV2HTTPResponse {
		t.Helper()
		req := events.APIGatewayV2HTTPRequest{
			Headers: map[string]string{"host": host, "origin": "https://" + host}, Body: body,
			PathParameters: params, QueryStringParameters: query,
		}
		if session != "" {
			req.Cookies = []string{api.SessionCookie + "=" + session}
		}
		req.RequestContext.DomainName = host
		req.RequestContext.HTTP.Method = method
		req.RequestContext.HTTP.SourceIP = "203.0.113.7"
		resp, err := handlers[fn](ctx, req)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("%s: %d %s %v, want %d", fn, resp.StatusCode, resp.Body, err, want)
		}
		return resp
	}
	sessionOf := func(resp events.APIGatewayV2HTTPResponse) string {
		t.Helper()
		for _, c := range resp.Cookies {
			if v, ok := strings.CutPrefix(c, api.SessionCookie+"="); ok {
				v, _, _ = strings.Cut(v, ";")
				return v
			}
		}
		t.Fatalf("no session cookie in %v", resp.Cookies)
		return ""
	}
	signIn := `{"email":"ada@example.com","password":"correct horse battery staple"}`
	call("SignUpFunction", "POST", "", nil, signIn, nil, 201)
	call("SignUpFunction", "POST", "", nil, signIn, nil, 409)
	call("SignInFunction", "POST", "", nil, `{"email":"ada@example.com","password":"wrong horse battery staple"}`, nil, 401)
	session := sessionOf(call("SignInFunction", "POST", "", nil, signIn, nil, 200))
	var me struct{ TenantID string }
	json.Unmarshal([]byte(call("WhoAmIFunction", "GET", session, nil, "", nil, 200).Body), &me)
	var client struct{ ClientID, APIKey, ClientSecret string }
	json.Unmarshal([]byte(call("CreateClientFunction", "POST", session, nil, `{"label":"game server"}`, nil, 201).Body), &client)
	call("ListClientsFunction", "GET", session, nil, "", nil, 200)
	// A token marks the client used.
	if resp, err := handlers["TokenFunction"](ctx, events.APIGatewayV2HTTPRequest{Headers: map[string]string{
		"x-api-key": client.APIKey, "x-client-id": client.ClientID, "x-client-secret": client.ClientSecret,
	}}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token of a dashboard client: %d %s %v", resp.StatusCode, resp.Body, err)
	}
	call("RevokeClientFunction", "DELETE", session, map[string]string{"clientId": client.ClientID}, "", nil, 204)
	call("RevokeClientFunction", "DELETE", session, map[string]string{"clientId": auth.NewCredentials().ClientID}, "", nil, 404)

	// The dashboard's reads of the tenant's boards.
	var teams []string
	for _, name := range []string{"Reds", "Blues"} {
		team, err := plain.CreateTeam(ctx, me.TenantID, name)
		if err != nil {
			t.Fatal(err)
		}
		teams = append(teams, team.ID)
	}
	var boards []string
	for _, name := range []string{"Cup", "League"} {
		board, err := plain.CreateLeaderboard(ctx, me.TenantID, name, store.Settings{}, teams)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plain.SubmitScores(ctx, me.TenantID, board.ID, []store.Submission{{TeamID: teams[0], Score: 10}, {TeamID: teams[1], Score: 5}}, ""); err != nil {
			t.Fatal(err)
		}
		boards = append(boards, board.ID)
	}
	board := boards[0]
	for _, fn := range []string{"DashboardLeaderboardsFunction", "DashboardTeamsFunction"} {
		var page struct{ NextCursor string }
		json.Unmarshal([]byte(call(fn, "GET", session, nil, "", map[string]string{"limit": "1"}, 200).Body), &page)
		call(fn, "GET", session, nil, "", map[string]string{"limit": "1", "cursor": page.NextCursor}, 200)
	}
	var page struct{ NextCursor string }
	json.Unmarshal([]byte(call("DashboardRankingsFunction", "GET", session, map[string]string{"id": board}, "", map[string]string{"limit": "1"}, 200).Body), &page)
	call("DashboardRankingsFunction", "GET", session, map[string]string{"id": board}, "", map[string]string{"cursor": page.NextCursor}, 200)
	call("DashboardTeamRankFunction", "GET", session, map[string]string{"id": board, "teamId": teams[1]}, "", map[string]string{"around": "1"}, 200)
	call("SignOutFunction", "POST", session, nil, "", nil, 204)
	call("WhoAmIFunction", "GET", session, nil, "", nil, 401)
}

// TestTrustAnchor holds the template to who may write what every verifier trusts: only
// the token function writes signing keys, and only the dashboard's credentials
// functions write clients; every other function is denied both explicitly, whatever
// else it is allowed. TestPoliciesAreLeastPrivilege proves the other direction: the
// functions that must write them can.
func TestTrustAnchor(t *testing.T) {
	writers := map[string][]string{
		"SIGNINGKEY":      {"TokenFunction"},
		"CLIENT#lb_cid_x": {"CreateClientFunction", "RevokeClientFunction"},
	}
	for _, fn := range loadTemplate(t).Functions() {
		sts := statements(t, fn)
		for pk, may := range writers {
			for _, action := range []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} {
				if allows(sts, action, pk) && !slices.Contains(may, fn.LogicalID) {
					t.Errorf("%s may %s on %s: only %v may write there", fn.LogicalID, action, pk, may)
				}
			}
			if slices.Contains(may, fn.LogicalID) {
				continue
			}
			denied := false
			for _, s := range sts {
				denied = denied || (s.effect == "Deny" && s.matches("dynamodb:PutItem", pk) && s.matches("dynamodb:UpdateItem", pk))
			}
			if len(sts) > 0 && !denied {
				t.Errorf("%s has no explicit Deny of writes on %s", fn.LogicalID, pk)
			}
		}
	}
	// The token function reads only clients and signing keys (and its own quota).
	for _, fn := range loadTemplate(t).Functions() {
		if fn.LogicalID == "TokenFunction" && allows(statements(t, fn), "dynamodb:GetItem", "TENANT#x") {
			t.Errorf("the token function may read tenants' items")
		}
	}
}
