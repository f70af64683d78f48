package store

import (
	"errors"
	"testing"
	"time"
)

// testSessions: a session is found by its hash until it is deleted; adding one removes those
// that have expired.
func testSessions(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	if _, err := s.SessionExpires(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown session: %v, want ErrNotFound", err)
	}
	if err := s.AddSession(ctx, "old", base.Add(time.Hour), base); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSession(ctx, "new", base.Add(9*time.Hour), base); err != nil {
		t.Fatal(err)
	}
	if exp, err := s.SessionExpires(ctx, "new"); err != nil || !exp.Equal(base.Add(9*time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("expiry %v %v", exp, err)
	}
	if err := s.AddSession(ctx, "later", base.Add(10*time.Hour), base.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionExpires(ctx, "old"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an expired session stays: %v", err)
	}
	if err := s.DeleteSession(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionExpires(ctx, "new"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a deleted session stays: %v", err)
	}
	if err := s.DeleteSession(ctx, "new"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := s.SessionExpires(ctx, "later"); err != nil {
		t.Fatalf("another session was lost: %v", err)
	}
}

func testAPITokens(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	for _, bad := range []APIToken{{Hash: "h", CreatedAt: base}, {Name: "n", CreatedAt: base}, {Name: "n", Hash: "h"}} {
		if _, err := s.AddAPIToken(ctx, bad); err == nil {
			t.Errorf("stored %+v", bad)
		}
	}
	a, err := s.AddAPIToken(ctx, APIToken{Name: "deploy script", Hash: "aa", CreatedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AddAPIToken(ctx, APIToken{Name: "monitoring", Hash: "bb", CreatedAt: base.Add(time.Minute)})
	if err != nil || b <= a {
		t.Fatalf("second token id %d after %d: %v", b, a, err)
	}
	if err := s.UseAPIToken(ctx, b, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ts, err := s.APITokens(ctx)
	if err != nil || len(ts) != 2 || ts[0].ID != a || ts[0].Name != "deploy script" || ts[0].Hash != "aa" ||
		!ts[0].LastUsedAt.IsZero() || !ts[1].LastUsedAt.Equal(base.Add(time.Hour).Truncate(time.Microsecond)) ||
		!ts[1].CreatedAt.Equal(base.Add(time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("tokens %+v %v", ts, err)
	}
	if tok, err := s.APIToken(ctx, b); err != nil || tok.Hash != "bb" {
		t.Fatalf("token %d: %+v %v", b, tok, err)
	}
	if err := s.DeleteAPIToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIToken(ctx, a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked token: %v, want ErrNotFound", err)
	}
	if err := s.DeleteAPIToken(ctx, a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoking twice: %v, want ErrNotFound", err)
	}
	if ts, err := s.APITokens(ctx); err != nil || len(ts) != 1 {
		t.Fatalf("after revoking: %+v %v", ts, err)
	}
}
