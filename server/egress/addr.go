package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// special is a range that is not an ordinary public address, and what it is.
type special struct {
	prefix netip.Prefix
	what   string
	// sticky ranges (cloud metadata, the unspecified address) stay forbidden when a wider allowed
	// network covers them: only an allowed network naming the single address opens them.
	sticky bool
}

func sp(cidr, what string) special {
	return special{prefix: netip.MustParsePrefix(cidr), what: what}
}

func sticky(cidr, what string) special {
	s := sp(cidr, what)
	s.sticky = true
	return s
}

// specials lists the forbidden ranges, most specific first: the first match names the reason.
// IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4 address they carry (see reason).
var specials = []special{
	// Cloud metadata and platform endpoints, inside ranges listed below (but for Azure's).
	sticky("169.254.169.254/32", "link-local (cloud metadata)"),
	sticky("169.254.170.2/32", "link-local (cloud container metadata)"),
	sticky("169.254.169.123/32", "link-local (cloud time service)"),
	sticky("100.100.100.200/32", "shared address space (cloud metadata)"),
	sticky("192.0.0.192/32", "IETF protocol assignment (cloud metadata)"),
	sticky("168.63.129.16/32", "a cloud platform endpoint (Azure WireServer)"),
	sticky("fd00:ec2::254/128", "unique local (cloud metadata)"),
	sticky("fd00:ec2::23/128", "unique local (cloud time service)"),
	sticky("0.0.0.0/32", "unspecified (it reaches this machine)"),
	sticky("::/128", "unspecified (it reaches this machine)"),

	// IPv4.
	sp("0.0.0.0/8", "in 0.0.0.0/8 (this network)"),
	sp("10.0.0.0/8", "private (RFC 1918)"),
	sp("100.64.0.0/10", "shared address space (carrier-grade NAT, 100.64.0.0/10)"),
	sp("127.0.0.0/8", "loopback"),
	sp("169.254.0.0/16", "link-local"),
	sp("172.16.0.0/12", "private (RFC 1918)"),
	sp("192.0.0.0/24", "an IETF protocol assignment (192.0.0.0/24)"),
	sp("192.0.2.0/24", "a documentation address (192.0.2.0/24)"),
	sp("192.88.99.0/24", "6to4 relay anycast (192.88.99.0/24)"),
	sp("192.168.0.0/16", "private (RFC 1918)"),
	sp("198.18.0.0/15", "a benchmarking address (198.18.0.0/15)"),
	sp("198.51.100.0/24", "a documentation address (198.51.100.0/24)"),
	sp("203.0.113.0/24", "a documentation address (203.0.113.0/24)"),
	sp("224.0.0.0/4", "multicast"),
	sp("255.255.255.255/32", "broadcast"),
	sp("240.0.0.0/4", "reserved (240.0.0.0/4)"),

	// IPv6. Anything outside 2000::/3 not listed here is refused as not global unicast.
	sp("::1/128", "loopback"),
	sp("64:ff9b:1::/48", "local-use NAT64 (64:ff9b:1::/48)"),
	sp("::/8", "reserved (::/8, IPv4-compatible and translated forms)"),
	sp("100::/64", "discard-only (100::/64)"),
	sp("2001::/32", "Teredo (2001::/32)"),
	sp("2001:2::/48", "a benchmarking address (2001:2::/48)"),
	sp("2001:10::/28", "ORCHID (2001:10::/28)"),
	sp("2001:db8::/32", "a documentation address (2001:db8::/32)"),
	sp("3fff::/20", "a documentation address (3fff::/20)"),
	sp("5f00::/16", "an SRv6 segment identifier (5f00::/16)"),
	sp("fc00::/7", "unique local (fc00::/7)"),
	sp("fe80::/10", "link-local"),
	sp("fec0::/10", "site-local (deprecated)"),
	sp("ff00::/8", "multicast"),
}

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// Reason says why a is not an ordinary public address ("link-local (cloud metadata)"), or ""
// when it is one. It ignores any allowed networks; Policy.CheckAddr applies them.
func Reason(a netip.Addr) string {
	return (&Policy{}).reason(a)
}

// reason is Reason with p's allowed networks: "" when a may be dialled.
func (p *Policy) reason(a netip.Addr) string {
	if !a.IsValid() {
		return "not an IP address"
	}
	a = a.WithZone("")
	if p.allowedNet(a) {
		return ""
	}
	if v4, how, ok := embeddedV4(a); ok {
		if r := p.reason(v4); r != "" {
			return how + " " + v4.String() + ", which is " + r
		}
		return ""
	}
	for _, s := range specials {
		if s.prefix.Contains(a) {
			return s.what
		}
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		return "not a global unicast address (outside 2000::/3)"
	}
	return ""
}

// allowedNet reports whether an allowed network holds a (zone-free). An IPv4-mapped address is
// judged by its IPv4 form. A sticky address, or an IPv6 form carrying one (NAT64, 6to4), needs a
// network naming it alone.
func (p *Policy) allowedNet(a netip.Addr) bool {
	if len(p.AllowedNets) == 0 {
		return false
	}
	if a.Is4In6() {
		return p.allowedNet(a.Unmap())
	}
	exact := isSticky(a)
	if v4, _, ok := embeddedV4(a); ok && isSticky(v4) {
		exact = true
	}
	for _, n := range p.AllowedNets {
		if n.Contains(a) && (!exact || n.Bits() == a.BitLen()) {
			return true
		}
	}
	return false
}

func isSticky(a netip.Addr) bool {
	for _, s := range specials {
		if s.sticky && s.prefix.Contains(a) {
			return true
		}
	}
	return false
}

// embeddedV4 returns the IPv4 address an IPv4-mapped, NAT64 or 6to4 address carries, and how
// it carries it.
func embeddedV4(a netip.Addr) (netip.Addr, string, bool) {
	b := a.As16()
	switch {
	case !a.Is6():
		return netip.Addr{}, "", false
	case a.Is4In6():
		return a.Unmap(), "IPv4-mapped", true
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), "NAT64 for", true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), "6to4 for", true
	}
	return netip.Addr{}, "", false
}

// ParseNets reads allowed networks from configuration: CIDR prefixes ("10.0.0.0/8",
// "fd12:3456::/48") and single addresses ("127.0.0.1", "::1"). Every bad entry is reported,
// each with its position and what is wrong with it.
func ParseNets(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	var errs []error
	for i, e := range entries {
		p, err := parseNet(strings.TrimSpace(e))
		if err != nil {
			errs = append(errs, fmt.Errorf("egress: allowed network %d (%q): %w", i+1, e, err))
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func parseNet(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("empty; write a CIDR prefix such as 10.0.0.0/8 or an address such as 127.0.0.1")
	}
	if strings.Contains(s, "%") {
		return netip.Prefix{}, errors.New("an IPv6 zone (%…) is not allowed")
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, errors.New("not a CIDR prefix such as 10.0.0.0/8 or fd00::/8")
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fmt.Errorf("has bits set after the first %d; did you mean %s?", p.Bits(), m)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, errors.New("not an IP address or a CIDR prefix such as 10.0.0.0/8")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, errors.New("an IPv4-mapped IPv6 form; write the IPv4 network itself")
	}
	return p, nil
}
