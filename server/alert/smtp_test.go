package alert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailbox is a local SMTP server's store: the messages it accepted, and the logins it saw.
type mailbox struct {
	mu     sync.Mutex
	mails  []sentMail
	logins []string
	tls    []bool // whether each session was encrypted when it authenticated or sent
}

type sentMail struct {
	from string
	to   []string
	data []byte
}

func (m *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{box: m, conn: c}, nil
}

type session struct {
	box  *mailbox
	conn *smtp.Conn
	mail sentMail
}

func (s *session) encrypted() bool {
	_, ok := s.conn.TLSConnectionState()
	return ok
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.box.mu.Lock()
		defer s.box.mu.Unlock()
		s.box.logins = append(s.box.logins, user)
		s.box.tls = append(s.box.tls, s.encrypted())
		if user != "bot" || pass != "s3cret" {
			return errors.New("invalid credentials")
		}
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.mail.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mail.to = append(s.mail.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mail.data = b
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.mails = append(s.box.mails, s.mail)
	s.box.tls = append(s.box.tls, s.encrypted())
	return nil
}
func (s *session) Reset()        { s.mail = sentMail{} }
func (s *session) Logout() error { return nil }

// testCert is a certificate for 127.0.0.1 and the pool that trusts it (httptest's own).
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.TLS.Certificates[0], srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
}

// startMailServer runs a local SMTP server; with cert it offers STARTTLS (or, implicit, speaks
// TLS from the start).
func startMailServer(t *testing.T, cert *tls.Certificate, implicit bool) (*mailbox, string) {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "mail.test"
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return box, ln.Addr().String()
}

func TestSendMail(t *testing.T) {
	cert, roots := testCert(t)
	for _, implicit := range []bool{false, true} {
		box, addr := startMailServer(t, &cert, implicit)
		scheme := "smtp"
		if implicit {
			scheme = "smtps"
		}
		r := mustReceiver(t, scheme+"://bot:s3cret@"+addr+"?from=corscheck@example.com&to=ops@example.com,noc@example.com")
		s := NewSender(SenderOptions{Guard: Guard([]Receiver{r}, loopback), RootCAs: roots, Hostname: "corscheck.example.com"})
		for _, ev := range []string{Opened, Closed} {
			if err := s.Send(t.Context(), r, sampleEvent(ev)); err != nil {
				t.Fatalf("%s %s: %v", scheme, ev, err)
			}
		}
		if len(box.mails) != 2 || len(box.logins) != 2 {
			t.Fatalf("%s: %d mails, %d logins; want 2 of each", scheme, len(box.mails), len(box.logins))
		}
		for i, enc := range box.tls {
			if !enc {
				t.Errorf("%s: step %d happened in clear", scheme, i)
			}
		}
		m := box.mails[0]
		if m.from != "corscheck@example.com" || strings.Join(m.to, ",") != "ops@example.com,noc@example.com" {
			t.Errorf("%s: envelope %s → %v", scheme, m.from, m.to)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(m.data)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(msg.Body)
		if msg.Header.Get("Message-Id") != "<corscheck-a1b2c3d4-incident-42-opened@corscheck.example.com>" ||
			!strings.Contains(string(body), "utils cuic cors allowed_origin add https://finessep.example.com:8445") {
			t.Errorf("%s: message\n%s", scheme, m.data)
		}
	}
}

// A server that does not offer STARTTLS gets neither the password nor the message.
func TestSendMailNeedsTLS(t *testing.T) {
	box, addr := startMailServer(t, nil, false)
	r := mustReceiver(t, "smtp://bot:s3cret@"+addr+"?from=corscheck@example.com&to=ops@example.com")
	s := NewSender(SenderOptions{Guard: Guard([]Receiver{r}, loopback)})
	err := s.Send(t.Context(), r, sampleEvent(Opened))
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Errorf("error %v", err)
	}
	if len(box.mails) != 0 || len(box.logins) != 0 {
		t.Errorf("the server without TLS got %d mails and %d logins", len(box.mails), len(box.logins))
	}
}

// A certificate the service does not trust stops the delivery before the login.
func TestSendMailChecksTheCertificate(t *testing.T) {
	cert, _ := testCert(t)
	box, addr := startMailServer(t, &cert, false)
	r := mustReceiver(t, "smtp://bot:s3cret@"+addr+"?from=corscheck@example.com&to=ops@example.com")
	s := NewSender(SenderOptions{Guard: Guard([]Receiver{r}, loopback)}) // without the test CA
	err := s.Send(t.Context(), r, sampleEvent(Opened))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("error %v", err)
	}
	if len(box.logins) != 0 {
		t.Errorf("the untrusted server got %d logins", len(box.logins))
	}
}
