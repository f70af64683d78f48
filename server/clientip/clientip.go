// Package clientip tells which address a request came from, for rate limits and sign-in
// slow-downs: the connection's peer, or behind a trusted reverse proxy the address that proxy
// appended last to X-Forwarded-For (earlier entries are the client's to invent).
package clientip

import (
	"net"
	"net/http"
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
