package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		name, remote, xff string
		trust             bool
		want              string
	}{
		{"peer", "192.0.2.1:5000", "", false, "192.0.2.1"},
		{"header ignored without a proxy", "192.0.2.1:5000", "198.51.100.7", false, "192.0.2.1"},
		{"last entry behind a proxy", "10.0.0.1:5000", "203.0.113.9, 198.51.100.7", true, "198.51.100.7"},
		{"garbage header falls back to the peer", "10.0.0.1:5000", "not an ip", true, "10.0.0.1"},
		{"IPv6 peer", "[2001:db8::1]:443", "", false, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := Of(r, tt.trust); got != tt.want {
				t.Errorf("Of = %q, want %q", got, tt.want)
			}
		})
	}
}
