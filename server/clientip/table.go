package clientip

import (
	"container/list"
	"time"
)

// Table keeps a value per client key (see Key) for rate limits and slow-downs, within bounds
// whatever the clients send: it holds at most max keys and forgets the one used least recently
// to make room, and forgets any key unused for longer than idle. It is not safe for concurrent
// use.
type Table[V any] struct {
	max     int
	idle    time.Duration
	by      map[string]*list.Element // of *entry[V]
	recency *list.List               // the most recently used first
}

type entry[V any] struct {
	key   string
	used  time.Time
	value V
}

// NewTable returns an empty Table.
func NewTable[V any](max int, idle time.Duration) *Table[V] {
	return &Table[V]{max: max, idle: idle, by: map[string]*list.Element{}, recency: list.New()}
}

// Use returns key's value, made by fresh when the table does not hold it, and marks it used at
// now.
func (t *Table[V]) Use(key string, now time.Time, fresh func() V) *V {
	for e := t.recency.Back(); e != nil && now.Sub(e.Value.(*entry[V]).used) > t.idle; e = t.recency.Back() {
		t.remove(e)
	}
	if e, ok := t.by[key]; ok {
		t.recency.MoveToFront(e)
		en := e.Value.(*entry[V])
		en.used = now
		return &en.value
	}
	for t.recency.Len() >= t.max {
		t.remove(t.recency.Back())
	}
	en := &entry[V]{key: key, used: now, value: fresh()}
	t.by[key] = t.recency.PushFront(en)
	return &en.value
}

// Peek returns key's value without marking it used.
func (t *Table[V]) Peek(key string) (*V, bool) {
	e, ok := t.by[key]
	if !ok {
		return nil, false
	}
	return &e.Value.(*entry[V]).value, true
}

// Len is the number of keys held.
func (t *Table[V]) Len() int { return t.recency.Len() }

func (t *Table[V]) remove(e *list.Element) {
	delete(t.by, e.Value.(*entry[V]).key)
	t.recency.Remove(e)
}
