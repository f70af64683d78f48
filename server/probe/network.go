package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/words"
)

// NetworkClass names why a request got no HTTP answer the page could be judged on. These are
// never CORS failures. Each report also carries the error Chromium gives the same failure
// (NetworkError.NetError), which is what DevTools and the console show.
type NetworkClass string

// The network error classes.
const (
	DNS                NetworkClass = "dns"                 // net::ERR_NAME_NOT_RESOLVED
	Refused            NetworkClass = "refused"             // net::ERR_CONNECTION_REFUSED
	Timeout            NetworkClass = "timeout"             // net::ERR_CONNECTION_TIMED_OUT, net::ERR_TIMED_OUT
	TLSUntrusted       NetworkClass = "tls-untrusted"       // net::ERR_CERT_AUTHORITY_INVALID
	TLSNameMismatch    NetworkClass = "tls-name-mismatch"   // net::ERR_CERT_COMMON_NAME_INVALID
	TLSExpired         NetworkClass = "tls-expired"         // net::ERR_CERT_DATE_INVALID
	TLSInvalid         NetworkClass = "tls-invalid"         // net::ERR_CERT_INVALID
	TLSKeyUsage        NetworkClass = "tls-key-usage"       // net::ERR_SSL_KEY_USAGE_INCOMPATIBLE
	TLSVersion         NetworkClass = "tls-version"         // net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH
	TLSOther           NetworkClass = "tls"                 // net::ERR_SSL_PROTOCOL_ERROR
	Reset              NetworkClass = "reset"               // net::ERR_CONNECTION_RESET, ERR_EMPTY_RESPONSE, ERR_CONNECTION_CLOSED
	Protocol           NetworkClass = "protocol"            // net::ERR_INVALID_HTTP_RESPONSE; ERR_SSL_PROTOCOL_ERROR for plain HTTP on https
	ConflictingHeaders NetworkClass = "conflicting-headers" // net::ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION, …
	MixedContent       NetworkClass = "mixed-content"       // blocked reason mixed-content; net::ERR_ABORTED on a redirect
	TooManyRedirects   NetworkClass = "too-many-redirects"  // net::ERR_TOO_MANY_REDIRECTS
	UnsafeRedirect     NetworkClass = "unsafe-redirect"     // net::ERR_UNSAFE_REDIRECT; ERR_ABORTED for view-source:
	InvalidRedirect    NetworkClass = "invalid-redirect"    // net::ERR_INVALID_REDIRECT
	Forbidden          NetworkClass = "forbidden"           // the service's egress guard; no browser error
	NoAnswer           NetworkClass = "no-answer"           // a recording shows no answer, not why; no browser error
)

// NetworkClasses lists every class, in the order above.
var NetworkClasses = []NetworkClass{DNS, Refused, Timeout, TLSUntrusted, TLSNameMismatch,
	TLSExpired, TLSInvalid, TLSKeyUsage, TLSVersion, TLSOther, Reset, Protocol, ConflictingHeaders, MixedContent,
	TooManyRedirects, UnsafeRedirect, InvalidRedirect, Forbidden, NoAnswer}

// NetworkError is a request that got no HTTP answer.
type NetworkError struct {
	Class NetworkClass `json:"class"`
	// NetError is the error Chromium reports for the same failure (DevTools' Network panel, the
	// console, Network.loadingFailed's errorText), e.g. net::ERR_CERT_DATE_INVALID. It is empty
	// where Chromium reports only a blocked reason (mixed content) or where no browser is
	// involved (the service's egress guard).
	NetError    string `json:"netError,omitempty"`
	Message     string `json:"message"`
	OnPreflight bool   `json:"onPreflight,omitempty"`
}

// Refusal is what a dialer (Options.DialContext) that refuses an address returns, or wraps:
// an error whose Forbidden method says so (the service's egress guard returns *egress.Error).
// The probe reports it as Forbidden. An interface, not a sentinel, so that a guard need not
// import the probe.
type Refusal interface {
	error
	Forbidden() bool
}

// NoAnswerError is a request that a recording (a HAR, console text) shows got no answer, without
// saying why: what a replay answers for it. The report names no browser error for it (class
// NoAnswer), because the browser recorded none.
type NoAnswerError struct{ Detail string }

func (e *NoAnswerError) Error() string { return e.Detail }

// isRefusal reports whether err is, or wraps, a Refusal.
func isRefusal(err error) bool {
	r, ok := errors.AsType[Refusal](err)
	return ok && r.Forbidden()
}

