//go:build !linux

package pgtest

import "syscall"

// dieWithParent does nothing where the kernel cannot signal a child when its parent dies
// (macOS, BSDs): a test binary killed hard may leave its PostgreSQL running there.
func dieWithParent(*syscall.SysProcAttr) {}
