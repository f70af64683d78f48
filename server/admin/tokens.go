package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/web"
)

// maxTokenName bounds a token's name, in characters.
const maxTokenName = 100

func (h *handler) tokens(w http.ResponseWriter, r *http.Request) {
	v := web.TokensView{}
	if r.URL.Query().Get("revoked") == "1" {
		v.Notice = "Token revoked: the admin API refuses it from now on."
	}
	h.renderTokens(w, r, http.StatusOK, v)
}

// renderTokens fills in the list of tokens and renders the page.
func (h *handler) renderTokens(w http.ResponseWriter, r *http.Request, status int, v web.TokensView) {
	ts, err := h.gate.Tokens(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	v.Nav, v.MaxName = web.Nav{SignedIn: true, Current: "tokens"}, maxTokenName
	for _, t := range ts {
		row := web.TokenRow{ID: strconv.FormatInt(t.ID, 10), Name: t.Name, Created: formatTime(t.CreatedAt),
			LastUsed: formatTime(t.LastUsedAt), RevokeURL: "/admin/tokens/" + strconv.FormatInt(t.ID, 10) + "/revoke"}
		if row.LastUsed == "" {
			row.LastUsed = "never"
		}
		v.Tokens = append(v.Tokens, row)
	}
	h.render(w, r, status, web.TokensPage(v))
}

// createToken makes a token and shows it, once, on the page it answers with.
func (h *handler) createToken(w http.ResponseWriter, r *http.Request) {
	if err := readForm(w, r, maxLoginForm); err != nil {
		h.renderTokens(w, r, http.StatusBadRequest, web.TokensView{Error: "The form could not be read."})
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if name == "" || utf8.RuneCountInString(name) > maxTokenName || !utf8.ValidString(name) || strings.ContainsFunc(name, isControl) {
		h.renderTokens(w, r, http.StatusBadRequest, web.TokensView{Name: name,
			Error: "No token was created: the name must be 1 to 100 characters of text."})
		return
	}
	token, t, err := h.gate.CreateToken(r.Context(), name)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "admin: API token created", "client", h.clientIP(r), "token", t.ID, "name", t.Name)
	h.renderTokens(w, r, http.StatusCreated, web.TokensView{NewToken: token, NewTokenName: t.Name})
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err == nil {
		err = h.gate.RevokeToken(r.Context(), id)
	}
	if errors.Is(err, store.ErrNotFound) || id <= 0 {
		h.renderTokens(w, r, http.StatusNotFound, web.TokensView{Error: "There is no such token; it may have been revoked already."})
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "admin: API token revoked", "client", h.clientIP(r), "token", id)
	http.Redirect(w, r, "/admin/tokens?revoked=1", http.StatusSeeOther)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
