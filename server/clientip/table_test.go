package clientip

import (
	"fmt"
	"testing"
	"time"
)

func TestTableIsBounded(t *testing.T) {
	tb := NewTable[int](3, time.Hour)
	now := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	zero := func() int { return 0 }
	for i := range 1000 {
		*tb.Use(fmt.Sprint("client ", i), now, zero)++
		*tb.Use("busy", now, zero)++ // used all the time: never the least recent
	}
	if tb.Len() != 3 {
		t.Fatalf("%d keys held, want 3", tb.Len())
	}
	if v, ok := tb.Peek("busy"); !ok || *v != 1000 {
		t.Fatalf("the busy key: %v %v", v, ok)
	}
	if _, ok := tb.Peek("client 997"); ok {
		t.Fatal("the key used least recently was kept")
	}
	if _, ok := tb.Peek("client 998"); !ok {
		t.Fatal("a recent key was forgotten")
	}
	if tb.Use("new", now.Add(2*time.Hour), zero); tb.Len() != 1 {
		t.Fatalf("keys idle for longer than the limit are kept: %d", tb.Len())
	}
}
