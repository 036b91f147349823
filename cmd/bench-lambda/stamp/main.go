// Command stamp stands in for a function's bootstrap under the emulator, so that
// cmd/bench-lambda can time the function's init as Lambda defines it: from the start of
// the runtime process to its first call for an invocation. RIE always tells its child the
// Runtime API address it serves itself (its own AWS_LAMBDA_RUNTIME_API wins over any in
// its environment), so stamp, run by RIE in the bootstrap's place, points the real
// bootstrap at the benchmark's proxy instead, writes the wall-clock time (Unix
// nanoseconds) to a file, and execs the bootstrap at once: same process, nothing of stamp
// left, and its own start-up falls before the stamp, not in the init.
//
// It reads, and removes from the bootstrap's environment:
//
//	STAMP_BOOTSTRAP    the real bootstrap; it runs in that file's directory
//	STAMP_RUNTIME_API  the address to give it as AWS_LAMBDA_RUNTIME_API
//	STAMP_FILE         where to write the time
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stamp:", err)
		os.Exit(1)
	}
}

func run() error {
	bootstrap, api, file := os.Getenv("STAMP_BOOTSTRAP"), os.Getenv("STAMP_RUNTIME_API"), os.Getenv("STAMP_FILE")
	if bootstrap == "" || api == "" || file == "" {
		return fmt.Errorf("STAMP_BOOTSTRAP, STAMP_RUNTIME_API and STAMP_FILE must all be set")
	}
	env := []string{"AWS_LAMBDA_RUNTIME_API=" + api}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STAMP_") && !strings.HasPrefix(kv, "AWS_LAMBDA_RUNTIME_API=") {
			env = append(env, kv)
		}
	}
	if err := os.Chdir(filepath.Dir(bootstrap)); err != nil {
		return err
	}
	// Opened before the stamp, so only one write(2) lies between it and the exec. Go
	// opens files close-on-exec: the bootstrap does not inherit it.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
		return err
	}
	return syscall.Exec(bootstrap, []string{bootstrap}, env)
}
