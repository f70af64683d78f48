// Package auth decides who is the admin. It checks the admin password under one slow-down per
// client address, shared by the sign-in form and the admin API. It keeps sessions in the store,
// so every instance on the database knows them. It issues API tokens for the admin API: only a
// hash of each is stored, and a presented token is compared in constant time.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corsquickcheck/corscheck/server/clientip"
	"github.com/corsquickcheck/corscheck/server/store"
)

// Config is what a Gate needs.
type Config struct {
	Store store.Store
	// CheckPassword says whether a password is the admin's; nil refuses every one.
	CheckPassword func(string) bool
	Logger        *slog.Logger
	Now           func() time.Time
}

// Gate checks the admin's credentials. It is safe for concurrent use; the sign-in form and the
// admin API must share one, so that they share the slow-down.
type Gate struct {
	store         store.Store
	checkPassword func(string) bool
	log           *slog.Logger
	now           func() time.Time
	throttle      *throttle
	// afterFunc runs the log window's summary later (time.AfterFunc; tests replace it).
	afterFunc    func(time.Duration, func())
	summaryArmed atomic.Bool
}

// New returns a Gate.
func New(cfg Config) *Gate {
	g := &Gate{store: cfg.Store, checkPassword: cfg.CheckPassword, log: cfg.Logger, now: cfg.Now}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.now == nil {
		g.now = time.Now
	}
	g.throttle = newThrottle(g.now)
	g.afterFunc = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	return g
}

// SessionTTL is how long a session lasts.
const SessionTTL = 8 * time.Hour

// ErrWrong is a wrong password, user name or token.
var ErrWrong = errors.New("wrong admin credentials")

// ThrottledError is an attempt refused without a check, because its address failed too often.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed attempts from this address; try again in %d seconds", e.Seconds())
}

// Seconds is the wait rounded up to whole seconds, for Retry-After.
func (e *ThrottledError) Seconds() int { return int((e.Wait + time.Second - 1) / time.Second) }

// Attempt says where a try at the admin's credentials comes from.
type Attempt struct {
	// Client is the client's address. The slow-down counts per clientip.Key of it: an IPv4
	// address, or an IPv6 /64.
	Client string
	Via    string // "sign-in form", "admin API": for the log
}

// Password checks the admin's user name (empty or "admin") and password. It returns nil,
// ErrWrong, or a *ThrottledError without checking anything. A success forgets the client's
// failures, of passwords and of tokens.
func (g *Gate) Password(ctx context.Context, a Attempt, user, password string) error {
	failures, err := g.begin(ctx, a, credPassword)
	if err != nil {
		return err
	}
	if (user != "" && user != "admin") || password == "" || g.checkPassword == nil || !g.checkPassword(password) {
		return g.failed(ctx, a, "password", failures)
	}
	g.throttle.succeed(clientip.Key(a.Client), credPassword)
	return nil
}

// begin lets the attempt through the slow-down, or refuses it; failures counts it. It first
// logs the summary of a log window that has ended.
func (g *Gate) begin(ctx context.Context, a Attempt, cred credential) (failures int, err error) {
	g.logSummary(ctx, false)
	wait, failures := g.throttle.begin(clientip.Key(a.Client), cred)
	if wait > 0 {
		g.armSummary() // the refusal is counted for the summary
		return failures, &ThrottledError{Wait: wait}
	}
	return failures, nil
}

// failed logs a failed check, or counts it for the log window's summary when the window has
// logged its share, and returns ErrWrong.
func (g *Gate) failed(ctx context.Context, a Attempt, credential string, failures int) error {
	key := clientip.Key(a.Client)
	if !g.throttle.logFailure(key) {
		g.armSummary()
		return ErrWrong
	}
	attrs := []any{"client", a.Client, "via", a.Via, "credential", credential,
		"failures_in_a_row", failures, "slowed_down", failures >= freeFailures}
	if key != a.Client {
		attrs = append(attrs, "counted_as", key)
	}
	g.log.WarnContext(ctx, "admin: failed sign-in", attrs...)
	return ErrWrong
}

