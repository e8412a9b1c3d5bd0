package studiotest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"
)

// WS is a graphql-transport-ws connection
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md).
type WS struct {
	t    testing.TB
	Conn *websocket.Conn
	// Ack is the server's connection_ack frame, as sent.
	Ack []byte
}

// Message is one graphql-transport-ws message.
type Message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Dial connects to baseURL's /graphql and sends connection_init, whose
// payload carries the token ({} for ""), and waits for connection_ack. An
// error is the dial's or the first read's: when the server closes the
// socket instead, websocket.CloseStatus(err) is its close code (4401 for a
// refused token). The socket is closed when the test ends, if not before.
func Dial(t testing.TB, baseURL, token string) (*WS, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(baseURL, "http") + "/graphql"
	// The response's body is websocket's to close (it is nil once dialled).
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}}) //nolint:bodyclose
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	conn.SetReadLimit(1 << 24)
	init := map[string]any{}
	if token != "" {
		init["Authorization"] = "Bearer " + token
	}
	payload, _ := json.Marshal(init)
	if err := wsjson.Write(ctx, conn, Message{Type: "connection_init", Payload: payload}); err != nil {
		return nil, err
	}
	_, frame, err := conn.Read(ctx)
	if err != nil {
		return nil, err
	}
	var ack Message
	if err := json.Unmarshal(frame, &ack); err != nil || ack.Type != "connection_ack" {
		return nil, fmt.Errorf("got %s, not connection_ack", frame)
	}
	return &WS{t: t, Conn: conn, Ack: frame}, nil
}

// Subscribe starts operation id: a subscription, or a query or mutation
// answered once.
func (w *WS) Subscribe(id, query string, vars map[string]any) {
	w.t.Helper()
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(w.t, err)
	w.Send(Message{ID: id, Type: "subscribe", Payload: payload})
}

// Complete ends operation id.
func (w *WS) Complete(id string) {
	w.t.Helper()
	w.Send(Message{ID: id, Type: "complete"})
}

// Send sends m as it is.
func (w *WS) Send(m Message) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(w.t, wsjson.Write(ctx, w.Conn, m))
}

// Next reads the next message, waiting at most d, and answers pings on the
// way. It fails no test, so that a goroutine may call it: an error is the
// wait's end or the socket's (see Dial for close codes).
func (w *WS) Next(d time.Duration) (Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		var m Message
		if err := wsjson.Read(ctx, w.Conn, &m); err != nil {
			return m, err
		}
		if m.Type == "ping" {
			_ = wsjson.Write(ctx, w.Conn, Message{Type: "pong"})
			continue
		}
		return m, nil
	}
}

// Close closes the socket normally.
func (w *WS) Close() { _ = w.Conn.Close(websocket.StatusNormalClosure, "done") }
