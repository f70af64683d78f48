// Package explain reads what an agent's browser recorded, a HAR file or console text, and
// explains every cross-origin request in it: the verdict, the reason in the recording browser's
// words, the console line, the node and the fix. Recorded responses are replayed through the same
// engine the probe uses (server/cors, through probe.Replay); nothing is sent anywhere.
package explain

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
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

// harEntry is what explain reads of an entry. Everything else (bodies, timings, cookies) is
// skipped as it is read.
type harEntry struct {
	StartedDateTime, Pageref, ResourceType, InitiatorType string
	Request                                               *harRequest
	Response                                              *harResponse
}

type harRequest struct {
	Method, URL string
	Headers     []harHeader
}

type harResponse struct {
	Status             int
	Headers            []harHeader
	RedirectURL, Error string // Error is Chromium's _error
}

type harHeader struct{ Name, Value string }

// recording is a HAR as explain reads it.
type recording struct {
	Creator string // creator.name: "WebInspector" (Chrome, Edge), "Firefox"
	Pages   map[string]string
	Entries []entry
	// Problems are entries (or other parts of the file) that could not be read, each named.
	Problems []error
}

// ErrNotHAR is returned when the input is JSON but not a HAR.
var ErrNotHAR = errors.New("not a HAR file: no log.entries")

// located is an error that already names where in the file it is.
type located struct {
	where string
	err   error
}

func (l *located) Error() string { return l.where + ": " + l.err.Error() }
func (l *located) Unwrap() error { return l.err }

// at names where err happened, unless an inner part already did.
func at(where string, err error) error {
	if err == nil || errors.As(err, new(*located)) || errors.Is(err, ErrNotHAR) {
		return err
	}
	return &located{where, err}
}

// readHAR streams a HAR: the entries are read one at a time and their bodies skipped, so a file
// of any size and depth is read in memory proportional to the largest URL or header it keeps.
// It returns what it could read even when it also returns an error (input cut short, broken
// JSON). An entry that cannot be read is named in Problems, and the next one is read.
func readHAR(r io.Reader) (*recording, error) {
	j := newJSONReader(r)
	rec := &recording{Pages: map[string]string{}}
	c, err := j.peek()
	if err != nil {
		return rec, at("the file", err)
	}
	if c != '{' {
		return rec, ErrNotHAR
	}
	sawLog := false
	err = j.object(func(key string) error {
		if key != "log" {
			return skipOrNote(j, rec, "the file, at "+strconv.Quote(key))
		}
		sawLog = true
		return readLog(j, rec)
	})
	if err != nil {
		return rec, at("the file", err)
	}
	if !sawLog {
		return rec, ErrNotHAR
	}
	if end, err := j.atEnd(); err != nil || !end {
		rec.Problems = append(rec.Problems, fmt.Errorf("the file goes on after the HAR's end (byte %d); the rest is not read", j.offset()))
	}
	return rec, nil
}

// skipOrNote skips a value explain does not read; one nested too deep to check is noted as a
// problem, and reading goes on after it.
func skipOrNote(j *jsonReader, rec *recording, where string) error {
	err := j.skipValue()
	if errors.Is(err, errTooDeep) {
		rec.Problems = append(rec.Problems, fmt.Errorf("%s: %w; skipped", where, err))
		return nil
	}
	return at(where, err)
}

func readLog(j *jsonReader, rec *recording) error {
	if c, err := j.peek(); err != nil || c != '{' {
		if err != nil {
			return at("log", err)
		}
		return ErrNotHAR
	}
	sawEntries := false
	err := j.object(func(key string) error {
		switch key {
		case "creator":
			return at("log.creator", readObject(j, rec, "log.creator", func(k string) error {
				if k == "name" {
					return readLenient(j, rec, "log.creator.name", &rec.Creator)
				}
				return skipOrNote(j, rec, "log.creator."+k)
			}))
		case "pages":
			return at("log.pages", readArray(j, rec, "log.pages", func(i int) error {
				var id, title string
				err := readObject(j, rec, fmt.Sprintf("log.pages[%d]", i), func(k string) error {
					switch k {
					case "id":
						return readLenient(j, rec, "log.pages.id", &id)
					case "title":
						return readLenient(j, rec, "log.pages.title", &title)
					}
					return skipOrNote(j, rec, fmt.Sprintf("log.pages[%d].%s", i, k))
				})
				if id != "" {
					rec.Pages[id] = redactString(title)
				}
				return err
			}))
		case "entries":
			sawEntries = true
			return readEntries(j, rec)
		}
		return skipOrNote(j, rec, "log."+key)
	})
	if err != nil {
		return at("log", err)
	}
	if !sawEntries {
		return ErrNotHAR
	}
	return nil
}