// armSummary makes sure that a log window holding counted attempts is summarised within
// summaryEvery, even if no attempt follows.
func (g *Gate) armSummary() {
	if g.summaryArmed.CompareAndSwap(false, true) {
		g.afterFunc(summaryEvery, func() {
			g.summaryArmed.Store(false)
			g.logSummary(context.Background(), true)
		})
	}
}

// logSummary logs the summary of the log window when it has ended (or at once when force) and
// counted attempts the log did not show one by one.
func (g *Gate) logSummary(ctx context.Context, force bool) {
	s := g.throttle.closeWindow(force)
	if s == nil {
		return
	}
	g.log.WarnContext(ctx, "admin: sign-in attempts not logged one by one", "since", s.since.UTC(),
		"failures", s.unlogged, "refused_while_slowed_down", s.refused, "clients", s.clients,
		"busiest_client", s.busiest, "busiest_client_attempts", s.busiestAttempts)
}

// tokenPrefix starts every API token, so that one is easy to recognise (in a secret scanner,
// say) and to tell from a password.
const tokenPrefix = "corscheck_"

// Token checks an API token, as Password checks a password (a wrong one counts as a failure
// of the client), and returns it. A success forgets the client's token failures only: its
// password failures stay, so that a token cannot be used to guess the password without limit.
func (g *Gate) Token(ctx context.Context, a Attempt, token string) (store.APIToken, error) {
	failures, err := g.begin(ctx, a, credToken)
	if err != nil {
		return store.APIToken{}, err
	}
	id, secret, ok := parseToken(token)
	var t store.APIToken
	if ok {
		t, err = g.store.APIToken(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.APIToken{}, err
		}
	}
	// Compared in constant time even when there is no such token, against a hash no secret has.
	want := t.Hash
	if want == "" {
		want = strings.Repeat("-", sha256.Size*2)
	}
	if subtle.ConstantTimeCompare([]byte(hash(secret)), []byte(want)) != 1 || !ok {
		return store.APIToken{}, g.failed(ctx, a, "token", failures)
	}
	g.throttle.succeed(clientip.Key(a.Client), credToken)
	if err := g.store.UseAPIToken(ctx, t.ID, g.now()); err != nil {
		g.log.WarnContext(ctx, "admin: recording a token's use", "token", t.ID, "err", err)
	}
	return t, nil
}

// parseToken splits corscheck_<id>_<secret>.
func parseToken(token string) (int64, string, bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return 0, "", false
	}
	idText, secret, ok := strings.Cut(rest, "_")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 || secret == "" {
		return 0, "", false
	}
	return id, secret, true
}

// CreateToken makes an API token named name. The token it returns is the only copy: the store
// keeps its hash.
func (g *Gate) CreateToken(ctx context.Context, name string) (string, store.APIToken, error) {
	secret := rand.Text()
	t := store.APIToken{Name: name, Hash: hash(secret), CreatedAt: g.now().UTC()}
	id, err := g.store.AddAPIToken(ctx, t)
	if err != nil {
		return "", store.APIToken{}, err
	}
	t.ID = id
	return tokenPrefix + strconv.FormatInt(id, 10) + "_" + secret, t, nil
}

// Tokens lists the API tokens, oldest first.
func (g *Gate) Tokens(ctx context.Context) ([]store.APIToken, error) { return g.store.APITokens(ctx) }

// RevokeToken deletes an API token; store.ErrNotFound when there is none.
func (g *Gate) RevokeToken(ctx context.Context, id int64) error {
	return g.store.DeleteAPIToken(ctx, id)
}

// StartSession stores a new session and returns its token, for the cookie.
func (g *Gate) StartSession(ctx context.Context) (string, error) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	token := hex.EncodeToString(b)
	now := g.now()
	if err := g.store.AddSession(ctx, hash(token), now.Add(SessionTTL), now); err != nil {
		return "", err
	}
	return token, nil
}

// Session reports whether token is a session that has not expired.
func (g *Gate) Session(ctx context.Context, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	exp, err := g.store.SessionExpires(ctx, hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return g.now().Before(exp), nil
}

// EndSession removes a session.
func (g *Gate) EndSession(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return g.store.DeleteSession(ctx, hash(token))
}

// hash is how secrets are stored: they are random and long, so a plain SHA-256 suffices.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
