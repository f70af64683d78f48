// Package alert tells people about incidents: it renders an incident's opening or closing for
// each kind of receiver (a generic JSON webhook, Webex, Microsoft Teams and Slack incoming
// webhooks, e-mail), sends it through the service's egress guard, and delivers what the outbox
// in the store holds, retrying with backoff until each receiver has it.
package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// Type is a kind of receiver.
type Type string

// The kinds of receiver.
const (
	Webhook Type = "webhook" // the generic JSON webhook (see Event)
	Slack   Type = "slack"   // a Slack incoming webhook
	Teams   Type = "teams"   // a Microsoft Teams incoming webhook (Workflows or connector)
	Webex   Type = "webex"   // a Webex incoming webhook
	Email   Type = "email"   // SMTP with STARTTLS (smtp://) or TLS from the start (smtps://)
)

// Receiver is where alerts go. Its URL holds secrets (the token of a chat webhook, the SMTP
// password): show Name, never the URL.
type Receiver struct {
	// ID is a short hash of the receiver's configuration: the outbox names receivers by it, so
	// alerts queued before a restart go to the same receiver after it.
	ID   string
	Type Type
	URL  *url.URL
	// Name is what logs and the admin UI show: the type, the host and the ID.
	Name string
	// For e-mail: the sender and the recipients.
	From string
	To   []string
}

// ParseReceiver reads a receiver from its configuration string: an http(s) URL for a generic
// webhook, or the URL prefixed by the type for the others:
//
//	https://alerts.example.com/corscheck            a generic JSON webhook
//	webhook+https://alerts.example.com/corscheck    the same
//	slack+https://hooks.slack.com/services/T…/B…/…
//	teams+https://….logic.azure.com/workflows/…
//	webex+https://webexapis.com/v1/webhooks/incoming/…
//	smtp://user:password@mail.example.com:587?from=corscheck@example.com&to=ops@example.com,noc@example.com
//	smtps://… (TLS from the first byte, port 465)
//
// The errors never quote the string: it holds secrets.
func ParseReceiver(s string) (Receiver, error) {
	typ, rest := Webhook, s
	if prefix, after, ok := strings.Cut(s, "+"); ok && !strings.Contains(prefix, ":") {
		typ, rest = Type(strings.ToLower(prefix)), after
	}
	u, err := url.Parse(rest)
	if err != nil || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return Receiver{}, fmt.Errorf("alert receiver: not a URL with a host (%s)", describeShape(s))
	}
	scheme := strings.ToLower(u.Scheme)
	r := Receiver{Type: typ, URL: u}
	switch {
	case scheme == "smtp" || scheme == "smtps":
		if typ != Webhook {
			return Receiver{}, fmt.Errorf("alert receiver %s: %s+%s is not a receiver; write smtp://… alone", u.Hostname(), typ, scheme)
		}
		r.Type = Email
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return Receiver{}, fmt.Errorf("alert receiver %s: has port %s; ports run from 1 to 65535", u.Hostname(), p)
			}
		}
		if err := r.parseMail(); err != nil {
			return Receiver{}, err
		}
	case scheme != "https" && scheme != "http":
		return Receiver{}, fmt.Errorf("alert receiver %s: scheme %q is not https, http, smtp or smtps", u.Hostname(), u.Scheme)
	case typ != Webhook && typ != Slack && typ != Teams && typ != Webex:
		return Receiver{}, fmt.Errorf("alert receiver %s: type %q is not webhook, slack, teams or webex", u.Hostname(), typ)
	case u.User != nil && typ != Webhook:
		return Receiver{}, fmt.Errorf("alert receiver %s: a %s webhook takes no user name or password", u.Hostname(), typ)
	case u.Fragment != "":
		return Receiver{}, fmt.Errorf("alert receiver %s: a webhook URL has no #fragment", u.Hostname())
	default:
		// A webhook URL is an http(s) URL like any other, except that a generic webhook may
		// carry Basic credentials in it.
		plain := *u
		plain.User = nil
		if err := cors.ValidateURL(&plain); err != nil {
			return Receiver{}, fmt.Errorf("alert receiver %s: %v", u.Hostname(), err)
		}
	}
	sum := sha256.Sum256([]byte(string(r.Type) + " " + u.String() + " " + r.From + " " + strings.Join(r.To, ",")))
	r.ID = hex.EncodeToString(sum[:4])
	r.Name = fmt.Sprintf("%s %s (%s)", r.Type, u.Hostname(), r.ID)
	return r, nil
}

// parseMail reads the sender and recipients of an smtp:// receiver.
func (r *Receiver) parseMail() error {
	q := r.URL.Query()
	host := r.URL.Hostname()
	for k := range q {
		if k != "from" && k != "to" {
			return fmt.Errorf("alert receiver %s: unknown parameter %q (from and to are known)", host, k)
		}
	}
	from, err := mail.ParseAddress(q.Get("from"))
	if err != nil {
		return fmt.Errorf("alert receiver %s: from must be one e-mail address", host)
	}
	r.From = from.Address
	for _, to := range strings.Split(q.Get("to"), ",") {
		a, err := mail.ParseAddress(strings.TrimSpace(to))
		if err != nil {
			return fmt.Errorf("alert receiver %s: to must be e-mail addresses separated by commas", host)
		}
		r.To = append(r.To, a.Address)
	}
	if r.URL.Path != "" && r.URL.Path != "/" {
		return fmt.Errorf("alert receiver %s: an smtp:// URL has no path", host)
	}
	return nil
}

// describeShape says what a configuration string looks like without quoting its secrets: its
// type prefix and scheme, if any.
func describeShape(s string) string {
	if i := strings.Index(s, "://"); i >= 0 && i < 20 {
		return "starts with " + s[:i+3]
	}
	return "no scheme://"
}

// Hosts returns the hosts the receivers name, lower case: the egress guard lets alerts reach
// these and no other.
func Hosts(rs []Receiver) []string {
	var out []string
	for _, r := range rs {
		out = append(out, strings.ToLower(strings.TrimSuffix(r.URL.Hostname(), ".")))
	}
	return out
}
