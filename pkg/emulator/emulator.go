// Package emulator owns running a function's real bootstrap the way `sam local invoke`
// does, without Docker: it builds the bootstrap with the Makefile target SAM runs, starts
// it under Amazon's Lambda Runtime Interface Emulator (RIE) with the environment the
// template gives the function, posts events to it, and keeps what the function and the
// emulator print (the REPORT line among it). It also owns the sample events in events/:
// which function each belongs to, and the placeholders filled in before posting one.
package emulator

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

	"github.com/leaderboardapi/leaderboard/pkg/dynamolocal"
)

// RIE is the pinned emulator: its Go module and the command Install builds from it.
const (
	RIEModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
	rieCommand = RIEModule + "/cmd/aws-lambda-rie"
	rieBinary  = "aws-lambda-rie"
)

// InstallDir is where Install puts the emulator: a directory named after the pinned
// version, next to DynamoDB Local in the user cache (outside the repository), so that a
// new pin installs afresh instead of reusing an older binary.
func InstallDir() (string, error) {
	ddb, err := dynamolocal.CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(ddb), "bin", rieBinary+"-"+RIEVersion), nil
}

// Install returns the path of the pinned aws-lambda-rie, building it with `go install`
// on first use. Concurrent installs are safe: each installs into its own temporary
// directory and renames it into place; a loser of that race uses the winner's.
func Install(ctx context.Context) (string, error) {
	dir, err := InstallDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, rieBinary)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("emulator: stat %s: %w", bin, err)
	}

	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("emulator: create install dir: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("emulator: create install dir: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed

	cmd := exec.CommandContext(ctx, "go", "install", rieCommand+"@"+RIEVersion)
	// Run outside any module, so the repository's go.mod plays no part in the install.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("emulator: go install %s@%s: %w\n%s", rieCommand, RIEVersion, err, lastLines(out.String(), 20))
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(bin); statErr == nil {
			return bin, nil
		}
		return "", fmt.Errorf("emulator: move install into place: %w", err)
	}
	return bin, nil
}

// Build builds the bootstrap of the function logicalID for goarch into dir, with the
// Makefile target SAM itself runs (`make build-<LogicalId>` with ARTIFACTS_DIR), and
// returns its path. make runs in the module root: the nearest directory up from the
// working directory that holds go.mod.
func Build(ctx context.Context, logicalID, goarch, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("emulator: build dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("emulator: build dir: %w", err)
	}
	cmd := exec.CommandContext(ctx, "make", "-s", "build-"+logicalID, "LAMBDA_GOARCH="+goarch, "ARTIFACTS_DIR="+dir)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("emulator: make build-%s for %s: %w\n%s", logicalID, goarch, err, lastLines(out.String(), 20))
	}
	return filepath.Join(dir, "bootstrap"), nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("emulator: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("emulator: no go.mod in the working directory or above it")
		}
		dir = up
	}
}

// lastLines keeps error messages readable when a tool prints a long log or stack trace.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
