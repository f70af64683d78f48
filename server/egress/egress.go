// Package egress keeps the service's own outgoing requests (POST /api/v1/diagnose probes a URL
// on a browser's behalf) to the hosts it may call: host names the catalogue or the allowed
// domains name, at addresses that are not loopback, link-local, cloud metadata, private or
// otherwise special unless a configured network allows them.
//
// A Policy guards twice. CheckURL answers up front, before any probe, so that the API can say
// 403 and why. DialContext, set as probe.Options.DialContext, guards every connection the
// probe opens, the redirects' included: it resolves the name itself, refuses it when any
// address is forbidden, and dials the checked address, never the name, so a DNS answer that
// changes between the check and the dial (DNS rebinding) cannot reach a forbidden address.
//
// # Names and addresses
//
// CheckURL asks AllowHost about the URL's host, whatever it is (a name or an IP literal), then
// checks every address it stands for. DialContext receives what the transport dials: a name,
// which must pass AllowHost and whose addresses must all pass; or an IP literal, which passes
// when AllowedNets holds it, or when AllowHost accepts the literal and it is an ordinary public
// address.
//
// A probe with a guarding DialContext passes host names through as written, so DialContext
// judges names (localhost and names under .localhost included, which it maps to 127.0.0.1 as
// Chromium does). IP literals are accepted by network: a redirect from an allowed host to an IP
// literal may reach any address in AllowedNets without AllowHost being asked. Keep AllowedNets
// narrow: 127.0.0.1/32 rather than 127.0.0.0/8 for the demo's lab, nothing loopback in
// production, and only the subnets where the targets live.
//
// Every refusal is an *Error, a probe.Refusal: the probe reports it as network class
// "forbidden", the API as 403.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy says which hosts and addresses the service may call. Its fields must not change once
// it is in use; it is safe for concurrent use when AllowHost is.
type Policy struct {
	// AllowHost reports whether the service may call host: a lower-case ASCII name without a
	// trailing dot (IDNs in their xn-- form), or an IP literal as written in the URL, without
	// brackets. Typically the catalogue's HasHost. Nil allows no host.
	AllowHost func(host string) bool
	// AllowedNets are networks the service may call although they are private or special
	// (10.0.0.0/8 where the targets live; 127.0.0.1/32 for the demo's lab). See ParseNets.
	// Cloud metadata addresses and the unspecified addresses stay forbidden inside a wider
	// network: only a network of that single address (169.254.169.254/32) opens one.
	AllowedNets []netip.Prefix
	// Resolver looks names up; nil means net.DefaultResolver.
	Resolver Resolver
	// Dial connects to an address the policy has checked ("192.0.2.1:443", always an IP). Nil
	// means a net.Dialer whose Control hook checks the address once more just before connect.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HostList names what AllowHost accepts, for refusals: "the alert receivers" makes them
	// say "is not one of the alert receivers". Empty means the target catalogue and the
	// allowed domains.
	HostList string
}

// Error is a refusal.
type Error struct {
	Host   string     // the host refused, or whose address was refused; may be empty
	Addr   netip.Addr // the address refused, when it is about an address
	Reason string     // what is wrong: "link-local (cloud metadata)"
}

func (e *Error) Error() string {
	switch {
	case e.Addr.IsValid() && e.Host != "" && !isLiteral(e.Host):
		return fmt.Sprintf("egress: %s resolves to %s, which is %s; not allowed", e.Host, e.Addr, e.Reason)
	case e.Addr.IsValid():
		return fmt.Sprintf("egress: %s is %s; not allowed", e.Addr, e.Reason)
	case e.Host != "":
		return fmt.Sprintf("egress: %s %s; not allowed", e.Host, e.Reason)
	}
	return "egress: " + e.Reason + "; not allowed"
}

// Forbidden says that the error is a refusal: it makes an *Error a probe.Refusal, which the
// probe reports as network class "forbidden".
func (e *Error) Forbidden() bool { return true }

const notAllowedHost = "is not in the target catalogue or the allowed domains"

// notAllowed is what a host AllowHost refuses is told.
func (p *Policy) notAllowed() string {
	if p.HostList != "" {
		return "is not one of " + p.HostList
	}
	return notAllowedHost
}

// CheckAddr refuses an address that is forbidden and not in AllowedNets.
func (p *Policy) CheckAddr(a netip.Addr) error {
	if r := p.reason(a); r != "" {
		return &Error{Addr: a.WithZone(""), Reason: r}
	}
	return nil
}

// CheckURL refuses a URL the service may not call: a scheme other than http or https, a host
// AllowHost does not accept, or a host with any forbidden address. A failed lookup is returned
// as the resolver's error (a *net.DNSError), which is not an *Error.
func (p *Policy) CheckURL(ctx context.Context, u *url.URL) error {
	if u == nil {
		return &Error{Reason: "no URL"}
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return &Error{Reason: fmt.Sprintf("scheme %q is not http or https", u.Scheme)}
	}
	host := u.Hostname()
	if host == "" {
		return &Error{Reason: "a URL without a host"}
	}
	_, err := p.addrs(ctx, host, false)
	return err
}

