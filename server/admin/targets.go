package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/corsquickcheck/corscheck/server/strictjson"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/web"
)

const (
	// maxCatalogue is the largest catalogue text the form takes, as PUT /api/v1/admin/targets.
	maxCatalogue = 256 << 10
	// maxTargetsForm bounds the form's body: URL encoding makes JSON up to three times longer.
	maxTargetsForm = 3*maxCatalogue + 4096
)

func (h *handler) targets(w http.ResponseWriter, r *http.Request) {
	v := targetsView(h.catalogue.Get())
	switch r.URL.Query().Get("saved") {
	case "1":
		v.Notice = "Catalogue saved. The gadget's dropdown and the diagnosis use it now."
	case "defaults":
		v.Notice = "Catalogue reset to the built-in defaults and saved."
	}
	h.render(w, r, http.StatusOK, web.TargetsPage(v))
}

// saveTargets replaces the catalogue with the editor's text, or with the built-in one (reset=1).
// A refused catalogue changes nothing; the page comes back with the text as sent and every problem.
func (h *handler) saveTargets(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, text, msg string, problems ...string) {
		v := targetsView(h.catalogue.Get())
		v.Editor, v.Error, v.Problems = text, msg, problems
		h.render(w, r, status, web.TargetsPage(v))
	}
	if err := readForm(w, r, maxTargetsForm); err != nil {
		// The text is lost with the body; the browser's Back button still has it.
		current := editorText(h.catalogue.Get())
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			refuse(http.StatusRequestEntityTooLarge, current, fmt.Sprintf(
				"Nothing was saved: the catalogue is larger than %d KiB.", maxCatalogue>>10))
			return
		}
		refuse(http.StatusBadRequest, current, "Nothing was saved: the form could not be read.")
		return
	}

	var (
		c          targets.Catalogue
		text       = r.PostForm.Get("catalogue")
		redirectTo = "/admin/targets?saved=1"
	)
	if r.PostForm.Get("reset") == "1" {
		text = editorText(h.catalogue.Get())
		if r.PostForm.Get("confirm") != "yes" {
			refuse(http.StatusBadRequest, text, "Nothing was reset: tick the box to confirm "+
				"that every node and allowed domain is removed.")
			return
		}
		c, redirectTo = targets.Defaults(), "/admin/targets?saved=defaults"
	} else {
		if len(text) > maxCatalogue {
			refuse(http.StatusRequestEntityTooLarge, text, fmt.Sprintf(
				"Nothing was saved: the catalogue is larger than %d KiB.", maxCatalogue>>10))
			return
		}
		var err error
		if c, err = decodeCatalogue(text); err != nil {
			refuse(http.StatusBadRequest, text, "Nothing was saved: the text is not a catalogue in JSON.", err.Error())
			return
		}
	}

	if err := h.catalogue.Replace(r.Context(), c); err != nil {
		if invalid, ok := errors.AsType[*targets.InvalidError](err); ok {
			problems := strings.Split(invalid.Err.Error(), "\n")
			refuse(http.StatusBadRequest, text, fmt.Sprintf("Nothing was saved: the catalogue has %d %s.",
				len(problems), plural(len(problems), "problem", "problems")), problems...)
			return
		}
		if context.Cause(r.Context()) != nil {
			return // the client went away
		}
		h.log.ErrorContext(r.Context(), "admin: saving the catalogue", "err", err)
		refuse(http.StatusInternalServerError, text,
			"Nothing was saved: the catalogue could not be stored; see the service's log. Your text is kept below.")
		return
	}
	h.log.InfoContext(r.Context(), "admin: catalogue replaced", "client", h.clientIP(r), "targets", len(c.Targets))
	http.Redirect(w, r, redirectTo, http.StatusSeeOther)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func targetsView(c targets.Catalogue) web.TargetsView {
	v := web.TargetsView{
		Nav: web.Nav{SignedIn: true, Current: "targets"}, AllowedDomains: c.AllowedDomains,
		Editor: editorText(c), MaxKiB: maxCatalogue >> 10,
	}
	for _, t := range c.Targets {
		tv := web.TargetView{
			ID: t.ID, Kind: string(t.Kind), Label: t.Label, Method: t.Request.Method,
			Credentials: string(t.Request.Credentials), Nodes: t.Nodes, Notes: t.Notes,
		}
		urls := t.URLs("{node}")
		for i, e := range t.Endpoints {
			tv.Endpoints = append(tv.Endpoints, web.EndpointView{
				Name: e.Name, Port: strconv.Itoa(e.Port), Path: e.Path, URL: urls[i],
			})
		}
		for _, hd := range t.Request.Headers {
			tv.Headers = append(tv.Headers, web.Field{Label: hd.Name, Value: hd.Value})
		}
		v.Targets = append(v.Targets, tv)
	}
	return v
}

// editorText is the catalogue as the editor shows it: indented JSON with every list present
// (`"nodes": []`, not null, so that adding a node is typing it in) and <, > and & as they are.
func editorText(c targets.Catalogue) string {
	c = c.WithLists()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		panic(err) // a catalogue is plain strings, numbers and lists
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// decodeCatalogue reads the editor's text in the catalogue file format (see targets.Decode);
// Replace validates what it means and names every problem at once. Errors point at a line and
// column, because the editor has no byte offsets, and name the key.
func decodeCatalogue(text string) (targets.Catalogue, error) {
	c, err := targets.Decode([]byte(text))
	e, ok := errors.AsType[*strictjson.Error](err)
	switch {
	case !ok:
		return c, err
	case e.Problem == "the text is empty":
		return c, errors.New(e.Problem)
	case e.Problem == "unknown field":
		return c, fmt.Errorf("%s: unknown key %q: the format has no such key", position(text, e.Offset), e.Field)
	case e.Field == "" && strings.HasPrefix(e.Problem, "must "):
		return c, fmt.Errorf("%s: the catalogue %s", position(text, e.Offset), e.Problem)
	}
	return c, fmt.Errorf("%s: %s", position(text, e.Offset), e.Error())
}

// position names the line and column (counted in characters, from 1) of byte off of text.
func position(text string, off int64) string {
	off = min(max(off, 0), int64(len(text)))
	before := text[:off]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}
