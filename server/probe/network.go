package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// NetworkClass names why a request got no HTTP answer. These are never CORS failures.
type NetworkClass string

// The network error classes.
const (
	DNS              NetworkClass = "dns"
	Refused          NetworkClass = "refused"
	Timeout          NetworkClass = "timeout"
	TLSUntrusted     NetworkClass = "tls-untrusted"
	TLSNameMismatch  NetworkClass = "tls-name-mismatch"
	TLSExpired       NetworkClass = "tls-expired"
	TLSOther         NetworkClass = "tls"
	Reset            NetworkClass = "reset"
	Protocol         NetworkClass = "protocol"
	MixedContent     NetworkClass = "mixed-content"
	TooManyRedirects NetworkClass = "too-many-redirects"
	UnsafeRedirect   NetworkClass = "unsafe-redirect"
	Forbidden        NetworkClass = "forbidden"
)

// NetworkClasses lists every class, in the order above.
var NetworkClasses = []NetworkClass{DNS, Refused, Timeout, TLSUntrusted, TLSNameMismatch, TLSExpired, TLSOther,
	Reset, Protocol, MixedContent, TooManyRedirects, UnsafeRedirect, Forbidden}

// NetworkError is a request that got no HTTP answer.
type NetworkError struct {
	Class       NetworkClass `json:"class"`
	Message     string       `json:"message"`
	OnPreflight bool         `json:"onPreflight,omitempty"`
}

// ErrForbiddenAddress is returned by a dialer that refuses an address (see Options.DialContext).
var ErrForbiddenAddress = errors.New("address not allowed")

// Classify names a transport error the way an engineer would look for its cause.
func Classify(err error) NetworkError {
	ne := NetworkError{Message: err.Error()}
	var (
		dnsErr      *net.DNSError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
	)
	switch {
	case errors.Is(err, cors.ErrTooManyRedirects):
		ne.Class = TooManyRedirects
	case errors.Is(err, cors.ErrUnsafeRedirect):
		ne.Class = UnsafeRedirect
	case errors.Is(err, ErrForbiddenAddress):
		ne.Class = Forbidden
	case errors.As(err, &dnsErr):
		ne.Class = DNS
	case errors.As(err, &unknownAuth):
		ne.Class = TLSUntrusted
	case errors.As(err, &hostErr):
		ne.Class = TLSNameMismatch
	case errors.As(err, &invalidErr):
		if invalidErr.Reason == x509.Expired {
			ne.Class = TLSExpired
		} else {
			ne.Class = TLSUntrusted
		}
	case errors.As(err, &verifyErr):
		ne.Class = TLSUntrusted
	case errors.As(err, &recordErr):
		ne.Class = Protocol
	case errors.As(err, &alertErr):
		ne.Class = TLSOther
	case errors.Is(err, syscall.ECONNREFUSED):
		ne.Class = Refused
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		ne.Class = Timeout
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed):
		ne.Class = Reset
	case strings.Contains(err.Error(), "tls:"):
		ne.Class = TLSOther
	default:
		ne.Class = Protocol
	}
	return ne
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Explain says in plain words what the class means.
func (n NetworkError) Explain() string {
	where := ""
	if n.OnPreflight {
		where = " (on the preflight)"
	}
	switch n.Class {
	case DNS:
		return "the host name does not resolve" + where
	case Refused:
		return "the connection was refused: nothing listens on that port, or a firewall rejects it" + where
	case Timeout:
		return "no answer in time" + where
	case TLSUntrusted:
		return "the TLS certificate is not trusted" + where
	case TLSNameMismatch:
		return "the TLS certificate does not name this host" + where
	case TLSExpired:
		return "the TLS certificate has expired or is not yet valid" + where
	case TLSOther:
		return "the TLS handshake failed" + where
	case Reset:
		return "the connection was closed without an answer" + where
	case MixedContent:
		return "an https page cannot fetch an http URL (mixed content)"
	case TooManyRedirects:
		return "more than 20 redirects"
	case UnsafeRedirect:
		return "a redirect points to a scheme the browser will not fetch (data:, ftp:, …)"
	case Forbidden:
		return "this host is not allowed to be probed from here"
	}
	return "no valid HTTP answer" + where
}