// readObject reads an object of the log outside the entries; anything else in its place is
// skipped and noted.
func readObject(j *jsonReader, rec *recording, where string, field func(key string) error) error {
	c, err := j.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		rec.Problems = append(rec.Problems, fmt.Errorf("%s: an object was expected, not %s; skipped", where, kind(c)))
		return skipOrNote(j, rec, where)
	}
	return j.object(field)
}

// readArray is readObject for an array.
func readArray(j *jsonReader, rec *recording, where string, elem func(i int) error) error {
	c, err := j.peek()
	if err != nil {
		return err
	}
	if c != '[' {
		rec.Problems = append(rec.Problems, fmt.Errorf("%s: an array was expected, not %s; skipped", where, kind(c)))
		return skipOrNote(j, rec, where)
	}
	i := 0
	return j.array(func() error {
		i++
		return elem(i - 1)
	})
}

// readLenient reads a string of the log outside the entries; a value of another type is
// skipped and noted.
func readLenient(j *jsonReader, rec *recording, where string, dst *string) error {
	c, err := j.peek()
	if err != nil {
		return err
	}
	if c == '"' {
		s, err := j.readString()
		if errors.Is(err, errBadString) {
			rec.Problems = append(rec.Problems, fmt.Errorf("%s: %w", where, err))
			return nil
		}
		*dst = s
		return err
	}
	if c != 'n' {
		rec.Problems = append(rec.Problems, fmt.Errorf("%s has the wrong type (%s)", where, kind(c)))
	}
	return skipOrNote(j, rec, where)
}

func readEntries(j *jsonReader, rec *recording) error {
	c, err := j.peek()
	if err != nil {
		return at("log.entries", err)
	}
	if c != '[' {
		return at("log.entries", fmt.Errorf("an array was expected, not %s", kind(c)))
	}
	i := 0
	err = j.array(func() error {
		e, problem, err := readEntry(j, i)
		if err != nil {
			return err
		}
		switch {
		case problem != nil:
			rec.Problems = append(rec.Problems, problem)
		default:
			rec.Entries = append(rec.Entries, e)
		}
		i++
		return nil
	})
	return at(fmt.Sprintf("entry %d", i), err)
}

// entryReader reads the fields of one entry, noting what is wrong with them rather than stopping,
// so that the reader is past the entry whatever it holds.
type entryReader struct {
	j     *jsonReader
	wrong []string // fields with a value explain cannot use
	deep  bool     // a value nested deeper than maxDepth
}

func (r *entryReader) skip() error {
	err := r.j.skipValue()
	if errors.Is(err, errTooDeep) {
		r.deep = true
		return nil
	}
	return err
}

// str reads a string field; null leaves it empty.
func (r *entryReader) str(field string, dst *string) error {
	c, err := r.j.peek()
	if err != nil {
		return err
	}
	switch c {
	case '"':
		s, err := r.j.readString()
		if errors.Is(err, errBadString) {
			r.wrong = append(r.wrong, field+" is "+err.Error())
			return nil
		}
		*dst = s
		return err
	case 'n':
	default:
		r.wrong = append(r.wrong, fmt.Sprintf("%s has the wrong type (%s)", field, kind(c)))
	}
	return r.skip()
}

