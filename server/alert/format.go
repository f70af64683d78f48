package alert

import (
	"encoding/json"
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/words"
)

// vantageNote says where the check ran, in every alert a person reads.
const vantageNote = "Checked from the corscheck service's own network; what agents' browsers see is what the gadget reports."

// fact is one labelled line of an alert.
type fact struct{ label, value string }

// facts are the lines every human-readable format shows, in order.
func (e Event) facts() []fact {
	in := e.Incident
	fs := []fact{
		{"Node", in.Node},
		{"Finesse origin", in.Origin},
		{"Endpoint", fmt.Sprintf("%s (%s) %s", in.Endpoint, in.Kind, in.URL)},
	}
	if in.Reason != "" {
		fs = append(fs, fact{"Reason", in.Reason})
	}
	fs = append(fs, fact{"Opened", in.OpenedAt.UTC().Format(time.RFC3339)})
	if in.ClosedAt != nil {
		fs = append(fs, fact{"Closed", in.ClosedAt.UTC().Format(time.RFC3339)})
	}
	return fs
}

// body is the event as plain text: the facts, the explanation, the fix and the link.
func (e Event) body() string {
	var b strings.Builder
	for _, f := range e.facts() {
		fmt.Fprintf(&b, "%s: %s\n", f.label, f.value)
	}
	if e.Event == Opened {
		if e.Incident.Explanation != "" {
			fmt.Fprintf(&b, "\n%s\n", e.Incident.Explanation)
		}
		if fixes := fix.Text(e.Incident.Fixes, words.English); fixes != "" {
			fmt.Fprintf(&b, "\n%s", fixes)
		}
	}
	if e.Incident.Link != "" {
		fmt.Fprintf(&b, "\n%s\n", e.Incident.Link)
	}
	fmt.Fprintf(&b, "\n%s\n", vantageNote)
	return b.String()
}

// Render returns what a receiver of type t is sent for e, with its content type. Email is not
// rendered here (see Message).
func Render(t Type, e Event) ([]byte, error) {
	switch t {
	case Webhook:
		return json.Marshal(e)
	case Slack:
		return json.Marshal(slackMessage(e))
	case Teams:
		return json.Marshal(teamsMessage(e))
	case Webex:
		return json.Marshal(map[string]string{"markdown": webexMarkdown(e)})
	}
	return nil, fmt.Errorf("alert: no JSON form for receiver type %q", t)
}

// slackEscape escapes the three characters Slack's mrkdwn gives a meaning to.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackMessage is a Slack incoming-webhook message: the title as the notification's text, then
// blocks with the facts and the fix.
func slackMessage(e Event) map[string]any {
	var b strings.Builder
	for _, f := range e.facts() {
		fmt.Fprintf(&b, "*%s:* %s\n", f.label, slackEscape.Replace(f.value))
	}
	if e.Event == Opened && e.Incident.Explanation != "" {
		fmt.Fprintf(&b, "\n%s\n", slackEscape.Replace(e.Incident.Explanation))
	}
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": cut(e.Title(), 150)}},
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": cut(b.String(), 3000)}},
	}
	if fixes := fix.Text(e.Incident.Fixes, words.English); e.Event == Opened && fixes != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn",
			"text": cut("```"+slackEscape.Replace(strings.ReplaceAll(fixes, "```", "'''"))+"```", 3000)}})
	}
	context := slackEscape.Replace(vantageNote)
	if e.Incident.Link != "" {
		context = fmt.Sprintf("<%s|Open in corscheck> · %s", slackEscape.Replace(e.Incident.Link), context)
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{{"type": "mrkdwn", "text": context}}})
	return map[string]any{"text": slackEscape.Replace(e.Title()), "blocks": blocks}
}

// teamsMessage is an Adaptive Card in a message, which both Teams' Workflows webhooks and the
// older connector webhooks take.
func teamsMessage(e Event) map[string]any {
	var facts []map[string]string
	for _, f := range e.facts() {
		facts = append(facts, map[string]string{"title": f.label, "value": f.value})
	}
	color := "Attention"
	if e.Event == Closed {
		color = "Good"
	}
	body := []map[string]any{
		{"type": "TextBlock", "text": e.Title(), "weight": "Bolder", "size": "Medium", "wrap": true, "color": color},
		{"type": "FactSet", "facts": facts},
	}
	if e.Event == Opened && e.Incident.Explanation != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": e.Incident.Explanation, "wrap": true})
	}
	if fixes := fix.Text(e.Incident.Fixes, words.English); e.Event == Opened && fixes != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": fixes, "wrap": true, "fontType": "Monospace"})
	}
	body = append(body, map[string]any{"type": "TextBlock", "text": vantageNote, "wrap": true, "isSubtle": true, "size": "Small"})
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
	}
	if e.Incident.Link != "" {
		card["actions"] = []map[string]string{{"type": "Action.OpenUrl", "title": "Open in corscheck", "url": e.Incident.Link}}
	}
	return map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}

// markdownEscape keeps node names, origins and reasons from turning into markdown.
var markdownEscape = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "'", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;")

// webexMarkdown is the event in Webex's markdown.
func webexMarkdown(e Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n", markdownEscape.Replace(e.Title()))
	for _, f := range e.facts() {
		fmt.Fprintf(&b, "- **%s:** %s\n", f.label, markdownEscape.Replace(f.value))
	}
	if e.Event == Opened && e.Incident.Explanation != "" {
		fmt.Fprintf(&b, "\n%s\n", markdownEscape.Replace(e.Incident.Explanation))
	}
	if fixes := fix.Text(e.Incident.Fixes, words.English); e.Event == Opened && fixes != "" {
		fmt.Fprintf(&b, "\n```\n%s```\n", strings.ReplaceAll(fixes, "```", "'''"))
	}
	if e.Incident.Link != "" {
		fmt.Fprintf(&b, "\n[Open in corscheck](%s)\n", e.Incident.Link)
	}
	fmt.Fprintf(&b, "\n_%s_\n", vantageNote)
	return b.String()
}

// Message is the event as an e-mail (RFC 5322, CRLF line ends). Its Message-ID comes from the
// idempotency key, and a closing refers to the opening's, so mail clients thread them and a
// mail system can drop a message it delivered already.
func Message(e Event, from string, to []string, domain string) []byte {
	var b strings.Builder
	header := func(name, value string) {
		fmt.Fprintf(&b, "%s: %s\r\n", name, oneLine(value))
	}
	header("From", "CORS Quick Check <"+from+">")
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", "[corscheck] "+e.Title()))
	header("Date", e.OccurredAt.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+e.IdempotencyKey+"@"+domain+">")
	if e.Event == Closed {
		opened := "<" + Key(installOf(e.IdempotencyKey), e.Incident.ID, Opened) + "@" + domain + ">"
		header("In-Reply-To", opened)
		header("References", opened)
	}
	header("Idempotency-Key", e.IdempotencyKey)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	// Lines that start with a dot are left as they are: the SMTP client's DATA writer doubles
	// them on the wire.
	for _, line := range strings.Split(strings.TrimSuffix(e.body(), "\n"), "\n") {
		b.WriteString(strings.TrimRight(line, "\r") + "\r\n")
	}
	return []byte(b.String())
}

// installOf recovers the install part of an idempotency key made by Key.
func installOf(key string) string {
	rest := strings.TrimPrefix(key, "corscheck-")
	if i := strings.Index(rest, "-incident-"); i >= 0 {
		return rest[:i]
	}
	return rest
}

// oneLine keeps a header value on one line, whatever it holds.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// cut shortens s to at most n bytes (Slack refuses longer texts), ending in "…" at a rune
// boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
