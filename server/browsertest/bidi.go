package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/coder/websocket"
)

// BiDi is a WebDriver BiDi connection: the protocol Firefox speaks natively on its
// --remote-debugging-port, so no geckodriver is needed. Commands are JSON messages with an id;
// the answer carries the same id; events carry a method and no id.
type BiDi struct {
	conn    *websocket.Conn
	mu      sync.Mutex
	next    int
	pending map[int]chan bidiAnswer
	listen  []func(method string, params json.RawMessage)
	closed  chan struct{}
	err     error
}

type bidiAnswer struct {
	Result json.RawMessage
	Err    error
}

// message is every shape Firefox sends: an answer (id, type success or error) or an event
// (method, params).
type message struct {
	ID      *int            `json:"id"`
	Type    string          `json:"type"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

// dialBiDi connects to a BiDi endpoint (ws://127.0.0.1:PORT/session) and reads its messages
// until the connection ends.
func dialBiDi(ctx context.Context, url string) (*BiDi, error) {
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(64 << 20)
	b := &BiDi{conn: conn, pending: map[int]chan bidiAnswer{}, closed: make(chan struct{})}
	go b.read()
	return b, nil
}

func (b *BiDi) read() {
	defer close(b.closed)
	for {
		_, data, err := b.conn.Read(context.Background())
		if err != nil {
			b.mu.Lock()
			b.err = err
			for id, ch := range b.pending {
				ch <- bidiAnswer{Err: fmt.Errorf("bidi: connection closed: %w", err)}
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m message
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != nil {
			if ch, ok := b.pending[*m.ID]; ok {
				delete(b.pending, *m.ID)
				a := bidiAnswer{Result: m.Result}
				if m.Type == "error" {
					a.Err = fmt.Errorf("bidi: %s: %s", m.Error, m.Message)
				}
				ch <- a
			}
			b.mu.Unlock()
			continue
		}
		fns := b.listen
		b.mu.Unlock()
		for _, fn := range fns {
			fn(m.Method, m.Params)
		}
	}
}

// Call sends a command and waits for its answer.
func (b *BiDi) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	if params == nil {
		params = struct{}{}
	}
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return nil, b.err
	}
	b.next++
	id := b.next
	ch := make(chan bidiAnswer, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	data, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	if err := b.conn.Write(ctx, websocket.MessageText, data); err != nil {
		return nil, err
	}
	select {
	case a := <-ch:
		return a.Result, a.Err
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return nil, ctx.Err()
	}
}

// Listen calls fn for every event, on the reading goroutine: fn must not call Call.
func (b *BiDi) Listen(fn func(method string, params json.RawMessage)) {
	b.mu.Lock()
	b.listen = append(b.listen, fn)
	b.mu.Unlock()
}

// Close ends the connection.
func (b *BiDi) Close() error {
	err := b.conn.Close(websocket.StatusNormalClosure, "")
	<-b.closed
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
