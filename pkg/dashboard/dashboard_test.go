package dashboard

import (
	"context"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

func get(t *testing.T, proxy string, headers map[string]string) apigw.Response {
	t.Helper()
	req := apigw.Request{
		Version:  "2.0",
		RouteKey: "GET /dashboard/{proxy+}",
		RawPath:  "/dashboard/" + proxy,
		Headers:  headers,
	}
	if proxy == "" {
		req.RouteKey, req.RawPath = "GET /dashboard", "/dashboard"
	} else {
		req.PathParameters = map[string]string{"proxy": proxy}
	}
	req.RequestContext.HTTP.Method = http.MethodGet
	resp, err := Handler()(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRoutesAndContentTypes(t *testing.T) {
	for _, tc := range []struct {
		name, proxy, contentType, contains string
	}{
		{"the page", "", "text/html; charset=utf-8", `<script type="module" src="/dashboard/app.js"></script>`},
		{"the page by name", "index.html", "text/html; charset=utf-8", "<!doctype html>"},
		{"the app", "app.js", "text/javascript; charset=utf-8", "import "},
		{"a module", "api.js", "text/javascript; charset=utf-8", "export const account"},
		{"the style", "style.css", "text/css; charset=utf-8", ":focus-visible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, tc.proxy, nil)
			if resp.StatusCode != http.StatusOK || resp.IsBase64Encoded {
				t.Fatalf("status %d, base64 %v", resp.StatusCode, resp.IsBase64Encoded)
			}
			if got := resp.Headers["Content-Type"]; got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if !strings.Contains(resp.Body, tc.contains) {
				t.Errorf("body does not contain %q", tc.contains)
			}
			if resp.Headers["Cache-Control"] != "no-cache" || resp.Headers["ETag"] == "" {
				t.Errorf("Cache-Control %q, ETag %q", resp.Headers["Cache-Control"], resp.Headers["ETag"])
			}
			checkSecurityHeaders(t, resp)
		})
	}
}

func TestUnknownAssetsAreNotFound(t *testing.T) {
	for _, proxy := range []string{
		"nope.js", "app.js/", "../dashboard.go", "web/index.html", "./app.js", "/app.js",
		"APP.JS", "app.js%00", "dashboard.go", ".", "..",
	} {
		t.Run(proxy, func(t *testing.T) {
			resp := get(t, proxy, nil)
			if resp.StatusCode != http.StatusNotFound || resp.Body != `{"message":"Not Found"}` ||
				resp.Headers["Content-Type"] != "application/json" {
				t.Fatalf("%d %q %q", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
			}
			checkSecurityHeaders(t, resp)
		})
	}
}

func TestUnchangedFileIsNotModified(t *testing.T) {
	first := get(t, "app.js", nil)
	for _, tc := range []struct {
		name, ifNoneMatch string
		want              int
	}{
		{"same ETag", first.Headers["ETag"], http.StatusNotModified},
		{"another ETag", `"stale"`, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, "app.js", map[string]string{"if-none-match": tc.ifNoneMatch})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusNotModified && resp.Body != "" {
				t.Errorf("a 304 with a body of %d bytes", len(resp.Body))
			}
			checkSecurityHeaders(t, resp)
		})
	}
}

func checkSecurityHeaders(t *testing.T, resp apigw.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	}
	for k, v := range want {
		if got := resp.Headers[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(resp.Headers["Content-Security-Policy"], "unsafe") {
		t.Error("the CSP allows something unsafe")
	}
}

// servedFiles is every file the handler serves, by name.
func servedFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := fs.WalkDir(web, "web", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name = strings.TrimPrefix(name, "web/")
		resp := get(t, name, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s is embedded but answers %d", name, resp.StatusCode)
		}
		files[name] = resp.Body
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The CSP forbids inline script and style, so the page must have none: it would not
// run, or not apply. And user data must only ever reach the page as text.
func TestNoInlineScriptStyleOrMarkupSinks(t *testing.T) {
	html := []struct {
		name string
		re   *regexp.Regexp
	}{
		{"an inline script", regexp.MustCompile(`(?is)<script\b[^>]*>[^<]+</script>`)},
		{"a style element", regexp.MustCompile(`(?i)<style\b`)},
		{"a style attribute", regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)},
		{"an event handler attribute", regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)},
		{"a javascript: URL", regexp.MustCompile(`(?i)javascript:`)},
		{"a file from elsewhere", regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`)},
	}
	js := []struct {
		name string
		re   *regexp.Regexp
	}{
		{"markup from a string", regexp.MustCompile(`\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser`)},
		{"code from a string", regexp.MustCompile(`\beval\(|new Function\(|setTimeout\(\s*['"` + "`" + `]|setInterval\(\s*['"` + "`" + `]`)},
		{"an inline style or handler set by script", regexp.MustCompile(`setAttribute\(\s*['"](style|on[a-z]+)['"]|\.style\.|\.on[a-z]+\s*=[^=]`)},
		{"a request to another origin", regexp.MustCompile(`(?i)fetch\(\s*['"` + "`" + `]https?:|(['"` + "`" + `])https?://`)},
	}
	files := servedFiles(t)
	if len(files) < 4 {
		t.Fatalf("only %d files served", len(files))
	}
	for _, m := range regexp.MustCompile(`(?i)<script\b[^>]*>`).FindAllString(files["index.html"], -1) {
		if !strings.Contains(m, ` src="/dashboard/`) || !strings.Contains(m, ` type="module"`) {
			t.Errorf("index.html: %s is not a module from /dashboard", m)
		}
	}
	for name, body := range files {
		var checks []struct {
			name string
			re   *regexp.Regexp
		}
		switch {
		case strings.HasSuffix(name, ".html"):
			checks = html
		case strings.HasSuffix(name, ".js"):
			checks = js
		}
		for _, c := range checks {
			if m := c.re.FindString(body); m != "" {
				t.Errorf("%s has %s: %q", name, c.name, m)
			}
		}
	}
}

// Every file the page refers to is served, and every id the scripts look up is in the
// page: a typo in either would only show in a browser.
func TestReferencesResolve(t *testing.T) {
	files := servedFiles(t)
	page := files["index.html"]
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if ids[m[1]] {
			t.Errorf("index.html: id %q used twice", m[1])
		}
		ids[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`\s(?:for|list|aria-labelledby|aria-describedby|data-copy)="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !ids[m[1]] {
			t.Errorf("index.html refers to id %q, which it does not have", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="/dashboard/([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if _, ok := files[m[1]]; !ok {
			t.Errorf("index.html refers to /dashboard/%s, which is not served", m[1])
		}
	}
	var modules []string
	for name, body := range files {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		for _, m := range regexp.MustCompile(`from '\./([^']+)'`).FindAllStringSubmatch(body, -1) {
			modules = append(modules, m[1])
			if _, ok := files[m[1]]; !ok {
				t.Errorf("%s imports ./%s, which is not served", name, m[1])
			}
		}
		for _, m := range regexp.MustCompile(`(?:byId|setText)\('([^']+)'`).FindAllStringSubmatch(body, -1) {
			if !ids[m[1]] {
				t.Errorf("%s looks up #%s, which index.html does not have", name, m[1])
			}
		}
	}
	for name := range files {
		if strings.HasSuffix(name, ".js") && name != "app.js" && !slices.Contains(modules, name) {
			t.Errorf("%s is served but no module imports it", name)
		}
	}
}
