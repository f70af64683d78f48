package cors_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
)

func TestValidateURL(t *testing.T) {
	for _, ok := range []string{
		"https://cuicsub.example:8444/cuic/rest/status/", "http://10.0.0.7/", "https://[::1]:1/",
		"https://cuic.example:65535/?x=1#top",
	} {
		u, err := url.Parse(ok)
		if err != nil {
			t.Fatal(err)
		}
		if err := cors.ValidateURL(u); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for in, want := range map[string]string{
		"/cuic/rest/status/":          "absolute http(s) URL with a host",
		"ftp://cuic.example/":         "absolute http(s) URL with a host",
		"https://:8444/":              "absolute http(s) URL with a host",
		"https:cuic.example":          "absolute http(s) URL with a host",
		"https://u:p@cuic.example/":   "must not hold a user name or password",
		"https://u@cuic.example/":     "must not hold a user name or password",
		"https://cuic.example:0/":     "has port 0; ports run from 1 to 65535",
		"https://cuic.example:99999/": "has port 99999; ports run from 1 to 65535",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if err := cors.ValidateURL(u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", in, err, want)
		}
	}
	if err := cors.ValidateURL(nil); err == nil {
		t.Error("no URL accepted")
	}
}
