package probe

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// Chromium and net/http read HTTP/1 response heads differently: Chromium trims spaces before the
// colon of a header line, ends lines at a lone CR, skips lines it cannot read instead of failing,
// and refuses conflicting copies of Location, Content-Length and Content-Disposition. So on
// HTTP/1 connections the probe records the bytes of each response head and reads them again as
// Chromium does (net/http/http_util.cc and http_response_headers.cc); net/http still moves the
// bytes. HTTP/2 heads are structured, so both read them alike.

// maxHeadBytes is Chromium's limit on a response head (net::ERR_RESPONSE_HEADERS_TOO_BIG).
const maxHeadBytes = 256 << 10

// maxCaptureBytes bounds what is recorded of one exchange: the final head may follow
// informational (1xx) ones.
const maxCaptureBytes = 2*maxHeadBytes + 1

// capturingConn records what the server sends on an HTTP/1 connection from the start of an
// exchange (mark) to the end of the final response head (after any 1xx heads).
type capturingConn struct {
	net.Conn
	mu   sync.Mutex
	buf  []byte
	done bool // the head is complete, or too big: stop recording
}

func (c *capturingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if !c.done {
			from := max(len(c.buf)-3, 0)
			c.buf = append(c.buf, p[:min(n, maxCaptureBytes-len(c.buf))]...)
			c.done = len(c.buf) >= maxCaptureBytes || (headEnd(c.buf[from:]) >= 0 && finalHeadComplete(c.buf))
		}
		c.mu.Unlock()
	}
	return n, err
}

// mark starts recording a new response.
func (c *capturingConn) mark() {
	c.mu.Lock()
	c.buf, c.done = c.buf[:0], false
	c.mu.Unlock()
}

// chromiumView is the response as Chromium reads the recorded head: nil with net/http's error
// when the head is incomplete and the connection still open, net/http's own reading (resp) when
// the head is plain, and otherwise the head read again. defaultPort tells whether the URL had its
// scheme's default port.
func (c *capturingConn) chromiumView(resp *http.Response, err error, defaultPort bool) (*cors.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if resp != nil && err == nil && plainHead(c.buf) {
		return &cors.Response{Status: resp.StatusCode, Header: resp.Header}, nil
	}
	closed := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	r, complete, headErr := readHead(c.buf, defaultPort, closed)
	switch {
	case headErr != nil:
		return nil, headErr
	case !complete:
		return nil, err
	}
	return r, nil
}

// The errors Chromium gives a response head it refuses.
var (
	errInvalidResponse       = &cors.NetError{Code: "net::ERR_INVALID_HTTP_RESPONSE", Detail: "the answer is not a valid HTTP response"}
	errHeadersTooBig         = &cors.NetError{Code: "net::ERR_RESPONSE_HEADERS_TOO_BIG", Detail: "the response head is larger than 256 KB"}
	errMultipleLocation      = &cors.NetError{Code: "net::ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION", Detail: "the response has two different Location headers"}
	errMultipleLength        = &cors.NetError{Code: "net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH", Detail: "the response has two different Content-Length headers"}
	errMultipleDisposition   = &cors.NetError{Code: "net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION", Detail: "the response has two different Content-Disposition headers"}
	errSSLProtocol           = &cors.NetError{Code: "net::ERR_SSL_PROTOCOL_ERROR", Detail: "the server did not answer the TLS handshake (plain HTTP on an https port?)"}
	errSSLVersion            = &cors.NetError{Code: "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH", Detail: "no TLS version or cipher suite in common (the server offers only TLS 1.0 or 1.1, or old ciphers)"}
	errSSLKeyUsage           = &cors.NetError{Code: "net::ERR_SSL_KEY_USAGE_INCOMPATIBLE", Detail: "the certificate's key usage does not allow signing, which TLS needs"}
	errEmptyResponse         = &cors.NetError{Code: "net::ERR_EMPTY_RESPONSE", Detail: "the server closed the connection without sending anything"}
	multipleCopiesNotAllowed = []struct {
		name string
		err  *cors.NetError
	}{{"Content-Length", errMultipleLength}, {"Content-Disposition", errMultipleDisposition}, {"Location", errMultipleLocation}}
)

