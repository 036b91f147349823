package emulator

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/leaderboardapi/leaderboard/pkg/auth"
	"github.com/leaderboardapi/leaderboard/pkg/store"
)

// Folder is the folder under functions/ that holds the function logicalID, in
// kebab-case without the "Function" suffix: CreateTeamFunction is create-team.
func Folder(logicalID string) string {
	name := []rune(strings.TrimSuffix(logicalID, "Function"))
	var b strings.Builder
	for i, r := range name {
		// A word starts at an upper-case letter after a lower-case one or a digit, or at
		// the last capital of an initialism followed by lower case ("APIKey": api-key).
		if i > 0 && unicode.IsUpper(r) && (!unicode.IsUpper(name[i-1]) ||
			i+1 < len(name) && unicode.IsLower(name[i+1])) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// EventFiles returns the sample events in dir of each function folder: <folder>.json and
// any <folder>-<variant>.json, sorted. A file belongs to the longest folder name it
// starts with. A .json file that belongs to no folder is an error, so a misnamed sample
// cannot sit there unexercised.
func EventFiles(dir string, folders []string) (map[string][]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("emulator: events: %w", err)
	}
	byLength := slices.Clone(folders)
	slices.SortFunc(byLength, func(a, b string) int { return len(b) - len(a) })
	files := make(map[string][]string, len(folders))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		i := slices.IndexFunc(byLength, func(folder string) bool {
			return name == folder || strings.HasPrefix(name, folder+"-")
		})
		if i < 0 {
			return nil, fmt.Errorf("emulator: %s belongs to no function: name it <folder>.json or <folder>-<variant>.json, one of %s",
				filepath.Join(dir, e.Name()), strings.Join(folders, ", "))
		}
		files[byLength[i]] = append(files[byLength[i]], filepath.Join(dir, e.Name()))
	}
	return files, nil // ReadDir sorts by name
}

// placeholder is {{name}} in a sample event.
var placeholder = regexp.MustCompile(`\{\{(\w+)\}\}`)

type fillStore interface {
	CreateAccount(ctx context.Context, email, passwordHash string) (store.Account, error)
	CreateClient(ctx context.Context, tenant string, creds auth.Credentials, label string) (store.ClientInfo, error)
	CreateSession(ctx context.Context, id string, acct store.Account, expires time.Time) error
	PublishSigningKey(ctx context.Context, pub ed25519.PublicKey) error
	CreateTeam(ctx context.Context, tenant, name string) (store.Team, error)
	CreateLeaderboard(ctx context.Context, tenant, name string, settings store.Settings, teams []string) (store.Leaderboard, error)
}

var _ fillStore = (*store.Store)(nil)

// SamplePassword is the password of the account a Filler creates, for sign-in events.
const SamplePassword = "correct horse battery staple"

// Filler fills the placeholders of sample events with values that work against the
// table: {{apiKey}}, {{clientId}} and {{clientSecret}} of a tenant it creates (through
// an account whose {{email}} signs in with SamplePassword), a {{session}} of that
// account and a {{spareClientId}} of its tenant (new on every Fill, so that an event
// ending or revoking one breaks no other), a fresh address {{newEmail}} for sign-ups, a
// {{token}} for that tenant signed with key (whose public half it publishes), and the ids
// of a team and of a leaderboard it creates for {{teamId}} and {{leaderboardId}}; when an
// event names both, the team is on the leaderboard. It creates only what the placeholders
// it meets need: the tenant once, a team or a leaderboard on every Fill, so that one
// event deleting its team cannot break the next. A Filler is not safe for concurrent use.
type Filler struct {
	store fillStore
	key   auth.SigningKey

	creds   auth.Credentials // of the tenant, once created
	account store.Account
	tenant  string
	token   string
}

// NewFiller returns a Filler that writes to s and signs tokens with key.
func NewFiller(s fillStore, key auth.SigningKey) *Filler {
	return &Filler{store: s, key: key}
}

