// Package dashboard owns the tenant's web dashboard: a single page app of plain HTML, CSS
// and JavaScript modules embedded in the binary (no build step, nothing fetched from
// elsewhere at run time), and the handler that serves it under /dashboard with a strict
// Content-Security-Policy. The page talks only to the same origin's /account endpoints.
package dashboard

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"

	"github.com/leaderboardapi/leaderboard/pkg/apigw"
)

//go:embed web
var web embed.FS

// csp allows the page's own files and nothing else: no inline script or style, no other
// origin, no framing. The data: image source is for the empty favicon, which spares the
// browser a request that would only 404.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// contentTypes are the only kinds of file served; any other name is a 404.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

type file struct {
	body        string
	contentType string
	etag        string
}

// Handler serves GET /dashboard (the page) and GET /dashboard/{proxy+} (its assets).
// Every answer is revalidated (no-cache) against a strong ETag, so a deploy is seen at
// once while an unchanged file costs a 304 and no body.
func Handler() apigw.Handler {
	files, err := load(web)
	if err != nil {
		// The files are compiled in; this fails only if the embed directive is broken.
		panic(fmt.Sprintf("dashboard: %v", err))
	}
	return func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		name := "index.html"
		if p := req.PathParameters["proxy"]; p != "" {
			name = p
		}
		f, ok := files[name]
		if !ok {
			return withSecurityHeaders(apigw.Message(http.StatusNotFound, "Not Found")), nil
		}
		if apigw.Header(req, "If-None-Match") == f.etag {
			return withSecurityHeaders(apigw.Response{
				StatusCode: http.StatusNotModified,
				Headers:    map[string]string{"ETag": f.etag, "Cache-Control": "no-cache"},
			}), nil
		}
		return withSecurityHeaders(apigw.Response{
			StatusCode: http.StatusOK,
			Headers: map[string]string{
				"Content-Type":  f.contentType,
				"Cache-Control": "no-cache",
				"ETag":          f.etag,
			},
			Body: f.body,
		}), nil
	}
}

// load reads every servable file under web/ once, keyed by its path below web/.
func load(fsys fs.FS) (map[string]file, error) {
	root, err := fs.Sub(fsys, "web")
	if err != nil {
		return nil, err
	}
	files := map[string]file{}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return nil
		}
		b, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[name] = file{
			body:        string(b),
			contentType: ct,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded files: %w", err)
	}
	if _, ok := files["index.html"]; !ok {
		return nil, fmt.Errorf("no index.html among the embedded files")
	}
	return files, nil
}

func withSecurityHeaders(resp apigw.Response) apigw.Response {
	resp.Headers["Content-Security-Policy"] = csp
	resp.Headers["X-Content-Type-Options"] = "nosniff"
	resp.Headers["Referrer-Policy"] = "no-referrer"
	return resp
}
