package alert

import (
	"slices"
	"strings"
	"testing"
)

func TestParseReceiver(t *testing.T) {
	good := []struct {
		in, typ, host string
		from          string
		to            []string
	}{
		{"https://alerts.example.com/corscheck", "webhook", "alerts.example.com", "", nil},
		{"webhook+https://user:pw@alerts.example.com/x", "webhook", "alerts.example.com", "", nil},
		{"slack+https://hooks.slack.com/services/T0/B0/secretsecret", "slack", "hooks.slack.com", "", nil},
		{"Teams+https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t", "teams", "prod-01.westeurope.logic.azure.com", "", nil},
		{"webex+https://webexapis.com/v1/webhooks/incoming/Y2lzY29", "webex", "webexapis.com", "", nil},
		{"smtp://bot:pw@mail.example.com:587?from=corscheck@example.com&to=ops@example.com,noc@example.com",
			"email", "mail.example.com", "corscheck@example.com", []string{"ops@example.com", "noc@example.com"}},
		{"smtps://mail.example.com?from=a@example.com&to=b@example.com", "email", "mail.example.com", "a@example.com", []string{"b@example.com"}},
	}
	ids := map[string]bool{}
	for _, g := range good {
		r, err := ParseReceiver(g.in)
		if err != nil {
			t.Errorf("%s: %v", g.in, err)
			continue
		}
		if string(r.Type) != g.typ || r.URL.Hostname() != g.host || r.From != g.from || !slices.Equal(r.To, g.to) {
			t.Errorf("%s: %+v", g.in, r)
		}
		if len(r.ID) != 8 || ids[r.ID] {
			t.Errorf("%s: id %q is not a fresh 8-character hash", g.in, r.ID)
		}
		ids[r.ID] = true
		if strings.Contains(r.Name, "secret") || strings.Contains(r.Name, "pw") || !strings.Contains(r.Name, g.host) {
			t.Errorf("%s: name %q shows a secret or not the host", g.in, r.Name)
		}
		if again, _ := ParseReceiver(g.in); again.ID != r.ID {
			t.Errorf("%s: the id changed between two parses", g.in)
		}
	}

	bad := []struct{ in, want string }{
		{"", "not a URL with a host"},
		{"hooks.slack.com/services/secret", "not a URL with a host (no scheme://)"},
		{"ftp://files.example.com/secret", `scheme "ftp" is not https, http, smtp or smtps`},
		{"file:///etc/passwd", "not a URL with a host"},
		{"gopher+https://x.example.com/secret", `type "gopher" is not webhook, slack, teams or webex`},
		{"slack+https://u:secret@hooks.slack.com/x", "a slack webhook takes no user name or password"},
		{"https://x.example.com:99999/secret", "has port 99999; ports run from 1 to 65535"},
		{"smtp://x.example.com:0?from=a@example.com&to=b@example.com", "has port 0; ports run from 1 to 65535"},
		{"https://x.example.com/secret#frag", "no #fragment"},
		{"slack+smtp://mail.example.com?from=a@b.c&to=d@e.f", "is not a receiver"},
		{"smtp://mail.example.com?to=ops@example.com", "from must be one e-mail address"},
		{"smtp://mail.example.com?from=a@example.com&to=ops", "to must be e-mail addresses"},
		{"smtp://mail.example.com?from=a@example.com&to=b@example.com&cc=secret@example.com", `unknown parameter "cc"`},
		{"smtp://mail.example.com/secret?from=a@example.com&to=b@example.com", "has no path"},
	}
	for _, b := range bad {
		_, err := ParseReceiver(b.in)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: error %v, want one with %q", b.in, err, b.want)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error quotes the secret: %v", b.in, err)
		}
	}
}

func TestHosts(t *testing.T) {
	var rs []Receiver
	for _, s := range []string{"https://A.example.com./x", "slack+https://hooks.slack.com/y"} {
		r, err := ParseReceiver(s)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if got := Hosts(rs); !slices.Equal(got, []string{"a.example.com", "hooks.slack.com"}) {
		t.Errorf("Hosts = %v", got)
	}
}
