//go:build unix

package lab

import (
	"os"
	"syscall"
)

// closedPort reserves a loopback port that refuses connections: a socket bound to it that never
// listens. A port listened on and closed would do the same, but on a busy test machine another
// server can be given that port moments later; a bound socket keeps it for the lab's lifetime.
func closedPort() (port int, release func() error, err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return 0, nil, os.NewSyscallError("socket", err)
	}
	syscall.CloseOnExec(fd)
	release = func() error { return syscall.Close(fd) }
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		release()
		return 0, nil, os.NewSyscallError("bind", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		release()
		return 0, nil, os.NewSyscallError("getsockname", err)
	}
	return sa.(*syscall.SockaddrInet4).Port, release, nil
}
