package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/leaderboardapi/leaderboard/internal/localtest"
	"github.com/leaderboardapi/leaderboard/internal/testdb"
	"github.com/leaderboardapi/leaderboard/pkg/auth"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// waitFor bounds every step in the browser, so a failure is quick and names its step.
const waitFor = 20 * time.Second

// TestBrowserDashboard drives the dashboard in headless Chromium against the whole local
// stack (DynamoDB Local, every route of template.yaml behind the local API Gateway):
// sign up and sign in with their errors, credentials shown once and used on the game
// API, boards and teams with paging, live rankings that follow new scores without a
// reload, a rank with its neighbours, user text shown as text, revoking a client, and
// signing out. It saves a screenshot of each page.
func TestBrowserDashboard(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		// Ubuntu's and some older distributions' name for it.
		if chromium, err = exec.LookPath("chromium-browser"); err != nil {
			t.Fatal("chromium is not installed: apt-get install -y chromium")
		}
	}
	api := startStack(t)
	b := startBrowser(t, chromium, api.url)

	email := fmt.Sprintf("owner-%d@example.com", time.Now().UnixNano())
	const password = "correct horse battery staple"

	// Sign up: a too-short password is refused with the API's reason.
	b.open("/dashboard")
	b.waitVisible("the sign-in page for a visitor", "#view-signin")
	b.click("the link to sign up", "#to-signup")
	b.waitVisible("the sign-up page", "#view-signup")
	b.fill("#signup-email", email)
	b.fill("#signup-password", "short")
	b.click("create account", "#signup-submit")
	b.waitText("the too-short password's error", "#error", "at least 12 characters")
	b.screenshot("01-sign-up")
	b.fill("#signup-password", password)
	b.click("create account", "#signup-submit")
	b.waitVisible("the credentials page after signing up", "#view-credentials")
	b.waitText("the signed-in email", "#account-email", email)

	// Sign out, then sign in: a wrong password is refused, the right one is taken.
	b.click("sign out", "#signout")
	b.waitVisible("the sign-in page after signing out", "#view-signin")
	b.fill("#signin-email", email)
	b.fill("#signin-password", "not the password at all")
	b.click("sign in", "#signin-submit")
	b.waitText("the wrong password's error", "#error", "invalid email or password")
	b.screenshot("02-sign-in")
	// By keyboard alone: Tab to the button, which shows its focus, and Enter.
	b.fill("#signin-password", password)
	b.run("press Tab", chromedp.KeyEvent("\t"))
	if got := b.evalString(`document.activeElement.id + ' ' + getComputedStyle(document.activeElement).outlineStyle`); got != "signin-submit solid" {
		t.Errorf("Tab from the password focuses %q, want the sign-in button with a solid outline", got)
	}
	b.run("press Enter", chromedp.KeyEvent("\r"))
	b.waitVisible("the leaderboards page after signing in", "#view-boards")
	b.waitText("the empty leaderboards list", "#boards-empty", "No leaderboards yet")

	// Credentials: created in the page, shown once, usable on the game API.
	b.click("the credentials link", "#nav-credentials")
	b.waitVisible("the credentials page", "#view-credentials")
	b.fill("#client-label", "Game servers")
	b.click("create client", "#client-create")
	b.waitVisible("the new client's once-shown secret", "#new-secret")
	b.waitText("the once-shown warning", "#new-secret-warning", "Shown only once")
	creds := auth.Credentials{
		APIKey:       b.text("#new-api-key"),
		ClientID:     b.text("#new-client-id"),
		ClientSecret: b.text("#new-client-secret"),
	}
	for name, v := range map[string]string{"API key": creds.APIKey, "client id": creds.ClientID, "client secret": creds.ClientSecret} {
		if len(v) < 20 {
			t.Fatalf("the page shows the %s as %q", name, v)
		}
	}
	b.waitText("the new client in the list", rowOf(creds.ClientID), "Active")
	b.click("copy the API key", "#copy-api-key")
	b.waitText("the copy's outcome", "#notice", "API key")
	b.screenshot("03-credentials-once")
	b.click("I have saved them", "#new-secret-done")
	b.waitHidden("the secret, once dismissed", "#new-secret")
	if s := b.text("#new-client-secret"); s != "" {
		t.Fatalf("the secret is still in the page after it was dismissed: %q", s)
	}

	game := api.game(t, creds)
	var teams []string
	for i := 1; i <= 30; i++ {
		teams = append(teams, game.create("/v1/team", map[string]any{"teamName": fmt.Sprintf("Team %02d", i)}))
	}
	xssTeam := `<b>Bold</b> & <img src=x onerror=alert(2)>`
	teams = append(teams, game.create("/v1/team", map[string]any{"teamName": xssTeam}))
	unscored := game.create("/v1/team", map[string]any{"teamName": "Benched"})
	board := game.create("/v1/leaderboard", map[string]any{"name": "Season 1", "teams": append(teams, unscored)})
	game.create("/v1/leaderboard", map[string]any{"name": "Practice", "teams": []string{}})
	var scores []map[string]any
	for i, id := range teams {
		scores = append(scores, map[string]any{"teamId": id, "score": 100 + 10*(i+1)}) // Team 01 110 ... xssTeam 410
	}
	game.post("/v1/leaderboard/"+board+"/scores", map[string]any{"scores": scores}, http.StatusOK)
	game.do(http.MethodGet, "/account/leaderboards", nil, nil, http.StatusUnauthorized) // a bearer token is no session

	// Boards and teams, with paging.
	b.click("the leaderboards link", "#nav-boards")
	b.waitVisible("the leaderboards page", "#view-boards")
	b.waitText("the board in the list", `#boards-body tr[data-board-id="`+board+`"]`, "Season 1")
	b.waitCount("a full first page of teams", "#teams-body tr", 25)
	b.click("the next page of teams", "#teams-next")
	b.waitCount("the second page of teams", "#teams-body tr", 7)
	b.waitText("the page number", "#teams-page", "Page 2")
	b.click("the previous page of teams", "#teams-prev")
	b.waitCount("the first page of teams again", "#teams-body tr", 25)
	b.screenshot("04-boards-and-teams")

	// The board's rankings, live.
	b.click("the board's link", `#boards-body tr[data-board-id="`+board+`"] a`)
	b.waitVisible("the board page", "#view-board")
	b.waitText("the board's name as its title", "#board-title", "Season 1")
	b.waitCount("a full first page of rankings", "#rankings-body tr", 25)
	b.waitText("the top team", "#rankings-body tr:first-child", xssTeam)
	b.waitText("the top score", "#rankings-body tr:first-child td.score", "410")
	b.noElement("markup from a team name", "#rankings-body b, #rankings-body img")
	b.click("the next page of rankings", "#rankings-next")
	b.waitCount("the second page of rankings", "#rankings-body tr", 6)
	b.waitText("rank 26 heading the second page", "#rankings-body tr:first-child td.rank", "26")
	b.click("the previous page of rankings", "#rankings-prev")
	b.waitCount("the first page of rankings again", "#rankings-body tr", 25)
	b.screenshot("05-board-rankings")

	b.eval(`window.notReloaded = true`)
	game.post("/v1/leaderboard/"+board+"/scores", map[string]any{"teamId": teams[0], "score": 999}, http.StatusOK)
	b.waitText("Team 01's new score at the top, without a reload", "#rankings-body tr:first-child", "Team 01")
	b.waitText("the new top score", "#rankings-body tr:first-child td.score", "999")
	if !b.evalBool(`window.notReloaded === true`) {
		t.Fatal("the page reloaded to show the new score")
	}

	// A team's rank with its neighbours: from the form, then from a name in the table.
	b.fill("#lookup-team", teams[14]) // Team 15: 250, behind Team 01, Teams 16 to 30 and the markup team
	b.fill("#lookup-around", "2")
	b.click("look up", "#lookup-submit")
	b.waitText("the looked-up team's rank", "#lookup-summary", "Team 15 is ranked 18")
	b.waitCount("the team and two neighbours each side", "#lookup-body tr", 5)
	b.waitText("the team's own row marked", "#lookup-body tr.is-self", "Team 15")
	b.screenshot("06-rank-lookup")
	b.click("a team's name in the rankings", `#rankings-body button[data-team-id="`+teams[29]+`"]`)
	b.waitText("that team's rank", "#lookup-summary", "Team 30 is ranked")
	b.fill("#lookup-team", unscored)
	b.click("look up", "#lookup-submit")
	b.waitText("the unscored team's error", "#error", "no score")
	b.waitHidden("no result for the unscored team", "#lookup-result")

	// A link straight to the board finds its name by itself.
	b.open("/dashboard?direct#/board/" + board)
	b.waitText("the board's name on a direct link", "#board-title", "Season 1")

	// A phone's width: nothing wider than the screen but the tables' own scroll areas.
	b.phone(func() {
		b.waitCount("the rankings on a phone", "#rankings-body tr", 25)
		if w := b.evalInt(`document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("the board page is %d px wide on a 390 px screen", w)
		}
		b.screenshot("07-phone-390px")
	})

	// A label with markup is shown as text, and stays text.
	htmlLabel := `<img src=x onerror=alert(1)>`
	b.click("the credentials link", "#nav-credentials")
	b.waitVisible("the credentials page", "#view-credentials")
	b.fill("#client-label", htmlLabel)
	b.click("create client", "#client-create")
	b.waitText("the markup label as text in the secret's heading", "#new-label", htmlLabel)
	b.waitText("the markup label as text in the list", "#clients-body tr:first-child th", htmlLabel)
	b.noElement("an image made from a label", "#view-credentials img")

	// Revoke, after the confirmation step; the client's credentials then stop working.
	row := rowOf(creds.ClientID)
	b.click("revoke", row+` button[data-action="revoke"]`)
	b.waitVisible("the confirmation step", row+` button[data-action="confirm-revoke"]`)
	b.click("cancel", row+` button[data-action="cancel-revoke"]`)
	b.waitVisible("the revoke button back after cancelling", row+` button[data-action="revoke"]`)
	game.token(creds, http.StatusOK)
	b.click("revoke", row+` button[data-action="revoke"]`)
	b.click("confirm revoke", row+` button[data-action="confirm-revoke"]`)
	b.waitText("the client shown as revoked", row, "Revoked")
	b.waitText("the revoke's notice", "#notice", "Revoked")
	game.token(creds, http.StatusUnauthorized)

	// Sign out: the sign-in page, and no session left in the browser.
	b.click("sign out", "#signout")
	b.waitVisible("the sign-in page after signing out", "#view-signin")
	b.waitHidden("the navigation, once signed out", "#nav")
	if status := b.evalInt(`fetch('/account/me', {credentials: 'same-origin'}).then((r) => r.status)`); status != http.StatusUnauthorized {
		t.Errorf("GET /account/me after signing out = %d, want 401", status)
	}
	b.open("/dashboard?again#/credentials") // a new load: a change of hash alone would not reload
	b.waitVisible("the sign-in page for a signed-out visitor", "#view-signin")
	b.fill("#signin-email", email)
	b.fill("#signin-password", password)
	b.click("sign in", "#signin-submit")
	b.waitVisible("the page asked for before signing in", "#view-credentials")
	b.checkNoPageErrors()

	// The API reference, rendered in the browser from /openapi.json, on a desktop screen.
	b.run("a desktop screen", chromedp.EmulateViewport(1280, 900))
	b.open("/docs")
	b.waitText("the reference's title, from the document", "body", "Leaderboard API (1.0.0)")
	b.waitText("the document's servers, rendered", "body", "make local")
	b.waitText("the document's tags, in the menu", "body", "Credentials")
	b.screenshot("08-api-docs")
}

func rowOf(clientID string) string { return `#clients-body tr[data-client-id="` + clientID + `"]` }

// stack is the local API, every exchange held to openapi.yaml.
type stack struct {
	url string
}

// startStack serves every route of template.yaml as cmd/local does, on a fresh table.
func startStack(t *testing.T) stack {
	t.Helper()
	return stack{url: localtest.Start(t).URL}
}

// gameClient calls the game API with a bearer token, as a tenant's server would.
type gameClient struct {
	t      *testing.T
	url    string
	bearer string
}

func (s stack) game(t *testing.T, creds auth.Credentials) *gameClient {
	t.Helper()
	g := &gameClient{t: t, url: s.url}
	var tok struct {
		AuthToken string `json:"authToken"`
	}
	if err := json.Unmarshal(g.token(creds, http.StatusOK), &tok); err != nil || tok.AuthToken == "" {
		t.Fatalf("GET /v1/token answered no authToken (%v)", err)
	}
	g.bearer = tok.AuthToken
	return g
}

var httpClient = &http.Client{Timeout: waitFor}

func (g *gameClient) do(method, path string, headers map[string]string, body any, want int) []byte {
	g.t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			g.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.url+path, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if g.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+g.bearer)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	if resp.StatusCode != want {
		g.t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, out, want)
	}
	return out
}

// token asks GET /v1/token for a token with creds (and no bearer token), expecting the
// status want.
func (g *gameClient) token(creds auth.Credentials, want int) []byte {
	g.t.Helper()
	return (&gameClient{t: g.t, url: g.url}).do(http.MethodGet, "/v1/token", map[string]string{
		"x-api-key":       creds.APIKey,
		"x-client-id":     creds.ClientID,
		"x-client-secret": creds.ClientSecret,
	}, nil, want)
}

func (g *gameClient) post(path string, body any, want int) []byte {
	g.t.Helper()
	return g.do(http.MethodPost, path, nil, body, want)
}

// create POSTs body to path and returns the new item's id.
func (g *gameClient) create(path string, body any) string {
	g.t.Helper()
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(g.post(path, body, http.StatusCreated), &created); err != nil || created.ID == "" {
		g.t.Fatalf("POST %s: no id in the answer (%v)", path, err)
	}
	return created.ID
}

// browser is one headless Chromium tab on the dashboard. Each step waits at most
// waitFor and fails the test naming what it waited for.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string

	mu     sync.Mutex
	errors []string // uncaught exceptions, console errors and CSP refusals in the page
}

