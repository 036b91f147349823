package emulator_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/apigw"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/emulator"
	"github.com/leaderboardapi/leaderboard/pkg/samtemplate"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var (
	repoRoot  = filepath.Join("..", "..")
	eventsDir = filepath.Join(repoRoot, "events")
)

// present stands for "any non-empty value" in want.fields.
var present = struct{}{}

// want is what a sample event must get back.
type want struct {
	status int            // HTTP status; 0 for an event that is not an HTTP request
	text   string         // for a body that is not JSON: a part of it
	body   string         // the whole body as JSON ("" with no fields: no body at all)
	fields map[string]any // or: these fields of the JSON body
}

// expected holds every sample in events/; a sample without an entry fails the tests.
var expected = map[string]want{
	"ping.json":                 {status: 200, body: `{"status":"OK"}`},
	"ping-schedule.json":        {body: `{"status":"OK"}`},
	"check-boards.json":         {body: `{"checked":0,"drifted":0}`},
	"token.json":                {status: 200, fields: map[string]any{"authToken": present, "expiresIn": 3600.0}},
	"token-no-credentials.json": {status: 401, body: `{"message":"Invalid Credentials"}`},
	"create-team.json": {status: 201, fields: map[string]any{
		"teamName": "Red Rockets", "id": present, "createdAt": present, "modifiedAt": present}},
	"get-team.json":    {status: 200, fields: map[string]any{"teamName": "Sample Team", "id": present}},
	"update-team.json": {status: 200, fields: map[string]any{"teamName": "Blue Rockets", "id": present}},
	"delete-team.json": {status: 204},
	"create-leaderboard.json": {status: 201, fields: map[string]any{
		"name": "Season One", "id": present, "teams": present}},
	"get-leaderboard.json":    {status: 200, fields: map[string]any{"name": "Sample Leaderboard", "id": present}},
	"update-leaderboard.json": {status: 200, fields: map[string]any{"name": "Season Two", "id": present}},
	"list-teams.json":         {status: 200, fields: map[string]any{"teams": present}},
	"list-leaderboards.json":  {status: 200, fields: map[string]any{"leaderboards": present}},
	"delete-leaderboard.json": {status: 204},
	// The Filler puts an event's {{teamId}} on its {{leaderboardId}}, with no score yet.
	"add-teams.json":           {status: 204},
	"remove-team.json":         {status: 204},
	"get-rankings.json":        {status: 200, fields: map[string]any{"rankings": present}},
	"get-team-rank.json":       {status: 404, body: `{"message":"team has no score on this leaderboard"}`},
	"submit-scores.json":       {status: 200, fields: map[string]any{"teamId": present, "score": 42.0, "rank": 1.0}},
	"submit-scores-batch.json": {status: 200, fields: map[string]any{"scores": present}},
	// The dashboard and its accounts, signed in with the Filler's {{session}}.
	"sign-up.json":                {status: 201, fields: map[string]any{"email": present, "tenantId": present}},
	"sign-in.json":                {status: 200, fields: map[string]any{"email": present, "tenantId": present}},
	"sign-out.json":               {status: 204},
	"who-am-i.json":               {status: 200, fields: map[string]any{"email": present, "tenantId": present}},
	"list-clients.json":           {status: 200, fields: map[string]any{"clients": present}},
	"create-client.json":          {status: 201, fields: map[string]any{"label": "Game server", "apiKey": present, "clientSecret": present}},
	"revoke-client.json":          {status: 204},
	"dashboard.json":              {status: 200, text: "<title>"},
	"dashboard-leaderboards.json": {status: 200, fields: map[string]any{"leaderboards": present}},
	"dashboard-teams.json":        {status: 200, fields: map[string]any{"teams": present}},
	"dashboard-rankings.json":     {status: 200, fields: map[string]any{"rankings": present}},
	"dashboard-team-rank.json":    {status: 404, body: `{"message":"team has no score on this leaderboard"}`},
	"open-api.json":               {status: 200, fields: map[string]any{"openapi": "3.0.3", "paths": present}},
	"docs.json":                   {status: 200, text: `<script type="module" src="/docs/docs.js">`},
}

func loadTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load(testdb.TemplatePath())
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// eventFiles maps every function of the template to its samples, failing when a function
// has no events/<folder>.json.
func eventFiles(t *testing.T, fns []samtemplate.Function) map[string][]string {
	t.Helper()
	var folders []string
	for _, fn := range fns {
		folders = append(folders, emulator.Folder(fn.LogicalID))
	}
	files, err := emulator.EventFiles(eventsDir, folders)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		folder := emulator.Folder(fn.LogicalID)
		if !slices.Contains(files[folder], filepath.Join(eventsDir, folder+".json")) {
			t.Errorf("%s has no sample event: add events/%s.json", fn.LogicalID, folder)
		}
	}
	return files
}

