package probe

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// The probe checks a server's certificate itself, as Chromium does, rather than with Go's TLS
// defaults: Chromium reports the most serious of a certificate's problems (invalid, then an
// untrusted issuer, then the wrong name, then the dates) where Go stops at the first it finds;
// Chromium matches names by its own rules (a name with a trailing dot matches, a wildcard never
// covers a whole registry such as *.test or *.co.uk); and Chromium refuses a key usage without
// digitalSignature. Every rule here is checked against Chromium in the conformance suite.

// certError is a certificate Chromium would refuse: the class, the net error Chromium reports,
// and what is wrong in words.
type certError struct {
	class   NetworkClass
	code    string
	message string
}

func (e *certError) Error() string { return e.message + " (" + e.code + ")" }

// verifyCertificate judges the chain a server sent for host. roots nil means the system's.
func verifyCertificate(host string, certs []*x509.Certificate, roots *x509.CertPool, now time.Time) error {
	if len(certs) == 0 {
		return &certError{TLSUntrusted, "net::ERR_CERT_AUTHORITY_INVALID", "the server sent no certificate"}
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	// The chain is judged at a time when its certificates are valid, so that an expired
	// certificate does not hide a worse problem; the dates are judged last.
	for _, at := range candidateTimes(certs, now) {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		var invalid x509.CertificateInvalidError
		if err == nil {
			break
		}
		if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
			continue // at no time valid all together: the dates below say why
		}
		return chainError(err, host, certs)
	}
	if !nameMatches(leaf, host) {
		return &certError{TLSNameMismatch, "net::ERR_CERT_COMMON_NAME_INVALID", nameMismatchMessage(leaf, host)}
	}
	for _, c := range certs {
		switch {
		case now.After(c.NotAfter):
			return &certError{TLSExpired, "net::ERR_CERT_DATE_INVALID",
				fmt.Sprintf("the certificate %q expired on %s", c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC1123))}
		case now.Before(c.NotBefore):
			return &certError{TLSExpired, "net::ERR_CERT_DATE_INVALID",
				fmt.Sprintf("the certificate %q is not valid before %s (check the clocks)", c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC1123))}
		}
	}
	if ku := leaf.KeyUsage; ku != 0 && ku&x509.KeyUsageDigitalSignature == 0 {
		return errSSLKeyUsage
	}
	return nil
}

// candidateTimes are now and the edges of every certificate's validity, now first.
func candidateTimes(certs []*x509.Certificate, now time.Time) []time.Time {
	ts := []time.Time{now}
	for _, c := range certs {
		ts = append(ts, c.NotBefore.Add(time.Second), c.NotAfter.Add(-time.Second))
	}
	return ts
}

// chainError names a chain Go refused for another reason than its dates.
func chainError(err error, host string, certs []*x509.Certificate) *certError {
	var unknown x509.UnknownAuthorityError
	// Go says "unknown authority" also when it found the issuer but refused it (a SHA-1
	// signature, an issuer that is not a CA); it then adds "possibly because of …", and
	// Chromium calls that an invalid certificate.
	if errors.As(err, &unknown) && !strings.Contains(err.Error(), "possibly because of") {
		leaf := certs[0]
		msg := fmt.Sprintf("issued by %q, an authority not trusted here", leaf.Issuer.CommonName)
		switch {
		case bytes.Equal(leaf.RawIssuer, leaf.RawSubject):
			msg = "self-signed"
		case len(certs) == 1:
			msg += "; the server sends no chain, so if that issuer is an intermediate CA, the server must send it too"
		}
		return &certError{TLSUntrusted, "net::ERR_CERT_AUTHORITY_INVALID", msg}
	}
	// Everything else Go refuses in a chain (a key usage not for servers, an issuer that is not
	// a CA, a name constraint, a SHA-1 signature, an unknown critical extension) Chromium calls
	// an invalid certificate.
	return &certError{TLSInvalid, "net::ERR_CERT_INVALID", "the certificate of " + host + " is not valid for a web server: " + err.Error()}
}

// nameMatches is Chromium's host name check: the Subject Alternative Names only, trailing dots
// ignored, a wildcard only as a whole leftmost label and never over a registry.
func nameMatches(leaf *x509.Certificate, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return slices.ContainsFunc(leaf.IPAddresses, ip.Equal)
	}
	for _, san := range leaf.DNSNames {
		san = strings.ToLower(strings.TrimSuffix(san, "."))
		if san == host {
			return true
		}
		base, ok := strings.CutPrefix(san, "*.")
		if !ok || publicSuffixOf(base) == base {
			continue // not a wildcard, or one over a whole registry (*.co.uk, *.test)
		}
		if label, rest, ok := strings.Cut(host, "."); ok && label != "" && rest == base {
			return true
		}
	}
	return false
}

func publicSuffixOf(domain string) string {
	s, _ := publicsuffix.PublicSuffix(domain)
	return s
}

func nameMismatchMessage(leaf *x509.Certificate, host string) string {
	if len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 {
		return fmt.Sprintf("the certificate names %q only as its common name; browsers read only the Subject Alternative Names", leaf.Subject.CommonName)
	}
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return fmt.Sprintf("the certificate is valid for %s, not %s", strings.Join(names, ", "), host)
}

// verifyConnection is the TLS handshake's check of the server's certificate for host.
func verifyConnection(host string, roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		return verifyCertificate(host, cs.PeerCertificates, roots, time.Now())
	}
}
