package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		name, remote string
		xff          []string // one header line each
		trust        bool
		want         string
	}{
		{"peer", "192.0.2.1:5000", nil, false, "192.0.2.1"},
		{"header ignored without a proxy", "192.0.2.1:5000", []string{"198.51.100.7"}, false, "192.0.2.1"},
		{"last entry behind a proxy", "10.0.0.1:5000", []string{"203.0.113.9, 198.51.100.7"}, true, "198.51.100.7"},
		{"garbage header falls back to the peer", "10.0.0.1:5000", []string{"not an ip"}, true, "10.0.0.1"},
		{"IPv6 peer", "[2001:db8::1]:443", nil, false, "2001:db8::1"},
		// The attack: the client sends a line of its own, the proxy appends its entry on a
		// second line; the first line's last entry is the client's choice.
		{"the proxy's line, not the client's", "10.0.0.1:5000", []string{"203.0.113.66", "198.51.100.7"}, true, "198.51.100.7"},
		{"the last entry of the last line", "10.0.0.1:5000", []string{"203.0.113.66, 203.0.113.67", "192.0.2.9, 198.51.100.7"}, true, "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, line := range tt.xff {
				r.Header.Add("X-Forwarded-For", line)
			}
			if got := Of(r, tt.trust); got != tt.want {
				t.Errorf("Of = %q, want %q", got, tt.want)
			}
		})
	}
}

// The audit checked 30,000 passwords from different addresses of one IPv6 /64: every address of
// a /64 must count as one client.
func TestKey(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an address", "not an address"},
	} {
		if got := Key(tt.addr); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
