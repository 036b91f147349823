package emulator

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// setProcAttr gives the emulator a process group of its own, so a Ctrl-C meant for us
// reaches it only through Stop, and Pdeathsig kills it if we die without calling Stop.
// Pdeathsig fires when the forking OS thread exits, which the Go runtime only does for a
// goroutine that exits while locked to its thread; nothing here locks threads.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminate asks the emulator to shut down; it kills the bootstrap first.
func terminate(cmd *exec.Cmd) error { return cmd.Process.Signal(syscall.SIGTERM) }

// kill ends the emulator's process group at once.
func kill(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

// children returns the ids of the live processes whose parent is pid, from /proc:
// /proc/PID/task/TID/children would need every thread of the (Go, so multi-threaded)
// emulator read, and a kernel built with CONFIG_PROC_CHILDREN.
func children(pid int) ([]int, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended while we looked
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses, so cut at the last ")".
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 || fields[0] == "Z" || fields[1] != strconv.Itoa(pid) {
			continue
		}
		child, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err == nil {
			pids = append(pids, child)
		}
	}
	return pids, nil
}

// PeakRSS is the most resident memory the process pid has used, in bytes: VmHWM of
// /proc/PID/status.
func PeakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("emulator: peak RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("emulator: peak RSS of %d: %q: %w", pid, value, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("emulator: peak RSS of %d: %w", pid, err)
	}
	return 0, fmt.Errorf("emulator: peak RSS of %d: no VmHWM in /proc/%d/status", pid, pid)
}