// DialContext connects to addr ("host:port") if the policy allows it, dialling the checked IP
// addresses in turn; use it as probe.Options.DialContext. Only TCP is allowed.
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, &Error{Reason: fmt.Sprintf("network %q is not tcp", network)}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &Error{Reason: fmt.Sprintf("address %q is not host:port", addr)}
	}
	addrs, err := p.addrs(ctx, host, true)
	if err != nil {
		return nil, err
	}
	if !isLiteral(host) {
		addrs = forNetwork(addrs, network)
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no " + network + " address", Name: host, IsNotFound: true}
		}
	}
	return p.dialSerial(ctx, network, addrs, port)
}

// addrs returns the addresses host stands for, once they are all allowed. An IP literal
// allowed by AllowedNets passes without AllowHost when literalByNet is set (see the package
// documentation).
func (p *Policy) addrs(ctx context.Context, host string, literalByNet bool) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if literalByNet && p.allowedNet(a.WithZone("")) {
			return []netip.Addr{a}, nil
		}
		if err := p.CheckAddr(a); err != nil {
			return nil, err
		}
		if !p.allowHost(strings.ToLower(host)) {
			return nil, &Error{Host: host, Reason: p.notAllowed()}
		}
		return []netip.Addr{a}, nil
	}
	name, err := normalizeName(host)
	if err != nil {
		return nil, &Error{Host: host, Reason: "is not a valid host name"}
	}
	if !p.allowHost(name) {
		return nil, &Error{Host: name, Reason: p.notAllowed()}
	}
	var found []netip.Addr
	if isLocalhost(name) {
		found = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	} else {
		r := p.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		if found, err = r.LookupNetIP(ctx, "ip", name); err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, &net.DNSError{Err: "no address", Name: name, IsNotFound: true}
		}
	}
	out := make([]netip.Addr, 0, len(found))
	for _, a := range found {
		if r := p.reason(a); r != "" {
			return nil, &Error{Host: name, Addr: a.WithZone(""), Reason: r}
		}
		a = a.Unmap()
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (p *Policy) allowHost(host string) bool {
	return p.AllowHost != nil && host != "" && p.AllowHost(host)
}

// dialSerial dials each address in turn, giving each a share of the time left, and returns the
// first connection or the first error.
func (p *Policy) dialSerial(ctx context.Context, network string, addrs []netip.Addr, port string) (net.Conn, error) {
	dial := p.Dial
	if dial == nil {
		dial = p.dialChecked
	}
	var first error
	for i, a := range addrs {
		actx, cancel := share(ctx, len(addrs)-i)
		c, err := dial(actx, network, net.JoinHostPort(a.String(), port))
		cancel()
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// share gives one of left dial attempts its part of ctx's time (at least 2 s when there is).
func share(ctx context.Context, left int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || left <= 1 {
		return ctx, func() {}
	}
	part := time.Until(deadline) / time.Duration(left)
	if part < 2*time.Second {
		part = 2 * time.Second
	}
	return context.WithTimeout(ctx, part)
}

// dialChecked is the default Dial: a net.Dialer that checks the socket address once more
// before connect, whatever happened before.
func (p *Policy) dialChecked(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{KeepAlive: 30 * time.Second,
		ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &Error{Reason: fmt.Sprintf("address %q is not an IP address and port", address)}
			}
			return p.CheckAddr(ap.Addr())
		}}
	return d.DialContext(ctx, network, addr)
}

// forNetwork keeps the addresses a tcp4 or tcp6 dial can use.
func forNetwork(addrs []netip.Addr, network string) []netip.Addr {
	if network == "tcp" {
		return addrs
	}
	var out []netip.Addr
	for _, a := range addrs {
		if (network == "tcp4") == a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

// normalizeName lower-cases a host name, drops a trailing dot and turns an IDN into its ASCII
// form, as the HTTP transport does before it dials.
func normalizeName(host string) (string, error) {
	h := strings.TrimSuffix(host, ".")
	if h == "" || strings.ContainsAny(h, " /\\%@:") {
		return "", errors.New("invalid host name")
	}
	for i := 0; i < len(h); i++ {
		if h[i] >= utf8.RuneSelf {
			a, err := idna.Lookup.ToASCII(h)
			if err != nil {
				return "", err
			}
			h = a
			break
		}
	}
	return strings.ToLower(h), nil
}

// isLocalhost is the probe's rule: localhost and names under .localhost are 127.0.0.1.
func isLocalhost(name string) bool {
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

func isLiteral(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}
