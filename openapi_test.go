package leaderboard_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/internal/contract"
)

// documentRoutes lists openapi.yaml's operations as "METHOD /path".
func documentRoutes(t *testing.T) []string {
	t.Helper()
	doc, err := contract.Document()
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			routes = append(routes, method+" "+path)
		}
	}
	slices.Sort(routes)
	return routes
}

// TestDocumentMatchesTemplate holds openapi.yaml and template.yaml to the same routes:
// none in one and not the other.
func TestDocumentMatchesTemplate(t *testing.T) {
	var template []string
	for _, r := range loadTemplate(t).HTTPRoutes() {
		// HTTP API's greedy {proxy+} is a plain parameter in OpenAPI.
		template = append(template, r.Method+" "+strings.ReplaceAll(r.Path, "+}", "}"))
	}
	slices.Sort(template)
	compareRoutes(t, "template.yaml", template, "openapi.yaml", documentRoutes(t))
}

// TestReadmeMatchesDocument holds the README's endpoint tables to openapi.yaml: every
// route the README lists is in the document, and every route of the document is listed.
func TestReadmeMatchesDocument(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`(?s)\n## The API\n(.*?)\n## `).FindSubmatch(raw)
	if section == nil {
		t.Fatal(`no "## The API" section in README.md`)
	}
	var readme []string
	route := regexp.MustCompile("`(GET|POST|PUT|DELETE) (/[^` ?]*)")
	for _, line := range strings.Split(string(section[1]), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range route.FindAllStringSubmatch(cells[1], -1) {
			readme = append(readme, m[1]+" "+m[2])
		}
	}
	slices.Sort(readme)
	compareRoutes(t, "README.md", slices.Compact(readme), "openapi.yaml", documentRoutes(t))
}

func compareRoutes(t *testing.T, aName string, a []string, bName string, b []string) {
	t.Helper()
	for _, r := range a {
		if !slices.Contains(b, r) {
			t.Errorf("%s has %s, %s does not", aName, r, bName)
		}
	}
	for _, r := range b {
		if !slices.Contains(a, r) {
			t.Errorf("%s has %s, %s does not", bName, r, aName)
		}
	}
}
