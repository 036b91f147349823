package dynamolocal

import (
	"os/exec"
	"syscall"
)

// setProcAttr keeps java from outliving us by accident: its own process group lets Stop
// signal everything it started, and Pdeathsig kills it if we die without calling Stop.
// Pdeathsig fires when the forking OS thread exits, which the Go runtime only does for a
// goroutine that exits while locked to its thread; nothing here locks threads.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminate asks the process group to exit, letting the JVM run its shutdown hooks.
func terminate(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }

// kill ends the process group at once.
func kill(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
