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
// front of the service.
func Of(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
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