func startBrowser(t *testing.T, chromium, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t, base: base, shots: screenshotDir(t)}
	os.Remove(filepath.Join(b.shots, "failure.png")) // from an earlier run
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(b.listen))
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // stops Chromium and waits for it
	})
	// The first Run starts the browser; it must not carry a timeout (see chromedp.Run).
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
		return err
	}))
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b.ctx = ctx
	t.Logf("screenshots in %s", b.shots)
	return b
}

func (b *browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
			msg += " " + ex.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			msg = "console.error:"
			for _, arg := range ev.Args {
				msg += " " + arg.Description + string(arg.Value)
			}
		}
	case *cdplog.EventEntryAdded:
		// The network's own entries (a 401 while signed out, say) are expected answers.
		if ev.Entry.Source != cdplog.EntrySourceNetwork && ev.Entry.Level == cdplog.EntryLevelError {
			msg = string(ev.Entry.Source) + ": " + ev.Entry.Text
		}
	}
	if msg != "" {
		b.mu.Lock()
		b.errors = append(b.errors, msg)
		b.mu.Unlock()
	}
}

func (b *browser) checkNoPageErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		b.t.Errorf("the page logged an error: %s", e)
	}
}

// run runs steps within waitFor; on failure it saves a screenshot and shows the page's
// messages beside what was awaited.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitFor)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

