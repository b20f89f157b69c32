package phone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// amiClient is one AMI connection: a reader goroutine that splits the
// stream into messages, hands events to onEvent in wire order, and routes
// responses to the action waiting for their ActionID, so actions may run
// concurrently.
type amiClient struct {
	conn    io.ReadWriteCloser
	wire    *wireReader
	log     *slog.Logger
	onEvent func(m *Message, recv time.Time)
	banner  string

	wmu sync.Mutex // serializes writes

	mu      sync.Mutex
	pending map[string]chan *Message
	err     error // why the connection ended
	done    chan struct{}
	seq     atomic.Uint64
}

// writeTimeout bounds the write of one action.
const writeTimeout = 10 * time.Second

// errClosed is returned to actions waiting when the connection ends.
var errClosed = errors.New("phone: AMI connection closed")

// amiError is an action refused by Asterisk ("Response: Error"); its text
// is Asterisk's Message ("Authentication failed").
type amiError struct {
	Action  string
	Message string
}

func (e *amiError) Error() string {
	return fmt.Sprintf("phone: AMI %s: %s", e.Action, e.Message)
}

// dialAMI connects to addr, reads the banner and logs in. onEvent runs on
// the reader goroutine for every event, in order; it must not block for
// long nor keep m, nor any string read from m without cloning it: m is a
// view of the reader's buffer, which the next messages overwrite.
func dialAMI(ctx context.Context, addr, user, secret string, log *slog.Logger, onEvent func(*Message, time.Time)) (*amiClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("phone: AMI connect %s: %w", addr, err)
	}
	c := newAMIClient(conn, log, onEvent)
	// The banner and the login must come within a bound.
	deadline := time.Now().Add(15 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetReadDeadline(deadline)
	banner, err := c.wire.banner()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("phone: AMI %s: reading the banner: %w", addr, err)
	}
	if !strings.HasPrefix(banner, "Asterisk Call Manager/") {
		conn.Close()
		return nil, fmt.Errorf("phone: AMI %s: %q is not an Asterisk Manager Interface banner", addr, banner)
	}
	_ = conn.SetReadDeadline(time.Time{})
	c.banner = banner
	go c.readLoop()
	lctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// https://docs.asterisk.org/Latest_API/API_Documentation/AMI_Actions/Login/
	if _, err := c.action(lctx, "Login", Field{"Username", user}, Field{"Secret", secret}); err != nil {
		c.close(err)
		return nil, err
	}
	return c, nil
}

func newAMIClient(conn io.ReadWriteCloser, log *slog.Logger, onEvent func(*Message, time.Time)) *amiClient {
	c := &amiClient{
		conn:    conn,
		log:     log,
		onEvent: onEvent,
		pending: map[string]chan *Message{},
		done:    make(chan struct{}),
	}
	garbage := 0
	c.wire = newWireReader(conn, func(line string) {
		garbage++
		if garbage <= 10 || garbage%1000 == 0 {
			log.Warn("phone: AMI line skipped: not Key: Value", "line", line, "skipped", garbage)
		}
	})
	c.wire.reuse = true // dispatch clones the responses; onEvent keeps nothing
	c.wire.want = eventKeys
	return c
}

// readLoop reads until the connection ends.
func (c *amiClient) readLoop() {
	ev := &Message{}
	for {
		m := ev
		err := c.wire.next(m)
		if err != nil {
			c.close(fmt.Errorf("phone: AMI read: %w", err))
			return
		}
		var recv time.Time // only looked up for an event without Timestamp
		if _, ok := m.stamp(); !ok {
			recv = time.Now()
		}
		c.dispatch(m, recv)
	}
}

// dispatch routes one message: a response to its waiting action, an event
// to onEvent. A response nobody waits for is dropped.
func (c *amiClient) dispatch(m *Message, recv time.Time) {
	if m.Event() == "" && m.Response() != "" {
		id := m.ActionID()
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			c := *m
			c.text = strings.Clone(m.text)
			c.fields = append([]span(nil), m.fields...)
			ch <- &c
		}
		return
	}
	if c.onEvent != nil {
		c.onEvent(m, recv)
	}
}

// close ends the connection once, failing the waiting actions.
func (c *amiClient) close(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = map[string]chan *Message{}
	c.mu.Unlock()
	c.conn.Close()
	for _, ch := range pending {
		close(ch)
	}
	close(c.done)
}

// Close ends the connection (sending Logoff first, best effort).
func (c *amiClient) Close() {
	select {
	case <-c.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, _ = c.action(ctx, "Logoff")
	cancel()
	c.close(errClosed)
}

// Err is why the connection ended (nil while it is up).
func (c *amiClient) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// action sends an action and waits for its response. The ActionID is
// fields' ActionID when given, else a fresh one. A "Response: Error" is
// an *amiError with Asterisk's message.
func (c *amiClient) action(ctx context.Context, name string, fields ...Field) (*Message, error) {
	id := ""
	for _, f := range fields {
		if strings.EqualFold(f.Key, "ActionID") {
			id = f.Value
		}
	}
	if id == "" {
		id = "sb-" + strconv.FormatUint(c.seq.Add(1), 10)
		fields = append(fields, Field{"ActionID", id})
	}
	ch := make(chan *Message, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.err
	}
	if _, dup := c.pending[id]; dup {
		c.mu.Unlock()
		return nil, fmt.Errorf("phone: AMI %s: ActionID %q is already waiting for a response", name, id)
	}
	c.pending[id] = ch
	c.mu.Unlock()

	var b strings.Builder
	b.WriteString("Action: ")
	b.WriteString(name)
	b.WriteString("\r\n")
	for _, f := range fields {
		// A CR or LF in a value would start a new header: cut it.
		v := strings.NewReplacer("\r", " ", "\n", " ").Replace(f.Value)
		b.WriteString(f.Key + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	c.wmu.Lock()
	if d, ok := c.conn.(interface{ SetWriteDeadline(time.Time) error }); ok {
		// A PBX that stops reading must not block us (nor the keep-alive)
		// for ever.
		_ = d.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
	_, err := io.WriteString(c.conn, b.String())
	c.wmu.Unlock()
	if err != nil {
		c.close(fmt.Errorf("phone: AMI write: %w", err))
		return nil, c.Err()
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return nil, c.Err()
		}
		if strings.EqualFold(m.Response(), "Error") {
			return m, &amiError{Action: name, Message: m.Get("Message")}
		}
		return m, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, fmt.Errorf("phone: AMI %s: %w", name, ctx.Err())
	}
}

// keepAlive sends Ping every interval until the connection ends or ctx
// does; a Ping unanswered within the interval closes the connection, so a
// silent half-open TCP connection is noticed.
func (c *amiClient) keepAlive(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		_, err := c.action(pctx, "Ping")
		cancel()
		if err != nil && ctx.Err() == nil {
			c.close(fmt.Errorf("phone: AMI keep-alive: %w", err))
			return
		}
	}
}