// Fill returns event with every placeholder replaced. The values need no JSON escaping:
// ids, keys and tokens are URL-safe characters.
func (f *Filler) Fill(ctx context.Context, event []byte) ([]byte, error) {
	// One value per name and Fill: a team id in the path and in pathParameters agree.
	var names []string
	for _, m := range placeholder.FindAllSubmatch(event, -1) {
		if name := string(m[1]); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	// The team first, so that the leaderboard is made with it on.
	if i := slices.Index(names, "teamId"); i > 0 {
		names = slices.Insert(slices.Delete(names, i, i+1), 0, "teamId")
	}
	values := map[string]string{}
	for _, name := range names {
		v, err := f.value(ctx, name, values["teamId"])
		if err != nil {
			return nil, err
		}
		values[name] = v
	}
	return placeholder.ReplaceAllFunc(event, func(m []byte) []byte {
		return []byte(values[string(m[2:len(m)-2])])
	}), nil
}

// value creates what name stands for; teamID is the event's team, if it names one.
func (f *Filler) value(ctx context.Context, name, teamID string) (string, error) {
	switch name {
	case "apiKey", "clientId", "clientSecret", "token", "teamId", "leaderboardId", "email", "session", "spareClientId":
		if err := f.ensureTenant(ctx); err != nil {
			return "", err
		}
	case "newEmail":
		return sampleEmail(), nil
	default:
		return "", fmt.Errorf("emulator: unknown placeholder {{%s}}: want apiKey, clientId, clientSecret, token, teamId, leaderboardId, email, session, spareClientId or newEmail", name)
	}
	switch name {
	case "email":
		return f.account.Email, nil
	case "session":
		return f.newSession(ctx)
	case "spareClientId":
		creds := auth.NewCredentials()
		if _, err := f.store.CreateClient(ctx, f.tenant, creds, "spare"); err != nil {
			return "", fmt.Errorf("emulator: {{spareClientId}}: %w", err)
		}
		return creds.ClientID, nil
	case "apiKey":
		return f.creds.APIKey, nil
	case "clientId":
		return f.creds.ClientID, nil
	case "clientSecret":
		return f.creds.ClientSecret, nil
	case "token":
		return f.ensureToken(ctx)
	case "teamId":
		team, err := f.store.CreateTeam(ctx, f.tenant, "Sample Team")
		if err != nil {
			return "", fmt.Errorf("emulator: {{teamId}}: %w", err)
		}
		return team.ID, nil
	default: // leaderboardId
		var teams []string
		if teamID != "" {
			teams = []string{teamID}
		}
		// Zero settings: the store reads them as the API's defaults.
		board, err := f.store.CreateLeaderboard(ctx, f.tenant, "Sample Leaderboard", store.Settings{}, teams)
		if err != nil {
			return "", fmt.Errorf("emulator: {{leaderboardId}}: %w", err)
		}
		return board.ID, nil
	}
}

func (f *Filler) ensureTenant(ctx context.Context) error {
	if f.tenant != "" {
		return nil
	}
	acct, err := f.store.CreateAccount(ctx, sampleEmail(), auth.HashPassword(SamplePassword))
	if err != nil {
		return fmt.Errorf("emulator: create an account for sample events: %w", err)
	}
	creds := auth.NewCredentials()
	if _, err := f.store.CreateClient(ctx, acct.TenantID, creds, "sample events"); err != nil {
		return fmt.Errorf("emulator: create a client for sample events: %w", err)
	}
	f.creds, f.account, f.tenant = creds, acct, acct.TenantID
	return nil
}

// sampleEmail is an address no one has signed up with.
func sampleEmail() string {
	return "sample-" + strings.ToLower(auth.NewSessionID()[:12]) + "@example.com"
}

func (f *Filler) newSession(ctx context.Context) (string, error) {
	id := auth.NewSessionID()
	if err := f.store.CreateSession(ctx, id, f.account, time.Now().Add(time.Hour)); err != nil {
		return "", fmt.Errorf("emulator: {{session}}: %w", err)
	}
	return id, nil
}

func (f *Filler) ensureToken(ctx context.Context) (string, error) {
	if f.token != "" {
		return f.token, nil
	}
	// The functions verify tokens with the public keys in the table.
	if err := f.store.PublishSigningKey(ctx, f.key.Public()); err != nil {
		return "", fmt.Errorf("emulator: {{token}}: %w", err)
	}
	token, _, err := auth.NewSigner(f.key, time.Now).Issue(ctx, auth.Claims{TenantID: f.tenant, ClientID: f.creds.ClientID})
	if err != nil {
		return "", fmt.Errorf("emulator: {{token}}: %w", err)
	}
	f.token = token
	return token, nil
}
