package alert

import (
	"encoding/json"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/targets"
)

var openedAt = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func sampleEvent(event string) Event {
	e := Event{
		Schema: Schema, IdempotencyKey: Key("a1b2c3d4", 42, event), Event: event, OccurredAt: openedAt,
		Incident: Incident{
			ID: 42, Node: "cuicsub.example.com", Origin: "https://finessep.example.com:8445", Kind: targets.CUIC,
			Endpoint: "CUIC 8444", URL: "https://cuicsub.example.com:8444/cuic/rest/status/",
			From: "allowed", To: "blocked", Reason: "PreflightMissingAllowOriginHeader",
			Explanation: "the preflight (OPTIONS) response has no Access-Control-Allow-Origin header <b>&</b>",
			Fixes: []fix.Fix{{Node: "cuicsub.example.com", Summary: "allow the origin https://finessep.example.com:8445 on cuicsub.example.com",
				Commands: []string{"utils cuic cors allowed_origin add https://finessep.example.com:8445"},
				Restart:  []string{"utils service restart Intelligence Center Reporting Service"}}},
			OpenedAt: openedAt, ResultID: 7, Link: "https://corscheck.example.com/admin/incidents/42", Vantage: VantageService,
		},
	}
	if event == Closed {
		closed := openedAt.Add(time.Hour)
		e.OccurredAt = closed
		e.Incident.ClosedAt, e.Incident.ClosedTo, e.Incident.ClosedBecause, e.Incident.CloseResultID = &closed, "allowed", "recovered", 9
	}
	return e
}

func TestKey(t *testing.T) {
	if got := Key("a1b2c3d4", 42, Opened); got != "corscheck-a1b2c3d4-incident-42-opened" {
		t.Errorf("Key = %q", got)
	}
	if Key("a", 1, Opened) == Key("a", 1, Closed) || Key("a", 1, Opened) == Key("b", 1, Opened) {
		t.Error("keys of different events or installs are equal")
	}
	if got := installOf(Key("a1b2c3d4", 42, Closed)); got != "a1b2c3d4" {
		t.Errorf("installOf = %q", got)
	}
}

func TestTitle(t *testing.T) {
	e := sampleEvent(Opened)
	if got := e.Title(); got != "cuicsub.example.com: blocked (was allowed) for https://finessep.example.com:8445" {
		t.Errorf("opened: %q", got)
	}
	e.Incident.From = ""
	if got := e.Title(); got != "cuicsub.example.com: blocked for https://finessep.example.com:8445" {
		t.Errorf("opened at start: %q", got)
	}
	c := sampleEvent(Closed)
	if got := c.Title(); got != "Resolved: cuicsub.example.com: allowed again for https://finessep.example.com:8445" {
		t.Errorf("recovered: %q", got)
	}
	c.Incident.ClosedBecause, c.Incident.ClosedTo = "changed", "unreachable"
	if got := c.Title(); got != "Closed: cuicsub.example.com: now unreachable for https://finessep.example.com:8445" {
		t.Errorf("changed: %q", got)
	}
	c.Incident.ClosedBecause = "unwatched"
	if got := c.Title(); !strings.Contains(got, "no longer watched") {
		t.Errorf("unwatched: %q", got)
	}
}

// The generic webhook gets the event as documented, the same bytes on every attempt.
func TestRenderWebhook(t *testing.T) {
	for _, ev := range []string{Opened, Closed} {
		e := sampleEvent(ev)
		b, err := Render(Webhook, e)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		in := got["incident"].(map[string]any)
		if got["schema"] != Schema || got["event"] != ev || got["idempotencyKey"] != e.IdempotencyKey ||
			in["node"] != "cuicsub.example.com" || in["to"] != "blocked" || in["vantage"] != "service" ||
			in["fixes"].([]any)[0].(map[string]any)["commands"].([]any)[0] != "utils cuic cors allowed_origin add https://finessep.example.com:8445" {
			t.Errorf("%s: %s", ev, b)
		}
		if _, has := in["closedAt"]; has != (ev == Closed) {
			t.Errorf("%s: closedAt present %v", ev, has)
		}
		again, _ := Render(Webhook, e)
		if string(again) != string(b) {
			t.Errorf("%s: two renderings differ", ev)
		}
	}
}

