package store

import (
	"errors"
	"testing"
	"time"
)

func testCases(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	at := time.Date(2026, 11, 3, 9, 0, 0, 123456000, time.UTC)
	if cs, err := s.Cases(ctx, 0); err != nil || len(cs) != 0 {
		t.Fatalf("empty store: %v %v", cs, err)
	}
	first, err := s.AddCase(ctx, Case{Title: "HAR from agent 1001", CreatedAt: at, Findings: []byte(`[{"verdict":"blocked"}]`)})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.AddCase(ctx, Case{Title: "console of agent 1002", CreatedAt: at.Add(time.Hour), Findings: []byte(`[]`)})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := s.Cases(ctx, 10)
	if err != nil || len(cs) != 2 || cs[0].ID != second || cs[1].ID != first || cs[1].Findings != nil || !cs[1].CreatedAt.Equal(at) {
		t.Fatalf("Cases: %+v %v", cs, err)
	}
	c, err := s.Case(ctx, first)
	if err != nil || c.Title != "HAR from agent 1001" || string(c.Findings) != `[{"verdict":"blocked"}]` || !c.CreatedAt.Equal(at) {
		t.Fatalf("Case: %+v %v", c, err)
	}
	if _, err := s.Case(ctx, second+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing case: %v", err)
	}
	for _, bad := range []Case{{CreatedAt: at, Findings: []byte("[]")}, {Title: "x", Findings: []byte("[]")}, {Title: "x", CreatedAt: at},
		{Title: string(make([]byte, MaxCaseTitle+1)), CreatedAt: at, Findings: []byte("[]")}} {
		if _, err := s.AddCase(ctx, bad); err == nil {
			t.Errorf("AddCase(%+v) accepted", bad)
		}
	}
}