// headEnd returns the length of the head in b (through the empty line that ends it), or -1.
// Chromium ends a head at LF LF or LF CR LF.
func headEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// finalHeadComplete reports whether b holds a whole final response head, after any 1xx heads.
func finalHeadComplete(b []byte) bool {
	for {
		end := headEnd(b)
		if end < 0 {
			return false
		}
		if !informational(b[:end]) {
			return true
		}
		b = b[end:]
	}
}

// informational reports whether a head's status is 1xx, which Chromium skips (101 included).
func informational(head []byte) bool {
	start := statusLineStart(head)
	if start < 0 {
		return false
	}
	line, _, _ := bytes.Cut(head[start:], []byte("\n"))
	code := statusCode(bytes.TrimRight(line, "\r"))
	return code >= 100 && code <= 199
}

// readHead reads a recorded HTTP/1 response as Chromium does: 1xx heads are skipped, and the
// final head is read line by line. complete is false when b holds no whole final head and the
// connection is still open (the caller then keeps net/http's view); when the connection closed
// (closed), what came is taken as it is. defaultPort tells whether the URL had its scheme's
// default port: only there does Chromium accept an answer without a status line (HTTP/0.9).
func readHead(b []byte, defaultPort, closed bool) (resp *cors.Response, complete bool, err error) {
	for {
		end := headEnd(b)
		switch {
		case end < 0 && len(b) > maxHeadBytes:
			return nil, true, errHeadersTooBig
		case end < 0 && !closed:
			return nil, false, nil
		case end < 0 && len(b) == 0:
			return nil, true, errEmptyResponse
		case end < 0:
			end = len(b) // a head cut short by the end of the connection counts as it is
		case end > maxHeadBytes:
			return nil, true, errHeadersTooBig
		}
		if !informational(b[:end]) {
			return parseHead(b[:end], defaultPort)
		}
		b = b[end:]
	}
}

// parseHead reads one final response head.
func parseHead(b []byte, defaultPort bool) (resp *cors.Response, complete bool, err error) {
	start := statusLineStart(b)
	if start < 0 {
		if defaultPort {
			return &cors.Response{Status: 200, Header: http.Header{}}, true, nil
		}
		return nil, true, errInvalidResponse
	}
	b = b[start:]
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, true, errInvalidResponse
	}
	lines := bytes.FieldsFunc(b, func(r rune) bool { return r == '\r' || r == '\n' })
	resp = &cors.Response{Status: statusCode(lines[0]), Header: http.Header{}}
	// Join continuation lines (obs-fold) to a header line before them, with one space.
	var joined [][]byte
	continuable := false
	for _, l := range lines[1:] {
		if continuable && isLWS(l[0]) {
			last := &joined[len(joined)-1]
			*last = append(append(*last, ' '), bytes.TrimLeft(l, " \t")...)
			continue
		}
		joined = append(joined, bytes.Clone(l))
		colon := bytes.IndexByte(l, ':')
		continuable = colon > 0 && !isLWS(l[0])
	}
	for _, l := range joined {
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 || isLWS(l[0]) {
			continue // a line Chromium skips
		}
		name := bytes.TrimRight(l[:colon], " \t")
		if !isToken(name) {
			continue
		}
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		resp.Header[key] = append(resp.Header[key], string(bytes.Trim(l[colon+1:], " \t")))
	}
	if err := conflictingCopies(resp.Header); err != nil {
		return nil, true, err
	}
	return resp, true, nil
}