func TestRenderSlack(t *testing.T) {
	b, err := Render(Slack, sampleEvent(Opened))
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string          `json:"type"`
			Text json.RawMessage `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Text, "cuicsub.example.com: blocked") || len(msg.Blocks) != 4 || msg.Blocks[0].Type != "header" {
		t.Fatalf("slack message: %s", b)
	}
	s := texts(t, b)
	// Slack's control characters in texts are escaped; the link is Slack's own markup.
	if !strings.Contains(s, `&lt;b&gt;&amp;&lt;/b&gt;`) || strings.Contains(s, "<b>") {
		t.Errorf("slack: text not escaped: %s", s)
	}
	if !strings.Contains(s, `<https://corscheck.example.com/admin/incidents/42|Open in corscheck>`) {
		t.Errorf("slack: no link: %s", s)
	}
	if !strings.Contains(s, "utils cuic cors allowed_origin add") || !strings.Contains(s, "own network") {
		t.Errorf("slack: no fix or vantage: %s", s)
	}
	closed, _ := Render(Slack, sampleEvent(Closed))
	if strings.Contains(string(closed), "utils cuic") {
		t.Errorf("a closing repeats the fix: %s", closed)
	}
}

// texts returns every string of a JSON document, one a line.
func texts(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}

func TestRenderTeams(t *testing.T) {
	b, err := Render(Teams, sampleEvent(Opened))
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string           `json:"type"`
				Version string           `json:"version"`
				Body    []map[string]any `json:"body"`
				Actions []map[string]any `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != "message" || len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("teams message: %s", b)
	}
	card := msg.Attachments[0].Content
	if card.Type != "AdaptiveCard" || card.Body[0]["color"] != "Attention" || card.Body[1]["type"] != "FactSet" ||
		len(card.Actions) != 1 || card.Actions[0]["url"] != "https://corscheck.example.com/admin/incidents/42" {
		t.Errorf("teams card: %s", b)
	}
}

func TestRenderWebex(t *testing.T) {
	b, err := Render(Webex, sampleEvent(Opened))
	if err != nil {
		t.Fatal(err)
	}
	var msg map[string]string
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	md := msg["markdown"]
	if len(msg) != 1 || !strings.HasPrefix(md, "**cuicsub.example.com: blocked (was allowed) for https://finessep.example.com:8445**") ||
		!strings.Contains(md, "```\nFix: allow the origin") || !strings.Contains(md, "[Open in corscheck](https://corscheck.example.com/admin/incidents/42)") {
		t.Errorf("webex: %s", md)
	}
	if strings.Contains(md, "<b>") {
		t.Errorf("webex: markup passed through: %s", md)
	}
	if _, err := Render(Email, sampleEvent(Opened)); err == nil {
		t.Error("Render made JSON for e-mail")
	}
}

func TestMessage(t *testing.T) {
	open := Message(sampleEvent(Opened), "corscheck@example.com", []string{"ops@example.com", "noc@example.com"}, "corscheck.example.com")
	if strings.Contains(strings.ReplaceAll(string(open), "\r\n", ""), "\n") {
		t.Error("a line ends without CR")
	}
	m, err := mail.ReadMessage(strings.NewReader(string(open)))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("Message-Id"); got != "<corscheck-a1b2c3d4-incident-42-opened@corscheck.example.com>" {
		t.Errorf("Message-ID %q", got)
	}
	if got := m.Header.Get("Subject"); got != "[corscheck] cuicsub.example.com: blocked (was allowed) for https://finessep.example.com:8445" {
		t.Errorf("Subject %q", got)
	}
	if got := m.Header.Get("To"); got != "ops@example.com, noc@example.com" {
		t.Errorf("To %q", got)
	}
	closed := Message(sampleEvent(Closed), "corscheck@example.com", []string{"ops@example.com"}, "corscheck.example.com")
	cm, err := mail.ReadMessage(strings.NewReader(string(closed)))
	if err != nil {
		t.Fatal(err)
	}
	if got := cm.Header.Get("In-Reply-To"); got != m.Header.Get("Message-Id") {
		t.Errorf("the closing replies to %q, not to the opening", got)
	}
	// A value with a line break cannot add a header.
	e := sampleEvent(Opened)
	e.Incident.Node = "x\r\nBcc: victim@example.com"
	hm, err := mail.ReadMessage(strings.NewReader(string(Message(e, "a@example.com", []string{"b@example.com"}, "d"))))
	if err != nil {
		t.Fatal(err)
	}
	if hm.Header.Get("Bcc") != "" {
		t.Error("a line break in a value added a header")
	}
}

func TestCut(t *testing.T) {
	if got := cut("héllo wörld", 8); got != "héll…" || len(got) > 8 {
		t.Errorf("cut = %q (%d bytes)", got, len(got))
	}
	if got := cut("short", 10); got != "short" {
		t.Errorf("cut = %q", got)
	}
}
