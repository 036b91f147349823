package api_test

import (
	"strings"
	"testing"
)

// TestNames sends each name through every handler that takes one, and checks what it
// answers and what it stores.
func TestNames(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	team := f.createTeam(tok, "Base")
	board := f.call("POST /v1/leaderboard", "", bearer(tok), `{"name":"Base","teams":[]}`).json["id"].(string)

	routes := []struct {
		route, id, field, nameKey string
		body                      func(name string) string
		get                       string
	}{
		{"POST /v1/team", "", "teamName", "teamName", func(n string) string { return `{"teamName":` + mustJSON(n) + `}` }, "GET /v1/team/{id}"},
		{"PUT /v1/team/{id}", team, "team.teamName", "teamName", func(n string) string { return `{"team":{"teamName":` + mustJSON(n) + `}}` }, "GET /v1/team/{id}"},
		{"POST /v1/leaderboard", "", "name", "name", func(n string) string { return `{"name":` + mustJSON(n) + `,"teams":[]}` }, "GET /v1/leaderboard/{id}"},
		{"PUT /v1/leaderboard/{id}", board, "leaderboard.name", "name", func(n string) string { return `{"leaderboard":{"name":` + mustJSON(n) + `}}` }, "GET /v1/leaderboard/{id}"},
	}
	cases := []struct {
		name, input string
		stored      string // the name as stored, for a name that is accepted
		refusal     string // the message after the field's name, for one that is not
	}{
		{"plain", "Blue Team", "Blue Team", ""},
		{"trimmed", "  Blue Team \t", "Blue Team", ""},
		{"é composed", "Caf\u00e9", "Caf\u00e9", ""},
		{"é decomposed is stored composed", "Cafe\u0301", "Caf\u00e9", ""},
		{"Angstrom sign becomes Å", "\u212b", "\u00c5", ""},
		{"128 decomposed é count after composition", strings.Repeat("e\u0301", 128), strings.Repeat("\u00e9", 128), ""},
		{"129 é", strings.Repeat("e\u0301", 129), "", "must be at most 128 characters"},
		{"emoji joined by ZWJ", "\U0001F468\u200d\U0001F469\u200d\U0001F467 Family", "\U0001F468\u200d\U0001F469\u200d\U0001F467 Family", ""},
		{"rainbow flag", "\U0001F3F3\ufe0f\u200d\U0001F308", "\U0001F3F3\ufe0f\u200d\U0001F308", ""},
		{"Persian with ZWNJ", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", ""},
		{"right-to-left override", "abc\u202edef", "", "must not contain invisible formatting characters (it has U+202E)"},
		{"left-to-right isolate", "abc\u2066def", "", "must not contain invisible formatting characters (it has U+2066)"},
		{"zero width space", "Blue\u200bTeam", "", "must not contain invisible formatting characters (it has U+200B)"},
		{"byte order mark", "\ufeffBlue Team", "", "must not contain invisible formatting characters (it has U+FEFF)"},
		{"soft hyphen", "Blue\u00adTeam", "", "must not contain invisible formatting characters (it has U+00AD)"},
		{"tag character", "Blue\U000E0041", "", "must not contain invisible formatting characters (it has U+E0041)"},
		{"ZWJ leading", "\u200dBlue", "", "must not contain invisible formatting characters (it has U+200D)"},
		{"ZWJ trailing", "Blue\u200d", "", "must not contain invisible formatting characters (it has U+200D)"},
		{"ZWJ beside a space", "Blue\u200d Team", "", "must not contain invisible formatting characters (it has U+200D)"},
		{"ZWNJ doubled", "Blue\u200c\u200cTeam", "", "must not contain invisible formatting characters (it has U+200C)"},
		{"control character", "Blue\u0007Team", "", "must not contain control characters"},
		{"only a format character", "\u200b", "", "must not contain invisible formatting characters (it has U+200B)"},
	}
	for _, rt := range routes {
		for _, tc := range cases {
			t.Run(rt.route+"/"+tc.name, func(t *testing.T) {
				r := f.call(rt.route, rt.id, bearer(tok), rt.body(tc.input))
				if tc.refusal != "" {
					expect(t, r, 400, rt.field+" "+tc.refusal)
					return
				}
				if r.status != 200 && r.status != 201 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				if r.json[rt.nameKey] != tc.stored {
					t.Fatalf("answered %q, want %q", r.json[rt.nameKey], tc.stored)
				}
				id := r.json["id"].(string)
				if got := f.call(rt.get, id, bearer(tok), ""); got.json[rt.nameKey] != tc.stored {
					t.Fatalf("stored %q, want %q", got.json[rt.nameKey], tc.stored)
				}
			})
		}
	}
}

// Empty ids and nulls in place of ids are refused with a message that says so, not as
// "unknown teams: " naming nothing.
func TestEmptyTeamIDs(t *testing.T) {
	f := newFixture(t)
	tok := f.token(f.credsA)
	for _, body := range []string{`{"teams":[null]}`, `{"teams":[""]}`} {
		expect(t, f.call("POST /v1/leaderboard", "", bearer(tok), body), 400, "teams must hold team ids, not empty strings or nulls")
	}
	board := f.createBoard(tok, `{"name":"B","teams":[]}`).json["id"].(string)
	expect(t, f.call("POST /v1/leaderboard/{id}/scores", board, bearer(tok), `{"teamId":"","score":1}`), 400, "teamId is required")
}
