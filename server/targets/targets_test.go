package targets

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/strictjson"
)

func TestDefaultsAreValid(t *testing.T) {
	c := Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"cuic", "livedata", "finesse", "custom"} {
		if _, ok := c.Target(id); !ok {
			t.Errorf("default catalogue lacks %s", id)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"unknown field", `{"targets":[],"extra":1}`, "extra: unknown field"},
		{"key in another case", `{"Targets":[]}`, "Targets: unknown field"},
		{"duplicate key", `{"targets":[],"targets":[]}`, "targets: appears twice"},
		{"invalid UTF-8", "{\"targets\":[],\"allowedDomains\":[\"a\xff\"]}", "allowedDomains[0]: is not valid UTF-8"},
		{"trailing data", `{"targets":[]}]`, "more text after"},
		{"no targets", `{"targets":[]}`, "no targets"},
		{"bad id", `{"targets":[{"id":"CUIC!","kind":"cuic","label":"x","endpoints":[{"port":1,"path":"/"}],"request":{"method":"GET","credentials":"include"}}]}`, "id must be"},
		{"bad kind", `{"targets":[{"id":"x","kind":"ucm","label":"x","endpoints":[{"port":1,"path":"/"}],"request":{"method":"GET","credentials":"include"}}]}`, "kind"},
		{"port out of range", `{"targets":[{"id":"x","kind":"cuic","label":"x","endpoints":[{"port":70000,"path":"/"}],"request":{"method":"GET","credentials":"include"}}]}`, "out of range"},
		{"bidi control in a path", `{"targets":[{"id":"x","kind":"cuic","label":"x","endpoints":[{"port":1,"path":"/a\u202eb"}],"request":{"method":"GET","credentials":"include"}}]}`, "invisible"},
		{"zero-width space in a node", `{"targets":[{"id":"x","kind":"cuic","label":"x","endpoints":[{"port":1,"path":"/"}],"request":{"method":"GET","credentials":"include"},"nodes":["cuic\u200bpub.example.com"]}]}`, "not a valid host"},
		{"relative path", `{"targets":[{"id":"x","kind":"cuic","label":"x","endpoints":[{"port":1,"path":"cuic"}],"request":{"method":"GET","credentials":"include"}}]}`, "path must start"},
		{"forbidden header", `{"targets":[{"id":"x","kind":"cuic","label":"x","endpoints":[{"port":1,"path":"/"}],"request":{"method":"GET","credentials":"include","headers":[{"name":"Cookie","value":"a"}]}}]}`, "cannot be set"},
		{"lower-case method", `{"targets":[{"id":"x","kind":"cuic","label":"x","endpoints":[{"port":1,"path":"/"}],"request":{"method":"get","credentials":"include"}}]}`, "method"},
		{"bad credentials", `{"targets":[{"id":"x","kind":"cuic","label":"x","endpoints":[{"port":1,"path":"/"}],"request":{"method":"GET","credentials":"yes"}}]}`, "credentials"},
		{"bad node", `{"targets":[{"id":"x","kind":"cuic","label":"x","endpoints":[{"port":1,"path":"/"}],"request":{"method":"GET","credentials":"include"},"nodes":["cuic pub"]}]}`, "not a valid host"},
		{"duplicate id", `{"targets":[{"id":"x","kind":"custom","label":"x","request":{"method":"GET","credentials":"omit"}},{"id":"x","kind":"custom","label":"y","request":{"method":"GET","credentials":"omit"}}]}`, "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestURLsAndHosts(t *testing.T) {
	c := Defaults()
	ld, _ := c.Target("livedata")
	got := ld.URLs("ldsub.example.com")
	want := []string{"https://ldsub.example.com:12005/", "https://ldsub.example.com:12008/socket.io/"}
	if !slices.Equal(got, want) {
		t.Fatalf("URLs = %v, want %v", got, want)
	}
	tg := Target{Endpoints: []Endpoint{{Port: 443, Path: "/x"}}}
	if got := tg.URLs("::1"); got[0] != "https://[::1]/x" {
		t.Errorf("IPv6 URL %q", got[0])
	}
	c.Targets[0].Nodes = []string{"cuicpub.example.com", "CUICSUB.example.com."}
	c.AllowedDomains = []string{"lab.example"}
	for host, want := range map[string]bool{
		"cuicpub.example.com": true, "cuicsub.example.com": true, "CUICPUB.EXAMPLE.COM.": true,
		"x.lab.example": true, "lab.example": true, "evillab.example": false,
		"example.com": false, "169.254.169.254": false, "": false,
	} {
		if c.HasHost(host) != want {
			t.Errorf("HasHost(%q) = %v, want %v", host, !want, want)
		}
	}
}

// The diagnosis may call a node only at the endpoints of its targets: the audit reached a Redis
// port and a DELETE /admin/… path of a catalogued host.
func TestParseURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://cuic.example.com:8444/cuic/rest/status/?a=1": "",
		"http://10.0.0.1/":                                        "",
		"https://[::1]:8444/":                                     "",
		"https://cuic\u202e.example.com/":                         "bidi",
		"https://cuic%E2%80%AE.example.com/":                      "host with",
		"https://cuic.example.com/\u200b":                         "zero-width",
		"https://cuic.example.com/\u2066x":                        "bidi",
		"https://cuic.example.com/a\tb":                           "control",
		"https://cuic\u3164.example.com/":                         "invisible",
		"https://cuic\u2800.example.com/":                         "invisible",
		"https://cuic.example.com/\u3000":                         "white space",
		"https://cuic.example.com:99999/":                         "port 99999",
		"https://cuic.example.com:0/":                             "port 0",
		"https://u:p@cuic.example.com/":                           "user name",
		"ftp://cuic.example.com/":                                 "http(s)",
		"https:///path":                                           "http(s)",
		"javascript:alert(1)":                                     "http(s)",
		"https://cuic.example.com/\xff":                           "control",
		"https://cuic.example.com/" + strings.Repeat("a", MaxURL): "longer",
	} {
		_, err := ParseURL(raw)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("ParseURL(%q) = %v, want %q", raw, err, want)
		}
	}
}

