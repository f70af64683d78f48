package cliflag

import (
	"bytes"
	"testing"
)

func TestPrintFlags(t *testing.T) {
	fs, _, _ := newSet()
	fs.String("origin", "", "the page's `origin`, e.g. https://finesse1.example.com:8445; required, and a long help "+
		"text that goes on and on so that it has to be wrapped onto a second line")
	fs.String("method", "GET", "the request `method`")
	fs.String("alert-to", "", "comma-separated alert `receivers`: https://… (JSON webhook), slack+https://…, teams+https://…, "+
		"webex+https://…, smtp://user:password@host:587?from=…&to=…")
	fs.String("no-placeholder", "", "a flag whose help names no placeholder")
	fs.String("a-flag-with-a-long-name", "", "its help starts on the next `line`")
	var headers []string
	fs.Func("header", "a `header` the page sets (or -H, as in curl)", func(s string) error { headers = append(headers, s); return nil })
	fs.Func("H", "", func(s string) error { headers = append(headers, s); return nil })
	var b bytes.Buffer
	PrintFlags(&b, fs)
	want := `  --a-flag-with-a-long-name LINE
                      its help starts on the next line
  --alert-to RECEIVERS
                      comma-separated alert receivers: https://… (JSON webhook), slack+https://…,
                      teams+https://…, webex+https://…, smtp://user:password@host:587?from=…&to=…
  --header HEADER     a header the page sets (or -H, as in curl)
  --json              print JSON
  --method METHOD     the request method (default GET)
  --no-placeholder VALUE
                      a flag whose help names no placeholder
  --origin ORIGIN     the page's origin, e.g. https://finesse1.example.com:8445; required, and a
                      long help text that goes on and on so that it has to be wrapped onto a second
                      line
  --timeout CHECK     time for the whole check (default 10s)
`
	if b.String() != want {
		t.Errorf("PrintFlags wrote\n%s\nwant\n%s", b.String(), want)
	}
}
