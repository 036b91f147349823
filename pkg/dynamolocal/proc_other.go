//go:build !linux

package dynamolocal

import "os/exec"

// Process groups and Pdeathsig are Linux-only; elsewhere (development laptops) java is
// simply killed by Stop, and a crash of ours can leave it running.
func setProcAttr(cmd *exec.Cmd) {}

func terminate(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func kill(cmd *exec.Cmd) error { return cmd.Process.Kill() }