// netErrorClasses gives the class of each error the probe and the cors package name themselves.
var netErrorClasses = map[string]NetworkClass{
	cors.ErrTooManyRedirects.Code:       TooManyRedirects,
	cors.ErrUnsafeRedirect.Code:         UnsafeRedirect,
	cors.ErrInvalidRedirect.Code:        InvalidRedirect,
	errInvalidResponse.Code:             Protocol,
	errHeadersTooBig.Code:               Protocol,
	errMultipleLocation.Code:            ConflictingHeaders,
	errMultipleLength.Code:              ConflictingHeaders,
	errMultipleDisposition.Code:         ConflictingHeaders,
	errSSLProtocol.Code:                 Protocol,
	errSSLVersion.Code:                  TLSVersion,
	errSSLKeyUsage.Code:                 TLSKeyUsage,
	errEmptyResponse.Code:               Reset,
	"net::ERR_CERT_AUTHORITY_INVALID":   TLSUntrusted,
	"net::ERR_CERT_COMMON_NAME_INVALID": TLSNameMismatch,
	"net::ERR_CERT_DATE_INVALID":        TLSExpired,
	"net::ERR_CERT_INVALID":             TLSInvalid,
	// Codes a browser recorded (a HAR's _error, a console line), which the probe never makes
	// itself from a Go error.
	"net::ERR_NAME_NOT_RESOLVED":    DNS,
	"net::ERR_CONNECTION_REFUSED":   Refused,
	"net::ERR_CONNECTION_TIMED_OUT": Timeout,
	"net::ERR_TIMED_OUT":            Timeout,
	"net::ERR_CONNECTION_RESET":     Reset,
	"net::ERR_CONNECTION_CLOSED":    Reset,
	"net::ERR_ADDRESS_UNREACHABLE":  Timeout,
	"net::ERR_CONNECTION_ABORTED":   Reset,
}

// classify names a transport error the way Chromium names it, and gives it the class an engineer
// would look for its cause by.
func classify(err error) NetworkError {
	ne := NetworkError{Message: err.Error()}
	var (
		named     *cors.NetError
		dnsErr    *net.DNSError
		certErr   *certError
		recordErr tls.RecordHeaderError
		alertErr  tls.AlertError
		opErr     *net.OpError
	)
	switch {
	case errors.Is(err, cors.ErrMixedContent):
		ne.Class, ne.NetError = MixedContent, cors.ErrMixedContent.Code
	case errors.Is(err, cors.ErrMixedContentRedirect):
		ne.Class, ne.NetError = MixedContent, cors.ErrMixedContentRedirect.Code
	case errors.Is(err, cors.ErrFirefoxRedirectCredentials), errors.Is(err, cors.ErrFirefoxEmptyLocation):
		ne.Class, ne.Message = InvalidRedirect, err.Error()
	case errors.Is(err, cors.ErrFirefoxUnsafeRedirect), errors.As(err, new(*cors.FirefoxSecurityError)):
		ne.Class, ne.Message = UnsafeRedirect, err.Error()
	case errors.Is(err, cors.ErrAbortedRedirect):
		ne.Class, ne.NetError = UnsafeRedirect, cors.ErrAbortedRedirect.Code
	case errors.As(err, new(*NoAnswerError)):
		ne.Class = NoAnswer
	case errors.As(err, &named):
		ne.Class, ne.NetError, ne.Message = netErrorClasses[named.Code], named.Code, named.Detail
	case isRefusal(err):
		ne.Class = Forbidden
	case errors.As(err, &dnsErr):
		ne.Class, ne.NetError = DNS, "net::ERR_NAME_NOT_RESOLVED"
	case errors.As(err, &certErr):
		ne.Class, ne.NetError, ne.Message = certErr.class, certErr.code, certErr.message
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		ne.Class, ne.NetError, ne.Message = Protocol, errSSLProtocol.Code, errSSLProtocol.Detail
	case versionMismatch(err):
		ne.Class, ne.NetError, ne.Message = TLSVersion, errSSLVersion.Code, errSSLVersion.Detail+": "+err.Error()
	case errors.As(err, &alertErr), strings.Contains(err.Error(), "tls:"):
		ne.Class, ne.NetError = TLSOther, errSSLProtocol.Code
	case errors.Is(err, syscall.ECONNREFUSED):
		ne.Class, ne.NetError = Refused, "net::ERR_CONNECTION_REFUSED"
	case errors.As(err, &opErr) && opErr.Op == "dial" && isTimeout(err):
		ne.Class, ne.NetError = Timeout, "net::ERR_CONNECTION_TIMED_OUT"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		ne.Class, ne.NetError = Timeout, "net::ERR_TIMED_OUT"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		ne.Class, ne.NetError = Reset, "net::ERR_CONNECTION_RESET"
	case errors.Is(err, io.EOF), strings.Contains(err.Error(), "server closed idle connection"):
		// net/http says the latter when a server closes a fresh connection before answering and
		// a retry met the same.
		ne.Class, ne.NetError, ne.Message = Reset, errEmptyResponse.Code, errEmptyResponse.Detail
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed):
		ne.Class, ne.NetError = Reset, "net::ERR_CONNECTION_CLOSED"
	default:
		ne.Class, ne.NetError = Protocol, errInvalidResponse.Code
	}
	return ne
}

// versionMismatch tells a handshake that found no TLS version or cipher suite in common: the
// server picked a version the probe refuses, or answered with a handshake_failure,
// protocol_version or insufficient_security alert (net/tls reports a received alert only as text).
func versionMismatch(err error) bool {
	msg := err.Error()
	for _, s := range []string{"tls: server selected unsupported protocol version", "remote error: tls: protocol version not supported",
		"remote error: tls: handshake failure", "remote error: tls: insufficient security level"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Explain says in plain words what the class means, in l.
func (n NetworkError) Explain(l words.Lang) string {
	where := ""
	if n.OnPreflight {
		where = words.Say(l, "network.onPreflight", nil)
	}
	key := "network." + string(n.Class)
	if !words.Has(key) {
		key = "network." + string(Protocol)
	}
	return words.Say(l, key, map[string]string{"where": where})
}
