package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/smtp"
	"slices"
	"strings"
	"time"

	"github.com/corsquickcheck/corscheck/server/egress"
)

// Guard is the egress policy of alerts: the receivers' hosts and no other, at addresses that are
// public unless nets allows them (an on-premises mail relay or webhook receiver at 10.0.0.25:
// nets 10.0.0.25/32). It is the same guard the diagnosis passes, with its own allow-list.
func Guard(rs []Receiver, nets []netip.Prefix) *egress.Policy {
	hosts := Hosts(rs)
	return &egress.Policy{AllowHost: func(h string) bool { return slices.Contains(hosts, h) }, AllowedNets: nets,
		HostList: "the alert receivers"}
}

// SenderOptions configure a Sender.
type SenderOptions struct {
	// Guard decides which hosts and addresses alerts may reach (see Guard). Required.
	Guard *egress.Policy
	// RootCAs are the CAs trusted for HTTPS receivers and SMTP's TLS, besides the system's
	// (--ca-file); nil trusts the system's alone.
	RootCAs *x509.CertPool
	// Hostname names this service to mail servers (EHLO) and in Message-IDs; default
	// "corscheck.invalid".
	Hostname string
	// Timeout bounds one delivery (default 15 s).
	Timeout time.Duration
	// UserAgent is sent to webhook receivers.
	UserAgent string
}

// Sender sends one event to one receiver. It is safe for concurrent use.
type Sender struct {
	opt    SenderOptions
	client *http.Client
}

// NewSender returns a sender whose every connection passes the guard.
func NewSender(opt SenderOptions) *Sender {
	if opt.Hostname == "" {
		opt.Hostname = "corscheck.invalid"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 15 * time.Second
	}
	if opt.UserAgent == "" {
		opt.UserAgent = "corscheck-alerts/1"
	}
	tr := &http.Transport{
		Proxy:               nil, // the guard judges the receiver's own address
		DialContext:         opt.Guard.DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: opt.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Sender{opt: opt, client: &http.Client{
		Transport: tr,
		Timeout:   opt.Timeout,
		// A redirect could lead anywhere the guard allows; receivers do not redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Close releases idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// Send delivers e to r once. An error says why it did not arrive; the outbox retries.
func (s *Sender) Send(ctx context.Context, r Receiver, e Event) error {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	if r.Type == Email {
		return s.sendMail(ctx, r, e)
	}
	body, err := Render(r.Type, e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", r.Name, redact(err, r))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.opt.UserAgent)
	req.Header.Set("Idempotency-Key", e.IdempotencyKey)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", r.Name, redact(err, r))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return fmt.Errorf("%s: answered %s; alerts do not follow redirects: configure the URL it redirects to", r.Name, resp.Status)
	}
	return fmt.Errorf("%s: answered %s: %s", r.Name, resp.Status, strings.TrimSpace(oneLine(string(answer))))
}

// redact removes the receiver's URL, which holds its secret, from an error of net/http.
func redact(err error, r Receiver) error {
	msg := err.Error()
	if u := r.URL.String(); strings.Contains(msg, u) {
		return &redacted{msg: strings.ReplaceAll(msg, u, r.URL.Scheme+"://"+r.URL.Host+"/…"), err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return errors.Unwrap(r.err) }

// sendMail sends e over SMTP: STARTTLS is required on smtp://, so the message and the password
// never cross the network in clear; smtps:// speaks TLS from the first byte.
func (s *Sender) sendMail(ctx context.Context, r Receiver, e Event) (err error) {
	host := r.URL.Hostname()
	port := r.URL.Port()
	if port == "" {
		port = "587"
		if r.URL.Scheme == "smtps" {
			port = "465"
		}
	}
	fail := func(step string, err error) error { return fmt.Errorf("%s: %s: %w", r.Name, step, err) }
	conn, err := s.opt.Guard.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fail("connect", err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	tlsConfig := &tls.Config{ServerName: host, RootCAs: s.opt.RootCAs, MinVersion: tls.VersionTLS12}
	if r.URL.Scheme == "smtps" {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("TLS", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fail("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.opt.Hostname); err != nil {
		return fail("EHLO", err)
	}
	if r.URL.Scheme != "smtps" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%s: the server does not offer STARTTLS; alerts are never sent in clear", r.Name)
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return fail("STARTTLS", err)
		}
	}
	if u := r.URL.User; u != nil {
		password, _ := u.Password()
		if err := c.Auth(smtp.PlainAuth("", u.Username(), password, host)); err != nil {
			return fail("AUTH", err)
		}
	}
	if err := c.Mail(r.From); err != nil {
		return fail("MAIL FROM", err)
	}
	for _, to := range r.To {
		if err := c.Rcpt(to); err != nil {
			return fail("RCPT TO "+to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(Message(e, r.From, r.To, s.opt.Hostname)); err != nil {
		return fail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return fail("DATA", err)
	}
	if err := c.Quit(); err != nil {
		return fail("QUIT", err)
	}
	return nil
}
