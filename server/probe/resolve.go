package probe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Resolve sends connections for a host name and port to another address while the name stays in
// the URL: TLS still asks for it (SNI) and checks the certificate against it, and the Host header
// still carries it. It is curl's --resolve HOST:PORT:ADDR.
type Resolve struct {
	Host string // a name, compared without case
	Port string // a port number, or "*" for every port
	Addr string // an IP address
}

// ParseResolve reads HOST:PORT:ADDR. ADDR is an IPv4 or IPv6 address; an IPv6 address may be
// written in brackets ([::1]) and HOST may be one too. Its errors leave s out: the caller names
// it with its flag.
func ParseResolve(s string) (Resolve, error) {
	host, rest, ok := cutHost(s)
	if !ok {
		return Resolve{}, errors.New("want HOST:PORT:ADDR")
	}
	port, addr, ok := strings.Cut(rest, ":")
	if !ok {
		return Resolve{}, errors.New("want HOST:PORT:ADDR")
	}
	if host == "" {
		return Resolve{}, errors.New("the host is empty")
	}
	if port != "*" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Resolve{}, fmt.Errorf("the port must be 1-65535 or *, not %q", port)
		}
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"))
	if err != nil {
		return Resolve{}, fmt.Errorf("%q is not an IP address", addr)
	}
	return Resolve{Host: strings.ToLower(strings.TrimSuffix(host, ".")), Port: port, Addr: ip.String()}, nil
}

// cutHost splits HOST from the rest at the first colon after it; a bracketed IPv6 HOST keeps its
// colons.
func cutHost(s string) (host, rest string, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return "", "", false
		}
		return s[1:end], s[end+2:], true
	}
	return strings.Cut(s, ":")
}

// String is the flag's form.
func (r Resolve) String() string {
	host := r.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + r.Port + ":" + r.Addr
}

// resolved returns the address to dial for addr (host:port): the first matching entry's address
// with the same port, or addr itself.
func resolved(rs []Resolve, addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range rs {
		if r.Host == host && (r.Port == "*" || r.Port == port) {
			return net.JoinHostPort(r.Addr, port)
		}
	}
	return addr
}
