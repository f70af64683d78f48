package egress

import (
	"net/netip"
	"strings"
	"testing"
)

func TestReason(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want string // substring of the reason; "" means an ordinary public address
	}{
		{"public v4", "8.8.8.8", ""},
		{"public v4 next to RFC 1918", "172.32.0.1", ""},
		{"unspecified v4", "0.0.0.0", "unspecified"},
		{"this network", "0.1.2.3", "this network"},
		{"private 10/8", "10.1.2.3", "private"},
		{"private 172.16/12", "172.16.0.1", "private"},
		{"private 192.168/16", "192.168.1.1", "private"},
		{"CGNAT", "100.64.0.1", "carrier-grade NAT"},
		{"Alibaba metadata", "100.100.100.200", "cloud metadata"},
		{"loopback", "127.0.0.1", "loopback"},
		{"loopback elsewhere in 127/8", "127.8.9.10", "loopback"},
		{"cloud metadata", "169.254.169.254", "link-local (cloud metadata)"},
		{"link-local", "169.254.1.1", "link-local"},
		{"IETF protocol assignments", "192.0.0.8", "IETF"},
		{"TEST-NET-1", "192.0.2.1", "documentation"},
		{"TEST-NET-2", "198.51.100.1", "documentation"},
		{"TEST-NET-3", "203.0.113.7", "documentation"},
		{"benchmarking", "198.19.255.1", "benchmarking"},
		{"multicast v4", "224.0.0.1", "multicast"},
		{"reserved 240/4", "240.0.0.1", "reserved"},
		{"broadcast", "255.255.255.255", "broadcast"},
		{"Azure WireServer", "168.63.129.16", "Azure"},
		{"public v6", "2001:4860:4860::8888", ""},
		{"unspecified v6", "::", "unspecified"},
		{"loopback v6", "::1", "loopback"},
		{"IPv4-compatible v6", "::127.0.0.1", "reserved"},
		{"IPv4-mapped loopback", "::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1, which is loopback"},
		{"IPv4-mapped metadata", "::ffff:169.254.169.254", "cloud metadata"},
		{"IPv4-mapped public", "::ffff:8.8.8.8", ""},
		{"link-local v6", "fe80::1", "link-local"},
		{"link-local v6 with zone", "fe80::1%eth0", "link-local"},
		{"AWS metadata v6", "fd00:ec2::254", "unique local (cloud metadata)"},
		{"ULA", "fc00::1", "unique local"},
		{"site-local", "fec0::1", "site-local"},
		{"multicast v6", "ff02::1", "multicast"},
		{"NAT64 of metadata", "64:ff9b::a9fe:a9fe", "NAT64 for 169.254.169.254, which is link-local (cloud metadata)"},
		{"NAT64 of private", "64:ff9b::10.0.0.1", "NAT64 for 10.0.0.1"},
		{"NAT64 of public", "64:ff9b::8.8.8.8", ""},
		{"local-use NAT64", "64:ff9b:1::1", "local-use NAT64"},
		{"6to4 of loopback", "2002:7f00:1::1", "6to4 for 127.0.0.1, which is loopback"},
		{"6to4 of metadata", "2002:a9fe:a9fe::", "cloud metadata"},
		{"6to4 of public", "2002:808:808::1", ""},
		{"Teredo", "2001::1", "Teredo"},
		{"documentation v6", "2001:db8::1", "documentation"},
		{"documentation v6 3fff::/20", "3fff::1", "documentation"},
		{"discard-only", "100::1", "discard"},
		{"outside 2000::/3", "4000::1", "not a global unicast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Reason(netip.MustParseAddr(tt.addr))
			if tt.want == "" && got != "" {
				t.Fatalf("Reason(%s) = %q, want an ordinary public address", tt.addr, got)
			}
			if tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("Reason(%s) = %q, want it to mention %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestAllowedNets(t *testing.T) {
	tests := []struct {
		name  string
		nets  []string
		addr  string
		allow bool
	}{
		{"nothing allowed: loopback refused", nil, "127.0.0.1", false},
		{"single loopback address", []string{"127.0.0.1"}, "127.0.0.1", true},
		{"single loopback address, its mapped form", []string{"127.0.0.1"}, "::ffff:127.0.0.1", true},
		{"single loopback address, not its neighbour", []string{"127.0.0.1"}, "127.0.0.2", false},
		{"private network", []string{"10.0.0.0/8"}, "10.20.30.40", true},
		{"private network, not another one", []string{"10.0.0.0/8"}, "192.168.1.1", false},
		{"private network through NAT64", []string{"10.0.0.0/8"}, "64:ff9b::10.0.0.1", true},
		{"link-local network does not open metadata", []string{"169.254.0.0/16"}, "169.254.169.254", false},
		{"link-local network opens the rest", []string{"169.254.0.0/16"}, "169.254.1.1", true},
		{"metadata opened only by itself", []string{"169.254.169.254/32"}, "169.254.169.254", true},
		{"everything does not open metadata", []string{"0.0.0.0/0", "::/0"}, "169.254.169.254", false},
		{"everything does not open v6 metadata", []string{"0.0.0.0/0", "::/0"}, "fd00:ec2::254", false},
		{"everything does not open the unspecified address", []string{"0.0.0.0/0"}, "0.0.0.0", false},
		{"everything does not open metadata through its mapped form", []string{"0.0.0.0/0", "::/0"}, "::ffff:169.254.169.254", false},
		{"everything does not open metadata through NAT64", []string{"0.0.0.0/0", "::/0"}, "64:ff9b::a9fe:a9fe", false},
		{"everything does not open metadata through 6to4", []string{"0.0.0.0/0", "::/0"}, "2002:a9fe:a9fe::1", false},
		{"everything opens private", []string{"0.0.0.0/0"}, "192.168.1.1", true},
		{"ULA network", []string{"fd12:3456::/32"}, "fd12:3456::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nets, err := ParseNets(tt.nets)
			if err != nil {
				t.Fatal(err)
			}
			p := &Policy{AllowedNets: nets}
			err = p.CheckAddr(netip.MustParseAddr(tt.addr))
			if tt.allow && err != nil {
				t.Fatalf("CheckAddr(%s) with %v: %v, want allowed", tt.addr, tt.nets, err)
			}
			if !tt.allow && err == nil {
				t.Fatalf("CheckAddr(%s) with %v allowed, want refused", tt.addr, tt.nets)
			}
		})
	}
}

func TestParseNets(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr []string // substrings of the error
	}{
		{"none", nil, []string{}, nil},
		{"CIDRs and addresses", []string{"10.0.0.0/8", " 127.0.0.1 ", "::1", "fd00::/8"},
			[]string{"10.0.0.0/8", "127.0.0.1/32", "::1/128", "fd00::/8"}, nil},
		{"empty entry", []string{""}, nil, []string{"allowed network 1", "empty"}},
		{"host bits set", []string{"10.1.2.3/8"}, nil, []string{"did you mean 10.0.0.0/8?"}},
		{"zone", []string{"fe80::1%eth0"}, nil, []string{"zone"}},
		{"mapped form", []string{"::ffff:10.0.0.0/104"}, nil, []string{"IPv4-mapped"}},
		{"not an address", []string{"cuic.example.com"}, nil, []string{`"cuic.example.com"`, "not an IP address"}},
		{"prefix too long", []string{"10.0.0.0/33"}, nil, []string{"not a CIDR prefix"}},
		{"every bad entry reported", []string{"10.0.0.0/8", "bogus", "1.2.3.4/24"}, nil,
			[]string{"allowed network 2", "allowed network 3", "1.2.3.0/24"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNets(tt.in)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("ParseNets(%q) = %v, want an error", tt.in, got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseNets(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i].String() != tt.want[i] {
					t.Errorf("ParseNets(%q)[%d] = %s, want %s", tt.in, i, got[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzParseNets(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8", "10.1.2.3/8", "fe80::1%eth0",
		"::ffff:10.0.0.0/104", "", " 1.2.3.4 ", "0.0.0.0/0", "1.2.3.4/33", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseNets([]string{s})
		if err != nil {
			if !strings.Contains(err.Error(), "egress: allowed network 1") {
				t.Fatalf("error %q does not say which entry", err)
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("ParseNets(%q) = %v, want one network", s, got)
		}
		p := got[0]
		if !p.IsValid() || p.Masked() != p || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			t.Fatalf("ParseNets(%q) = %v: not a clean prefix", s, p)
		}
		again, err := ParseNets([]string{p.String()})
		if err != nil || len(again) != 1 || again[0] != p {
			t.Fatalf("ParseNets(%q) = %v, but its string form gives %v, %v", s, p, again, err)
		}
	})
}