func (b *browser) fail(what string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		url: location.href,
		error: document.getElementById('error')?.textContent,
		notice: document.getElementById('notice')?.textContent})`))
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(b.shots, "failure.png"), png, 0o644)
	}
	b.t.Fatalf("%s: %v (page: %s)", what, err, state)
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path))
}

func (b *browser) click(what, sel string) {
	b.t.Helper()
	b.run(what+" ("+sel+")", chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// fill replaces an input's value by typing, as a person would.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.run("type into "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ''`, sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (b *browser) waitVisible(what, sel string) {
	b.t.Helper()
	b.run("wait for "+what+" ("+sel+")", chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (b *browser) waitHidden(what, sel string) {
	b.t.Helper()
	b.run("wait for "+what+" ("+sel+")", chromedp.WaitNotVisible(chromedp.CSS(sel)))
}

// poll waits until the JavaScript function fn, given args, answers true.
func (b *browser) poll(what, fn string, args ...any) {
	b.t.Helper()
	b.run(what, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.PollFunction[bool](fn,
			chromedp.WithPollingArgs(args...),
			chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(waitFor))(ctx, tg)
		return chromedp.Void{}, err
	})
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(what, sel, want string) {
	b.t.Helper()
	b.poll(fmt.Sprintf("wait for %s: %q in %s", what, want, sel),
		`(sel, want) => document.querySelector(sel)?.textContent.includes(want) === true`, sel, want)
}

// waitCount waits until exactly n elements match sel.
func (b *browser) waitCount(what, sel string, n int) {
	b.t.Helper()
	b.poll(fmt.Sprintf("wait for %s: %d of %s", what, n, sel),
		`(sel, n) => document.querySelectorAll(sel).length === n`, sel, n)
}

func (b *browser) noElement(what, sel string) {
	b.t.Helper()
	if n := b.evalInt(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)); n != 0 {
		b.t.Errorf("%s: %d elements match %s", what, n, sel)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitFor)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.fail("read "+sel, err)
	}
	return s
}

func evalAs[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitFor)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return v
}

func (b *browser) eval(expr string)              { evalAs[chromedp.Void](b, expr) }
func (b *browser) evalBool(expr string) bool     { return evalAs[bool](b, expr) }
func (b *browser) evalInt(expr string) int       { return evalAs[int](b, expr) }
func (b *browser) evalString(expr string) string { return evalAs[string](b, expr) }

// phone runs steps on a 390 px wide screen, then goes back to the desktop's.
func (b *browser) phone(steps func()) {
	b.t.Helper()
	b.run("a phone's screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	steps()
	b.run("the desktop screen again", chromedp.ResetViewport())
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitFor)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// screenshotDir is $DASHBOARD_SCREENSHOTS, else .local/screenshots/dashboard at the
// repository's root (.local is never committed).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DASHBOARD_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(testdb.TemplatePath()), ".local", "screenshots", "dashboard")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