// int reads an integer field; null leaves it zero.
func (r *entryReader) int(field string, dst *int) error {
	c, err := r.j.peek()
	if err != nil {
		return err
	}
	if c == '-' || c >= '0' && c <= '9' {
		v, ok, err := r.j.readInt()
		if err != nil {
			return err
		}
		if !ok {
			r.wrong = append(r.wrong, field+" is not an integer")
		}
		*dst = v
		return nil
	}
	if c != 'n' {
		r.wrong = append(r.wrong, fmt.Sprintf("%s has the wrong type (%s)", field, kind(c)))
	}
	return r.skip()
}

// obj reads an object field, calling field for each key; present is false for null.
func (r *entryReader) obj(name string, field func(key string) error) (present bool, err error) {
	c, err := r.j.peek()
	if err != nil {
		return false, err
	}
	if c != '{' {
		if c != 'n' {
			r.wrong = append(r.wrong, fmt.Sprintf("%s has the wrong type (%s)", name, kind(c)))
		}
		return false, r.skip()
	}
	return true, r.j.object(field)
}

// headers reads an array of {name, value}.
func (r *entryReader) headers(field string, dst *[]harHeader) error {
	c, err := r.j.peek()
	if err != nil {
		return err
	}
	if c != '[' {
		if c != 'n' {
			r.wrong = append(r.wrong, fmt.Sprintf("%s has the wrong type (%s)", field, kind(c)))
		}
		return r.skip()
	}
	return r.j.array(func() error {
		var h harHeader
		_, err := r.obj(field, func(k string) error {
			switch k {
			case "name":
				return r.str(field+".name", &h.Name)
			case "value":
				return r.str(field+".value", &h.Value)
			}
			return r.skip()
		})
		if h.Name != "" {
			*dst = append(*dst, h)
		}
		return err
	})
}

// readEntry reads entry i. A fatal error (broken JSON, the input's end) stops the reading; a
// problem names what makes this entry unusable, and the reader is past it.
func readEntry(j *jsonReader, i int) (e entry, problem, err error) {
	r := &entryReader{j: j}
	var h harEntry
	c, err := j.peek()
	if err != nil {
		return entry{}, nil, err
	}
	if c != '{' {
		if err := r.skip(); err != nil {
			return entry{}, nil, err
		}
		return entry{}, fmt.Errorf("entry %d: an object was expected, not %s; skipped", i, kind(c)), nil
	}
	err = j.object(func(key string) error {
		switch key {
		case "startedDateTime":
			return r.str(key, &h.StartedDateTime)
		case "pageref":
			return r.str(key, &h.Pageref)
		case "_resourceType":
			return r.str(key, &h.ResourceType)
		case "_initiator":
			_, err := r.obj(key, func(k string) error {
				if k == "type" {
					return r.str("_initiator.type", &h.InitiatorType)
				}
				return r.skip()
			})
			return err
		case "request":
			req := &harRequest{}
			present, err := r.obj(key, func(k string) error {
				switch k {
				case "method":
					return r.str("request.method", &req.Method)
				case "url":
					return r.str("request.url", &req.URL)
				case "headers":
					return r.headers("request.headers", &req.Headers)
				}
				return r.skip()
			})
			if present {
				h.Request = req
			}
			return err
		case "response":
			resp := &harResponse{}
			present, err := r.obj(key, func(k string) error {
				switch k {
				case "status":
					return r.int("response.status", &resp.Status)
				case "headers":
					return r.headers("response.headers", &resp.Headers)
				case "redirectURL":
					return r.str("response.redirectURL", &resp.RedirectURL)
				case "_error":
					return r.str("response._error", &resp.Error)
				}
				return r.skip()
			})
			if present {
				h.Response = resp
			}
			return err
		}
		return r.skip()
	})
	switch {
	case err != nil:
		return entry{}, nil, err
	case r.deep:
		return entry{}, fmt.Errorf("entry %d: %w; skipped", i, errTooDeep), nil
	case len(r.wrong) > 0:
		return entry{}, fmt.Errorf("entry %d: %s; skipped", i, strings.Join(r.wrong, "; ")), nil
	}
	e, problem = h.entry(i)
	return e, problem, nil
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
		Preflight:    h.ResourceType == "preflight" || h.InitiatorType == "preflight",
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
