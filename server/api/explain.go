package api

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/explain"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// partialExplain is the answer for a recording read only in part: an error, as every error
// answer of the API, with what could not be read and the findings of the rest.
type partialExplain struct {
	Error    string            `json:"error"`
	Problems []string          `json:"problems"`
	Findings []explain.Finding `json:"findings"`
}

// postExplain explains a recording sent as the body: a HAR file (application/json) or console
// text (text/plain), read as a stream up to the configured limit. The answer is what
// `corscheck explain --json` prints, with every secret redacted. A recording read only in part
// (cut short, entries that cannot be read) is 422, with the problems and the findings of what
// could be read. Nothing is stored.
//
// Query: console=1 reads the body as console text whatever its type; kind, browser and origin
// are those of the command's flags.
func (s *server) postExplain(w http.ResponseWriter, r *http.Request) {
	opt, problems := explainOptions(r)
	if problems != nil {
		fail(w, http.StatusBadRequest, "invalid explain request", problems)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "application/har+json", "application/octet-stream", "":
	case "text/plain":
		opt.Console = true
	default:
		fail(w, http.StatusUnsupportedMediaType, "send a HAR file as application/json or console text as text/plain", nil)
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		fail(w, unsupportedEncoding().status, unsupportedEncoding().msg, nil)
		return
	}
	limit := s.explainLimit
	if r.ContentLength > limit {
		fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the recording is larger than %d bytes", limit), nil)
		return
	}
	res, err := explain.ReadAtMost(r.Body, limit, opt)
	switch {
	case errors.Is(err, explain.ErrTooLarge):
		fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the recording is larger than %d bytes", limit), nil)
		return
	case err != nil:
		fail(w, http.StatusBadRequest, "the recording cannot be read: "+err.Error(), nil)
		return
	}
	if !res.Complete() {
		encode(w, http.StatusUnprocessableEntity, partialExplain{
			Error:    "the recording was read only in part: the findings are of what could be read, and a request in the unread part is not among them",
			Problems: res.Problems, Findings: res.JSON(),
		})
		return
	}
	encode(w, http.StatusOK, res.JSON())
}

// explainOptions reads the query's options, or every problem with them.
func explainOptions(r *http.Request) (explain.Options, map[string]string) {
	q := r.URL.Query()
	var opt explain.Options
	p := map[string]string{}
	var err error
	if k := q.Get("kind"); k != "" && k != "auto" {
		if opt.Kind, err = targets.ParseKind(k); err != nil {
			p["kind"] = "must be auto, cuic, livedata, finesse or custom"
		}
	}
	if b := q.Get("browser"); b != "" {
		if opt.Browser, err = cors.ParseBrowser(b); err != nil {
			p["browser"] = "must be chromium or firefox"
		}
	}
	if o := q.Get("origin"); o != "" {
		if opt.Origin, err = cors.ParseOrigin(o); err != nil {
			p["origin"] = "must be an origin such as https://finesse.example.com:8445"
		}
	}
	switch q.Get("console") {
	case "", "0", "false":
	case "1", "true":
		opt.Console = true
	default:
		p["console"] = "must be 1 or 0"
	}
	if len(p) > 0 {
		return opt, p
	}
	return opt, nil
}
