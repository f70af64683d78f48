//go:build !unix

package lab

import "net"

// closedPort returns a loopback port that refuses connections: one that was listened on and
// closed. (On Unix a bound socket holds the port; see closed_unix.go.)
func closedPort() (port int, release func() error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, err
	}
	port = ln.Addr().(*net.TCPAddr).Port
	return port, func() error { return nil }, ln.Close()
}