// conflictingCopies is Chromium's refusal of a response whose Location, Content-Length (unless
// chunked) or Content-Disposition has two different values. Content-Length and
// Content-Disposition values are also split at commas outside quotes first (so
// "Content-Length: 2,3" conflicts, "2, 2" does not); Location is not.
func conflictingCopies(h http.Header) error {
	chunked := false
	for _, v := range h.Values("Transfer-Encoding") {
		chunked = chunked || strings.Contains(strings.ToLower(v), "chunked")
	}
	for _, m := range multipleCopiesNotAllowed {
		if m.name == "Content-Length" && chunked {
			continue
		}
		var values []string
		for _, v := range h.Values(m.name) {
			if m.name == "Location" {
				values = append(values, v)
			} else {
				values = append(values, splitValues(v)...)
			}
		}
		for _, v := range values[min(1, len(values)):] {
			if v != values[0] {
				return m.err
			}
		}
	}
	return nil
}

// splitValues splits a header value at commas outside double quotes, trims each piece and drops
// empty ones, as Chromium's value iterator does.
func splitValues(v string) []string {
	var out []string
	quoted, from := false, 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) && v[i] == '"' {
			quoted = !quoted
		}
		if i == len(v) || (v[i] == ',' && !quoted) {
			if piece := strings.Trim(v[from:i], " \t"); piece != "" {
				out = append(out, piece)
			}
			from = i + 1
		}
	}
	return out
}

// plainHead reports whether a recorded head is written so plainly that net/http and Chromium
// read it alike: a status line HTTP/1.x NNN, lines ended by CRLF, each "token: value" without
// control bytes, no continuation lines, and at most one Location, Content-Length and
// Content-Disposition. Nearly every server writes such heads; for them the probe keeps net/http's
// reading and spares a second parse.
func plainHead(b []byte) bool {
	end := headEnd(b)
	if end < 0 || end > maxHeadBytes || !bytes.HasPrefix(b, []byte("HTTP/1.")) {
		return false
	}
	b = b[:end]
	line, rest, _ := bytes.Cut(b, []byte("\r\n"))
	if len(line) < 12 || line[8] != ' ' || !isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) || (len(line) > 12 && line[12] != ' ') ||
		line[9] == '1' {
		return false
	}
	var location, length, disposition int
	for len(rest) > 2 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return false
		}
		if !isToken(line[:colon]) {
			return false
		}
		for _, c := range line[colon+1:] {
			if (c < ' ' && c != '\t') || c == 0x7f {
				return false
			}
		}
		switch name, value := line[:colon], line[colon+1:]; {
		case bytes.EqualFold(name, []byte("Location")):
			location++
		case bytes.EqualFold(name, []byte("Content-Length")):
			length += 1 + bytes.Count(value, []byte(","))
		case bytes.EqualFold(name, []byte("Content-Disposition")):
			disposition += 1 + bytes.Count(value, []byte(","))
		}
	}
	return location <= 1 && length <= 1 && disposition <= 1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// statusLineStart finds "http" (any case) within the first bytes, as Chromium allows a little
// junk before the status line; -1 when there is none.
func statusLineStart(b []byte) int {
	for i := 0; i <= 4 && i+4 <= len(b); i++ {
		if bytes.EqualFold(b[i:i+4], []byte("http")) {
			return i
		}
	}
	return -1
}

// statusCode reads the digits after the version; Chromium assumes 200 when there are none.
func statusCode(line []byte) int {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return 200
	}
	rest := bytes.TrimLeft(line[sp:], " ")
	n := 0
	for n < len(rest) && n < 9 && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	code, err := strconv.Atoi(string(rest[:n]))
	if err != nil {
		return 200
	}
	return code
}

func isLWS(c byte) bool { return c == ' ' || c == '\t' }

// isToken reports whether s is an HTTP token (RFC 9110 tchar).
func isToken(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !tchar[c] {
			return false
		}
	}
	return true
}

// tchar marks the bytes of HTTP tokens.
var tchar = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c)
	}
	return t
}()
