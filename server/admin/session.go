package admin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/web"
)

// sessions are the signed-in browsers: random tokens kept in memory until they expire (a
// restart signs everyone out; several instances behind a load balancer need sticky sessions).
type sessions struct {
	now    func() time.Time
	mu     sync.Mutex
	expiry map[string]time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, expiry: map[string]time.Time{}}
}

// create returns a new session's token.
func (s *sessions) create() string {
	token := hex.EncodeToString(randomBytes(32))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, exp := range s.expiry {
		if !now.Before(exp) {
			delete(s.expiry, t)
		}
	}
	s.expiry[token] = now.Add(sessionTTL)
	return token
}

func (s *sessions) valid(token string) bool {
	if token == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.expiry[token]
	if ok && !s.now().Before(exp) {
		delete(s.expiry, token)
		return false
	}
	return ok
}

func (s *sessions) delete(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.expiry, token)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return b
}

// throttle slows down guessing: after freeFailures failed sign-ins from one address, each
// further attempt must wait, twice as long after every failure, up to maxDelay. A success
// forgets the address's failures.
type throttle struct {
	now   func() time.Time
	mu    sync.Mutex
	by    map[string]*failures
	swept time.Time
}

type failures struct {
	count int
	last  time.Time
	until time.Time // no attempt before this
}

const (
	freeFailures = 5
	firstDelay   = 2 * time.Second
	maxDelay     = 15 * time.Minute
	forgetAfter  = 24 * time.Hour
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, by: map[string]*failures{}, swept: now()}
}

// wait says how long the address must wait before its next attempt; zero means try now.
func (t *throttle) wait(addr string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.swept) > time.Minute {
		for a, f := range t.by {
			if now.Sub(f.last) > forgetAfter {
				delete(t.by, a)
			}
		}
		t.swept = now
	}
	if f, ok := t.by[addr]; ok && now.Before(f.until) {
		return f.until.Sub(now)
	}
	return 0
}

func (t *throttle) fail(addr string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.by[addr]
	if !ok {
		f = &failures{}
		t.by[addr] = f
	}
	f.count++
	f.last = now
	if n := f.count - freeFailures; n >= 0 {
		d := maxDelay
		if n < 20 {
			d = min(firstDelay<<n, maxDelay)
		}
		f.until = now.Add(d)
	}
}

func (t *throttle) succeed(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.by, addr)
}

func (h *handler) sessionToken(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

func (h *handler) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.sessions.valid(h.sessionToken(r)) {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if h.sessions.valid(h.sessionToken(r)) {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, web.LoginPage(""))
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	addr := h.clientIP(r)
	if wait := h.throttle.wait(addr); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		h.render(w, r, http.StatusTooManyRequests, web.LoginPage(fmt.Sprintf(
			"Too many failed sign-ins from your address. Try again in %d seconds.", secs)))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		h.render(w, r, http.StatusBadRequest, web.LoginPage("The sign-in form could not be read."))
		return
	}
	user := r.PostForm.Get("user")
	pass := r.PostForm.Get("password")
	if (user != "" && user != "admin") || pass == "" || h.checkPassword == nil || !h.checkPassword(pass) {
		h.throttle.fail(addr)
		h.log.WarnContext(r.Context(), "admin: failed sign-in", "client", addr)
		h.render(w, r, http.StatusUnauthorized, web.LoginPage("Wrong password."))
		return
	}
	h.throttle.succeed(addr)
	if old := h.sessionToken(r); old != "" {
		h.sessions.delete(old)
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: h.sessions.create(), Path: "/admin",
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteStrictMode,
	})
	h.log.InfoContext(r.Context(), "admin: signed in", "client", addr)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	h.sessions.delete(h.sessionToken(r))
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/admin", MaxAge: -1, HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}