func TestReachable(t *testing.T) {
	c := Defaults()
	c.Targets[0].Nodes = []string{"cuicpub.example.com"}
	c.Targets[1].Nodes = []string{"ld.example.com"}
	c.Targets[3].Nodes = []string{"app.example.com"}
	c.Targets[3].Endpoints = []Endpoint{{Name: "status", Port: 443, Path: "/health?full=1"}}
	c.AllowedDomains = []string{"lab.example"}
	for raw, want := range map[string]string{
		"https://cuicpub.example.com:8444/cuic/rest/status/":     "",
		"https://CUICPUB.example.com.:8444/cuic/rest/status/":    "",
		"https://cuicpub.example.com:8444/cuic/rest/status/#top": "",
		"https://cuicpub.example.com:6379/":                      "port 6379",
		"https://cuicpub.example.com:8444/admin/users":           "path /admin/users",
		"https://cuicpub.example.com:8444/cuic/rest/status/?x=1": "not an endpoint",
		"https://cuicpub.example.com:8444/cuic/rest/status":      "not an endpoint",
		"https://cuicpub.example.com/cuic/rest/status/":          "port 443",
		"https://cuicpub.example.com:12005/":                     "not an endpoint", // a Live Data port, not a CUIC one
		"https://ld.example.com:12008/socket.io/":                "",
		"https://app.example.com/health?full=1":                  "",
		"https://app.example.com:443/health?full=1":              "",
		"https://app.example.com/health":                         "not an endpoint",
		"http://app.example.com/health?full=1":                   "port 80",
		"https://node.lab.example:12005/":                        "", // any target's endpoint under an allowed domain
		"https://node.lab.example:22/":                           "port 22",
		"https://evil.example:8444/cuic/rest/status/":            "not in the target catalogue",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Reachable(u)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("Reachable(%s) = %v, want %q", raw, err, want)
		}
	}
}

// Follow puts a catalogue stored by another instance in use once its version changes. One that
// does not decode or validate is reported once and left out; a database error is tried again.
func TestFollow(t *testing.T) {
	live := NewLive(Defaults(), nil)
	edited := Defaults()
	edited.Targets[0].Nodes = []string{"cuicedited.example.com"}
	steps := []struct {
		version int64
		c       Catalogue
		err     error
	}{
		{version: -1},                // nothing stored yet
		{version: 0, c: edited},      // stored: in use
		{version: 0, c: edited},      // unchanged: not loaded
		{version: 1, c: Catalogue{}}, // invalid: refused once
		{version: 2, err: &strictjson.Error{Problem: "appears twice"}}, // unreadable: refused once
		{version: 3, err: errors.New("the database does not answer")},  // tried again
		{version: 3, c: Defaults()},                                    // the retry: in use
	}
	var (
		i       int
		loads   int
		reports []string
		seen    []bool
	)
	ctx, cancel := context.WithCancel(context.Background())
	version := func(context.Context) (int64, error) {
		if i > 0 {
			seen = append(seen, live.HasHost("cuicedited.example.com"))
		}
		if i == len(steps) {
			cancel()
			return 0, ctx.Err()
		}
		i++
		if steps[i-1].version < 0 {
			return 0, errors.New("not stored yet")
		}
		return steps[i-1].version, nil
	}
	load := func(context.Context) (Catalogue, error) {
		loads++
		return steps[i-1].c, steps[i-1].err
	}
	live.Follow(ctx, time.Millisecond, version, load, func(err error) { reports = append(reports, err.Error()) })
	if loads != 5 || len(reports) != 4 || !strings.Contains(reports[1], "refused") || !strings.Contains(reports[2], "refused") ||
		!strings.Contains(reports[3], "loading") {
		t.Fatalf("%d loads, reports %q", loads, reports)
	}
	if !slices.Equal(seen, []bool{false, true, true, true, true, true, false}) {
		t.Fatalf("edited catalogue in use after each poll: %v", seen)
	}
}
