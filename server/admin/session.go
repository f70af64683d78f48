package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/corsquickcheck/corscheck/server/auth"
	"github.com/corsquickcheck/corscheck/web"
)

// Sessions live in the store (see the auth package), so that every instance on the database
// knows them: a browser signed in on one is signed in on all, and a restart signs nobody out.

func (h *handler) sessionToken(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// signedIn reports whether the request carries a live session; a store that cannot say is an
// error the caller answers with a 500.
func (h *handler) signedIn(r *http.Request) (bool, error) {
	return h.gate.Session(r.Context(), h.sessionToken(r))
}

// signedInKey marks, in a request's context, that requireSession found a live session.
type signedInKey struct{}

func (h *handler) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, err := h.signedIn(r)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if !ok {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), signedInKey{}, true)))
	})
}

func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if ok, err := h.signedIn(r); err != nil {
		h.serverError(w, r, err)
		return
	} else if ok {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, web.LoginPage(""))
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	if err := readForm(w, r, maxLoginForm); err != nil {
		h.render(w, r, http.StatusBadRequest, web.LoginPage("The sign-in form could not be read."))
		return
	}
	attempt := auth.Attempt{Client: h.clientIP(r), Via: "sign-in form"}
	err := h.gate.Password(r.Context(), attempt, r.PostForm.Get("user"), r.PostForm.Get("password"))
	if throttled, ok := errors.AsType[*auth.ThrottledError](err); ok {
		w.Header().Set("Retry-After", fmt.Sprint(throttled.Seconds()))
		h.render(w, r, http.StatusTooManyRequests, web.LoginPage(fmt.Sprintf(
			"Too many failed sign-ins from your address. Try again in %d seconds.", throttled.Seconds())))
		return
	}
	if errors.Is(err, auth.ErrWrong) {
		h.render(w, r, http.StatusUnauthorized, web.LoginPage("Wrong password."))
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if err := h.gate.EndSession(r.Context(), h.sessionToken(r)); err != nil {
		h.serverError(w, r, err)
		return
	}
	token, err := h.gate.StartSession(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/admin",
		MaxAge: int(auth.SessionTTL.Seconds()), HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteStrictMode,
	})
	h.log.InfoContext(r.Context(), "admin: signed in", "client", attempt.Client)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.gate.EndSession(r.Context(), h.sessionToken(r)); err != nil {
		h.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/admin", MaxAge: -1, HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}
