//go:build !linux

package emulator

import (
	"errors"
	"os/exec"
)

// RIE runs on Linux only; elsewhere Start fails when it runs the emulator, and these
// keep the package building for the tools that import it.

var errNotLinux = errors.New("emulator: process inspection needs Linux /proc")

func setProcAttr(cmd *exec.Cmd) {}

func terminate(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func kill(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func children(pid int) ([]int, error) { return nil, errNotLinux }

// PeakRSS is the most resident memory the process pid has used, in bytes (Linux only).
func PeakRSS(pid int) (int64, error) { return 0, errNotLinux }
