package targets

import (
	"slices"
	"strings"
	"testing"
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
		{"unknown field", `{"targets":[],"extra":1}`, "unknown field"},
		{"no targets", `{"targets":[]}`, "no targets"},
		{"bad id", `{"targets":[{"id":"CUIC!","kind":"cuic","label":"x","endpoints":[{"port":1,"path":"/"}],"request":{"method":"GET","credentials":"include"}}]}`, "id must be"},
		{"bad kind", `{"targets":[{"id":"x","kind":"ucm","label":"x","endpoints":[{"port":1,"path":"/"}],"request":{"method":"GET","credentials":"include"}}]}`, "kind"},
		{"port out of range", `{"targets":[{"id":"x","kind":"cuic","label":"x","endpoints":[{"port":70000,"path":"/"}],"request":{"method":"GET","credentials":"include"}}]}`, "out of range"},
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
