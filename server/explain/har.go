// Package explain reads what an agent's browser recorded, a HAR file or console text, and
// explains every cross-origin request in it: the verdict, the reason in the recording browser's
// words, the console line, the node and the fix. Recorded responses are replayed through the same
// engine the probe uses (server/cors, through probe.Replay); nothing is sent anywhere.
package explain

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// entry is what explain keeps of one HAR entry: no bodies, no timings.
type entry struct {
	Index           int
	StartedDateTime string
	Method          string
	URL             string
	RequestHeaders  http.Header
	Status          int
	ResponseHeaders http.Header
	RedirectURL     string
	Error           string // Chromium's _error (net::ERR_…)
	Preflight       bool   // Chromium marks preflights (_resourceType or _initiator.type)
	ResourceType    string // Chromium's _resourceType: fetch, xhr, document, script, …
	Pageref         string
}

// harEntry is the JSON shape of an entry, only the fields explain reads. Response bodies are
// skipped by the decoder without being kept.
type harEntry struct {
	StartedDateTime string `json:"startedDateTime"`
	Pageref         string `json:"pageref"`
	Request         *struct {
		Method  string      `json:"method"`
		URL     string      `json:"url"`
		Headers []harHeader `json:"headers"`
	} `json:"request"`
	Response *struct {
		Status      int         `json:"status"`
		Headers     []harHeader `json:"headers"`
		RedirectURL string      `json:"redirectURL"`
		Error       string      `json:"_error"`
	} `json:"response"`
	ResourceType string `json:"_resourceType"`
	Initiator    *struct {
		Type string `json:"type"`
	} `json:"_initiator"`
}

type harHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// recording is a HAR as explain reads it.
type recording struct {
	Creator string // creator.name: "WebInspector" (Chrome, Edge), "Firefox"
	Pages   map[string]string
	Entries []entry
	// Problems are entries (or the file) that could not be read, each naming the entry.
	Problems []error
}

// ErrNotHAR is returned when the input is JSON but not a HAR.
var ErrNotHAR = errors.New("not a HAR file: no log.entries")

// readHAR streams a HAR: the entries are decoded one at a time, their bodies skipped, so a file
// of any size is read in memory proportional to its largest entry. It returns what it could read
// even when it also returns an error (truncated input, an entry that is not an object).
func readHAR(r io.Reader) (*recording, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	rec := &recording{Pages: map[string]string{}}
	if err := expectDelim(dec, '{', "the file"); err != nil {
		return rec, err
	}
	sawLog := false
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return rec, fmt.Errorf("the file: %w", err)
		}
		if key != "log" {
			if err := skipValue(dec); err != nil {
				return rec, fmt.Errorf("the file, at %q: %w", key, err)
			}
			continue
		}
		sawLog = true
		if err := readLog(dec, rec); err != nil {
			return rec, err
		}
	}
	if !sawLog {
		return rec, ErrNotHAR
	}
	return rec, nil
}

func readLog(dec *json.Decoder, rec *recording) error {
	if err := expectDelim(dec, '{', "log"); err != nil {
		return err
	}
	sawEntries := false
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return fmt.Errorf("log: %w", err)
		}
		switch key {
		case "creator":
			var c struct {
				Name string `json:"name"`
			}
			if err := dec.Decode(&c); err != nil {
				return fmt.Errorf("log.creator: %w", readErr(err))
			}
			rec.Creator = c.Name
		case "pages":
			var pages []struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			}
			if err := dec.Decode(&pages); err != nil {
				return fmt.Errorf("log.pages: %w", readErr(err))
			}
			for _, p := range pages {
				rec.Pages[p.ID] = redactString(p.Title)
			}
		case "entries":
			sawEntries = true
			if err := readEntries(dec, rec); err != nil {
				return err
			}
		default:
			if err := skipValue(dec); err != nil {
				return fmt.Errorf("log.%s: %w", key, err)
			}
		}
	}
	if !sawEntries {
		return ErrNotHAR
	}
	_, err := dec.Token() // the closing brace
	return readErr(err)
}

func readEntries(dec *json.Decoder, rec *recording) error {
	if err := expectDelim(dec, '[', "log.entries"); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		var raw harEntry
		if err := dec.Decode(&raw); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				// The entry was read whole; only a field had the wrong type. Go on.
				rec.Problems = append(rec.Problems, fmt.Errorf("entry %d: %s has the wrong type (%s)", i, typeErr.Field, typeErr.Value))
				continue
			}
			return fmt.Errorf("entry %d: %w", i, readErr(err))
		}
		e, err := raw.entry(i)
		if err != nil {
			rec.Problems = append(rec.Problems, err)
			continue
		}
		rec.Entries = append(rec.Entries, e)
	}
	_, err := dec.Token() // ]
	return readErr(err)
}

// entry checks the fields explain needs and keeps them.
func (h harEntry) entry(i int) (entry, error) {
	var missing []string
	if h.Request == nil {
		missing = append(missing, "request")
	} else {
		if h.Request.Method == "" {
			missing = append(missing, "request.method")
		}
		if h.Request.URL == "" {
			missing = append(missing, "request.url")
		}
	}
	if h.Response == nil {
		missing = append(missing, "response")
	}
	if len(missing) > 0 {
		return entry{}, fmt.Errorf("entry %d: missing %s; skipped", i, strings.Join(missing, ", "))
	}
	// Secrets are redacted here, as the entry is read, so that everything explain derives from
	// it (console lines, explanations, fixes, the probe command) is derived from redacted text.
	e := entry{
		Index: i, StartedDateTime: h.StartedDateTime, Pageref: h.Pageref,
		Method: h.Request.Method, URL: redactURL(h.Request.URL), RequestHeaders: headerOf(h.Request.Headers),
		Status: h.Response.Status, ResponseHeaders: headerOf(h.Response.Headers),
		RedirectURL: redactURL(h.Response.RedirectURL), Error: h.Response.Error,
		Preflight:    h.ResourceType == "preflight" || (h.Initiator != nil && h.Initiator.Type == "preflight"),
		ResourceType: h.ResourceType,
	}
	return e, nil
}

// headerOf keeps header lines as received, secrets redacted: a name repeated stays several
// lines. HTTP/2 pseudo headers (:authority, …) are dropped.
func headerOf(hs []harHeader) http.Header {
	out := make(http.Header, len(hs))
	for _, h := range hs {
		if strings.HasPrefix(h.Name, ":") {
			continue
		}
		k := http.CanonicalHeaderKey(h.Name)
		out[k] = append(out[k], redactHeaderValue(h.Name, h.Value))
	}
	return out
}

func expectDelim(dec *json.Decoder, want json.Delim, where string) error {
	t, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", where, readErr(err))
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		if where == "the file" {
			return ErrNotHAR
		}
		return fmt.Errorf("%s: want %q, found %v", where, string(want), t)
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", readErr(err)
	}
	k, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("want a key, found %v", t)
	}
	return k, nil
}

// skipValue reads past one value of any size, token by token, keeping nothing.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return readErr(err)
		}
		if d, ok := t.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// readErr names the end of input plainly.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the file ends early (truncated JSON)")
	}
	return err
}