func TestFolder(t *testing.T) {
	tests := []struct {
		name, logicalID, want string
	}{
		{"one word", "PingFunction", "ping"},
		{"two words", "CreateLeaderboardFunction", "create-leaderboard"},
		{"initialism", "RotateAPIKeyFunction", "rotate-api-key"},
		{"no suffix", "GetTeam", "get-team"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := emulator.Folder(tt.logicalID); got != tt.want {
				t.Errorf("Folder(%q) = %q, want %q", tt.logicalID, got, tt.want)
			}
		})
	}
}

// The Makefile's FUNCTIONS list, Folder and functions/ must agree on every function of
// the template, or make invoke and the tests would build one thing and send another.
func TestFoldersAgreeWithMakefile(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(\w+Function):([\w-]+)`).FindAllStringSubmatch(string(makefile), -1) {
		listed[m[1]] = m[2]
	}
	fns := loadTemplate(t).Functions()
	if len(listed) != len(fns) {
		t.Errorf("Makefile FUNCTIONS lists %d functions, template.yaml has %d", len(listed), len(fns))
	}
	for _, fn := range fns {
		folder := emulator.Folder(fn.LogicalID)
		if listed[fn.LogicalID] != folder {
			t.Errorf("Makefile FUNCTIONS has %s:%s, want %s:%s", fn.LogicalID, listed[fn.LogicalID], fn.LogicalID, folder)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, "functions", folder, "main.go")); err != nil {
			t.Errorf("%s: %v", fn.LogicalID, err)
		}
	}
}

// Every sample is an event its function really gets: an HTTP API payload 2.0 request on
// one of its routes, or the Input of one of its schedules, and has an expectation.
func TestEventsMatchTemplate(t *testing.T) {
	fns := loadTemplate(t).Functions()
	files := eventFiles(t, fns)
	seen := map[string]bool{}
	for _, fn := range fns {
		for _, path := range files[emulator.Folder(fn.LogicalID)] {
			name := filepath.Base(path)
			seen[name] = true
			t.Run(name, func(t *testing.T) {
				if _, ok := expected[name]; !ok {
					t.Errorf("no expectation for %s: add it to expected", name)
				}
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				var probe map[string]any
				if err := json.Unmarshal(data, &probe); err != nil {
					t.Fatalf("not JSON: %v", err)
				}
				if _, ok := probe["version"]; ok {
					checkHTTPEvent(t, fn, data)
				} else {
					checkScheduleEvent(t, fn, probe)
				}
			})
		}
	}
	for name := range expected {
		if !seen[name] {
			t.Errorf("expected names %s, which is not in events/", name)
		}
	}
}

func checkHTTPEvent(t *testing.T, fn samtemplate.Function, data []byte) {
	t.Helper()
	var req apigw.Request
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatal(err)
	}
	var method, path string
	for _, e := range fn.Events {
		m, _ := e.Properties["Method"].(string)
		p, _ := e.Properties["Path"].(string)
		if e.Type == "HttpApi" && strings.ToUpper(m)+" "+p == req.RouteKey {
			method, path = strings.ToUpper(m), p
		}
	}
	if path == "" {
		t.Fatalf("routeKey %q is not a route of %s", req.RouteKey, fn.LogicalID)
	}
	ctx := req.RequestContext
	checks := []struct {
		what      string
		got, want any
	}{
		{"version", req.Version, "2.0"},
		{"requestContext.routeKey", ctx.RouteKey, req.RouteKey},
		{"requestContext.stage", ctx.Stage, "$default"},
		{"requestContext.http.method", ctx.HTTP.Method, method},
		{"requestContext.http.path", ctx.HTTP.Path, req.RawPath},
		{"requestContext.http.protocol", ctx.HTTP.Protocol, "HTTP/1.1"},
		{"rawPath matches the route", pathPattern(path).MatchString(req.RawPath), true},
		{"has requestId, time, timeEpoch, accountId, apiId, domainName and sourceIp",
			ctx.RequestID != "" && ctx.Time != "" && ctx.TimeEpoch > 0 && ctx.AccountID != "" &&
				ctx.APIID != "" && ctx.DomainName != "" && ctx.HTTP.SourceIP != "" && ctx.HTTP.UserAgent != "", true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	for name := range req.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q: HTTP API sends header names in lower case", name)
		}
	}
	for _, param := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
		if req.PathParameters[param[1]] == "" {
			t.Errorf("pathParameters.%s is missing", param[1])
		}
	}
}

// pathPattern matches the raw paths of a route such as /v1/team/{id}.
func pathPattern(route string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.MustCompile(`\\\{\w+\\\}`).ReplaceAllString(regexp.QuoteMeta(route), `[^/]+`) + "$")
}

func checkScheduleEvent(t *testing.T, fn samtemplate.Function, event map[string]any) {
	t.Helper()
	for _, e := range fn.Events {
		input, ok := e.Properties["Input"].(string)
		if e.Type != "ScheduleV2" || !ok {
			continue
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(input), &want); err != nil {
			t.Fatalf("%s Input: %v", e.Name, err)
		}
		if reflect.DeepEqual(event, want) {
			return
		}
	}
	t.Errorf("neither an HTTP API event nor the Input of a ScheduleV2 event of %s", fn.LogicalID)
}

func TestEventFilesRejectsStrays(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"ping.json", "ping-schedule.json", "get-team-gone.json", "README.md"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := emulator.EventFiles(dir, []string{"ping", "get-team", "get"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"ping":     {filepath.Join(dir, "ping-schedule.json"), filepath.Join(dir, "ping.json")},
		"get-team": {filepath.Join(dir, "get-team-gone.json")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EventFiles = %v, want %v", got, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "pnig.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := emulator.EventFiles(dir, []string{"ping", "get-team", "get"}); err == nil || !strings.Contains(err.Error(), "pnig.json") {
		t.Errorf("EventFiles with a misnamed sample: err = %v, want one naming pnig.json", err)
	}
}

func TestEnvironment(t *testing.T) {
	fns := map[string]samtemplate.Function{}
	for _, fn := range loadTemplate(t).Functions() {
		fns[fn.LogicalID] = fn
	}
	local := emulator.Local{Table: "leaderboard-local", DynamoDBEndpoint: "http://127.0.0.1:8000", SigningKeyFile: "/repo/.local/signing.key",
		Parameters: loadTemplate(t).ParameterDefaults()}
	common := map[string]string{
		"TABLE_NAME":                      "leaderboard-local",
		"DYNAMODB_ENDPOINT":               "http://127.0.0.1:8000",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "10",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"TZ":                              ":UTC",
		// The template's parameters, at their defaults.
		"QUOTA_READ":  "100/200",
		"QUOTA_WRITE": "50/100",
		"QUOTA_TOKEN": "1/10",
	}
	with := func(extra map[string]string) map[string]string {
		m := maps.Clone(common)
		maps.Copy(m, extra)
		return m
	}
	tests := []struct {
		name    string
		fn      samtemplate.Function
		want    map[string]string
		wantErr string
	}{
		{"ping", fns["PingFunction"], with(map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "PingFunction"}), ""},
		{"token: a key file for the secret", fns["TokenFunction"], with(map[string]string{
			"AWS_LAMBDA_FUNCTION_NAME": "TokenFunction", "SIGNING_KEY_FILE": "/repo/.local/signing.key", "SIGNING_KEY_ROTATION": "0"}), ""},
		{"an intrinsic with no local value", samtemplate.Function{
			LogicalID:   "XFunction",
			Environment: map[string]any{"QUEUE_URL": map[string]any{"Ref": "Queue"}},
		}, nil, "QUEUE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := emulator.Environment(tt.fn, local)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Environment: err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("Environment =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

// countingStore records what a Filler creates.
type countingStore struct {
	tenants, keys, teams, boards, members, sessions int
}

func (s *countingStore) CreateAccount(ctx context.Context, email, passwordHash string) (store.Account, error) {
	s.tenants++
	return store.Account{Email: email, TenantID: "tenant1"}, nil
}

func (s *countingStore) CreateClient(ctx context.Context, tenant string, creds auth.Credentials, label string) (store.ClientInfo, error) {
	return store.ClientInfo{ClientID: creds.ClientID, Label: label}, nil
}

func (s *countingStore) CreateSession(ctx context.Context, id string, acct store.Account, expires time.Time) error {
	s.sessions++
	return nil
}

func (s *countingStore) PublishSigningKey(ctx context.Context, pub ed25519.PublicKey) error {
	s.keys++
	return nil
}

func (s *countingStore) CreateTeam(ctx context.Context, tenant, name string) (store.Team, error) {
	s.teams++
	return store.Team{ID: fmt.Sprintf("team%d", s.teams), Name: name}, nil
}

func (s *countingStore) CreateLeaderboard(ctx context.Context, tenant, name string, settings store.Settings, teams []string) (store.Leaderboard, error) {
	s.boards++
	s.members += len(teams)
	return store.Leaderboard{ID: fmt.Sprintf("board%d", s.boards), Name: name}, nil
}

func TestFill(t *testing.T) {
	key, err := auth.KeyFromSeed(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		event   string
		want    countingStore // what Fill creates
		wantErr string
	}{
		{"no placeholders", `{"source":"x"}`, countingStore{}, ""},
		{"credentials", `{"a":"{{apiKey}}","b":"{{clientId}}","c":"{{clientSecret}}"}`, countingStore{tenants: 1}, ""},
		{"token", `{"authorization":"Bearer {{token}}"}`, countingStore{tenants: 1, keys: 1}, ""},
		{"one team per event", `{"rawPath":"/v1/team/{{teamId}}","pathParameters":{"id":"{{teamId}}"}}`,
			countingStore{tenants: 1, teams: 1}, ""},
		{"a leaderboard", `{"rawPath":"/v1/leaderboard/{{leaderboardId}}"}`, countingStore{tenants: 1, boards: 1}, ""},
		{"a team on a leaderboard", `{"rawPath":"/v1/leaderboard/{{leaderboardId}}/teams/{{teamId}}"}`,
			countingStore{tenants: 1, teams: 1, boards: 1, members: 1}, ""},
		{"a session", `{"cookies":["lb_session={{session}}"],"body":"{{email}}"}`, countingStore{tenants: 1, sessions: 1}, ""},
		{"a new address", `{"body":"{{newEmail}}"}`, countingStore{}, ""},
		{"unknown", `{"a":"{{apikey}}"}`, countingStore{}, "{{apikey}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &countingStore{}
			got, err := emulator.NewFiller(s, key).Fill(context.Background(), []byte(tt.event))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Fill: err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(got, []byte("{{")) || !json.Valid(got) {
				t.Errorf("Fill = %s, want valid JSON with every placeholder filled", got)
			}
			if *s != tt.want {
				t.Errorf("Fill created %+v, want %+v", *s, tt.want)
			}
		})
	}
}

// TestFunctions builds every function's bootstrap for this machine, runs each under the
// emulator against DynamoDB Local, and sends it each of its samples.
func TestFunctions(t *testing.T) {
	ctx := context.Background()
	rie, err := emulator.Install(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fns := loadTemplate(t).Functions()
	files := eventFiles(t, fns)
	bootstraps := buildAll(t, fns)

	db, table := testdb.Table(t)
	keyFile := filepath.Join(t.TempDir(), "signing.key")
	key, err := auth.KeyFromFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	filler := emulator.NewFiller(store.New(db, table, time.Now), key)
	local := emulator.Local{Table: table, DynamoDBEndpoint: testdb.Endpoint(), SigningKeyFile: keyFile, Parameters: loadTemplate(t).ParameterDefaults()}
	var ping samtemplate.Function

	for _, fn := range fns {
		if fn.LogicalID == "PingFunction" {
			ping = fn
		}
		t.Run(fn.LogicalID, func(t *testing.T) {
			f := start(t, rie, bootstraps[fn.LogicalID], environment(t, fn, local))
			for _, path := range files[emulator.Folder(fn.LogicalID)] {
				t.Run(filepath.Base(path), func(t *testing.T) {
					event := fill(t, filler, path)
					resp, err := f.Invoke(ctx, event)
					if err != nil {
						t.Fatalf("Invoke: %v\noutput:\n%s", err, f.Output())
					}
					checkResponse(t, expected[filepath.Base(path)], event, resp)
					report, err := f.Report(ctx)
					if err != nil || !strings.Contains(report, "\tDuration: ") {
						t.Errorf("Report = %q, %v; want a REPORT line with a Duration", report, err)
					}
				})
			}
			checkRuntimeStops(t, f)
		})
	}

	t.Run("ping without its table", func(t *testing.T) {
		missing := local
		missing.Table = "no-such-table"
		f := start(t, rie, bootstraps[ping.LogicalID], environment(t, ping, missing))

		event := fill(t, filler, filepath.Join(eventsDir, "ping.json"))
		resp, err := f.Invoke(ctx, event)
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		checkResponse(t, want{status: 500, body: `{"status":"NOT OK"}`}, event, resp)

		resp, err = f.Invoke(ctx, fill(t, filler, filepath.Join(eventsDir, "ping-schedule.json")))
		var fe *emulator.FunctionError
		if !errors.As(err, &fe) || fe.Message != "health check: table unreachable" {
			t.Errorf("scheduled ping: Invoke = %s, %v; want the function error \"health check: table unreachable\"", resp, err)
		}
	})

	t.Run("init without TABLE_NAME", func(t *testing.T) {
		env := environment(t, ping, local)
		delete(env, "TABLE_NAME")
		f := start(t, rie, bootstraps[ping.LogicalID], env)
		const message = "environment variable TABLE_NAME is not set"
		// RIE starts the bootstrap again on every invoke after a failed init, as Lambda does.
		for i := range 2 {
			resp, err := f.Invoke(ctx, []byte(`{"source":"leaderboard.healthcheck"}`))
			if !errors.Is(err, emulator.ErrRuntimeFailed) || !strings.Contains(err.Error(), message) {
				t.Fatalf("invoke %d = %s, %v; want ErrRuntimeFailed with the panic %q", i+1, resp, err, message)
			}
		}
		if got := strings.Count(f.Output(), message); got != 2 {
			t.Errorf("output holds %q %d times, want once per init:\n%s", message, got, f.Output())
		}
	})
}

// buildAll builds every function for this machine, one after the other: on 2 cores a
// parallel `go build` would only compile the shared packages twice at once.
func buildAll(t *testing.T, fns []samtemplate.Function) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for _, fn := range fns {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		path, err := emulator.Build(ctx, fn.LogicalID, runtime.GOARCH, filepath.Join(dir, fn.LogicalID))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		paths[fn.LogicalID] = path
	}
	return paths
}

func environment(t *testing.T, fn samtemplate.Function, local emulator.Local) map[string]string {
	t.Helper()
	env, err := emulator.Environment(fn, local)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func start(t *testing.T, rie, bootstrap string, env map[string]string) *emulator.Function {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := emulator.Start(ctx, emulator.Options{Bootstrap: bootstrap, Env: env, RIE: rie})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Stop(); err != nil {
			t.Error(err)
		}
	})
	return f
}

func fill(t *testing.T, filler *emulator.Filler, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	event, err := filler.Fill(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	return event
}

func checkResponse(t *testing.T, w want, event, resp []byte) {
	t.Helper()
	body := resp
	if w.status != 0 {
		var r events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(resp, &r); err != nil {
			t.Fatalf("response %s: %v", resp, err)
		}
		if r.StatusCode != w.status {
			t.Errorf("status = %d, want %d (body %s)", r.StatusCode, w.status, r.Body)
		}
		body = []byte(r.Body)
	}
	if w.text != "" {
		if !strings.Contains(string(body), w.text) {
			t.Errorf("body %.200s..., want it to hold %q", body, w.text)
		}
		return
	}
	if w.body == "" && w.fields == nil {
		if len(body) != 0 {
			t.Errorf("body = %s, want none", body)
		}
		return
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if w.body != "" {
		var want map[string]any
		if err := json.Unmarshal([]byte(w.body), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("body = %s, want %s", body, w.body)
		}
	}
	for k, v := range w.fields {
		switch {
		case v == present && (got[k] == nil || got[k] == ""):
			t.Errorf("body %s: want a value for %s", body, k)
		case v != present && !reflect.DeepEqual(got[k], v):
			t.Errorf("body %s: %s = %v, want %v", body, k, got[k], v)
		}
	}
	// The id a path names is the id of what comes back, if it has one.
	var req events.APIGatewayV2HTTPRequest
	if id, ok := got["id"]; ok && json.Unmarshal(event, &req) == nil && req.PathParameters["id"] != "" && id != req.PathParameters["id"] {
		t.Errorf("body id = %v, want %s from the path", id, req.PathParameters["id"])
	}
}

// checkRuntimeStops checks that the bootstrap ran (and how much memory it took) against
// the Runtime API that RuntimeAPI names, and that Stop ends it.
func checkRuntimeStops(t *testing.T, f *emulator.Function) {
	t.Helper()
	pid, err := f.RuntimePID()
	if err != nil {
		t.Fatal(err)
	}
	rss, err := emulator.PeakRSS(pid)
	if err != nil || rss < 1<<20 {
		t.Errorf("PeakRSS(%d) = %d, %v; want at least 1 MB", pid, rss, err)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	if want := "AWS_LAMBDA_RUNTIME_API=" + f.RuntimeAPI; !slices.Contains(strings.Split(string(environ), "\x00"), want) {
		t.Errorf("bootstrap %d has no %s in its environment", pid, want)
	}
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	// Gone, or a zombie until its new parent reaps it.
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := bytes.LastIndexByte(stat, ')'); i < 0 || !bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
			t.Errorf("bootstrap %d still runs after Stop: %s", pid, stat)
		}
	}
}
