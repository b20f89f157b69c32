package phone

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClientActionIDs: concurrent actions each get their own response
// when the PBX answers out of order, with events interleaved; events reach
// onEvent in wire order; a connection that ends fails what waits.
func TestClientActionIDs(t *testing.T) {
	srv, cli := net.Pipe()
	defer srv.Close()
	var mu sync.Mutex
	var events []string
	c := newAMIClient(cli, testLog(t), func(m *Message, _ time.Time) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, m.Event()+":"+m.Get("Seq"))
	})
	go c.readLoop()

	const n = 8
	go func() {
		r := bufio.NewReader(srv)
		var ids []string
		for len(ids) < n {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if id, ok := strings.CutPrefix(strings.TrimSpace(l), "ActionID: "); ok {
				ids = append(ids, id)
			}
		}
		for i := n - 1; i >= 0; i-- { // answer backwards, events between
			fmt.Fprintf(srv, "Event: Tick\r\nSeq: %d\r\n\r\nResponse: Success\r\nActionID: %s\r\nEcho: %s\r\n\r\n", i, ids[i], ids[i])
		}
		srv.Close()
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("req-%d", i)
			m, err := c.action(context.Background(), "Ping", Field{"ActionID", id})
			if err == nil && m.Get("Echo") != id {
				err = fmt.Errorf("%s got the response of %s", id, m.Get("Echo"))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	<-c.done
	if want := "Tick:7 Tick:6 Tick:5 Tick:4 Tick:3 Tick:2 Tick:1 Tick:0"; strings.Join(events, " ") != want {
		t.Errorf("events %v, want %s", events, want)
	}
	if _, err := c.action(context.Background(), "Ping"); err == nil {
		t.Error("an action on a closed connection succeeded")
	}
}

// TestClientErrorResponse: "Response: Error" is an error carrying
// Asterisk's message; a duplicate ActionID in flight is refused.
func TestClientErrorResponse(t *testing.T) {
	srv, cli := net.Pipe()
	defer srv.Close()
	c := newAMIClient(cli, testLog(t), nil)
	go c.readLoop()
	go func() {
		r := bufio.NewReader(srv)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(l, "ActionID: a1") {
				time.Sleep(50 * time.Millisecond)
				fmt.Fprint(srv, "Response: Error\r\nActionID: a1\r\nMessage: Permission denied\r\n\r\n")
			}
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := c.action(context.Background(), "Originate", Field{"ActionID", "a1"})
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if _, err := c.action(context.Background(), "Ping", Field{"ActionID", "a1"}); err == nil {
		t.Error("a second action with an ActionID in flight was sent")
	}
	err := <-done
	var ae *amiError
	if !errors.As(err, &ae) || ae.Message != "Permission denied" || !strings.Contains(err.Error(), "Permission denied") {
		t.Errorf("err = %v, want Asterisk's message", err)
	}
	c.close(errClosed)
}
