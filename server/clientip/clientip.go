// Package clientip tells which address a request came from, for rate limits and sign-in
// slow-downs: the connection's peer, or behind a trusted reverse proxy the address that proxy
// appended last to X-Forwarded-For (earlier entries are the client's to invent).
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Of returns the client address of r; trustProxy says a proxy that sets X-Forwarded-For sits in
// front of the service. The address is the last entry of the last X-Forwarded-For line: a proxy
// that appends adds its entry at the end, on the client's line or on a line of its own, and
// every line and entry before it may come from the client.
func Of(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if lines := r.Header.Values("X-Forwarded-For"); len(lines) > 0 {
			entries := strings.Split(lines[len(lines)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(entries[len(entries)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Key is the unit that rate limits and slow-downs count for addr (an address as Of returns
// it): an IPv4 address, or the /64 network of an IPv6 address, written as a prefix
// (2001:db8:1:2::/64). One IPv6 host or LAN gets a whole /64 and may pick any address in it, so
// counting per address would give it billions of fresh starts. Anything that is not an address
// is its own key.
func Key(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip.WithZone(""), 64).Masked().String()
}
