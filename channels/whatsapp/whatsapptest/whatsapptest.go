// Package whatsapptest is a double of WhatsApp's servers behind the
// adapter's whatsapp.Client interface, for tests: the test feeds it
// whatsmeow's own event types (events.Message, events.Connected,
// events.LoggedOut …) and reads what was sent. It is the only stand-in for
// WhatsApp in the suite; everything above the Client is the real code.
package whatsapptest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/proto/waWeb"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard/switchboard/channels/whatsapp"
)

// Sent is a message the adapter sent.
type Sent struct {
	To  types.JID
	ID  string
	Msg *waE2E.Message
}

// Client is the double. Set its fields before the adapter runs.
type Client struct {
	// Own is the linked device's JID (zero: not linked).
	Own types.JID
	// QR, when set, is what GetQRChannel returns.
	QR chan whatsmeow.QRChannelItem
	// PairCode is what PairPhone returns.
	PairCode string
	// ConnectedOnConnect emits events.Connected after Connect when the
	// device is linked, as WhatsApp does.
	ConnectedOnConnect bool
	// LIDs maps a LID's user to its phone number's (PhoneOf).
	LIDs map[string]string
	// Media is what Download returns, by DirectPath.
	Media map[string][]byte
	// SendErr, when set, fails each send.
	SendErr error

	mu        sync.Mutex
	handlers  []whatsmeow.EventHandler
	loggedIn  bool
	connects  int
	paired    []string
	sent      []Sent
	n         int
	connected chan struct{}
}

// New is a double; linked says whether the device is already paired.
func New(own types.JID, linked bool) *Client {
	return &Client{Own: own, loggedIn: linked, ConnectedOnConnect: true, LIDs: map[string]string{}, Media: map[string][]byte{},
		connected: make(chan struct{}, 16)}
}

var _ whatsapp.Client = (*Client)(nil)

// Opener hands c to the adapter (a whatsapp.Opener).
func (c *Client) Opener() whatsapp.Opener {
	return func(context.Context, int64, *slog.Logger) (whatsapp.Client, error) { return c, nil }
}

// Emit delivers evt to the adapter's handlers, in order, and returns when
// they have (as whatsmeow's event loop does).
func (c *Client) Emit(evt any) {
	c.mu.Lock()
	hs := append([]whatsmeow.EventHandler(nil), c.handlers...)
	c.mu.Unlock()
	for _, h := range hs {
		h(evt)
	}
}

// WaitConnect waits for the adapter to call Connect.
func (c *Client) WaitConnect(ctx context.Context) error {
	select {
	case <-c.connected:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetLinked marks the device paired (after a PairSuccess).
func (c *Client) SetLinked(own types.JID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Own, c.loggedIn = own, true
}

// Sent lists the messages sent so far.
func (c *Client) Sent() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Sent(nil), c.sent...)
}

// Connects counts Connect calls.
func (c *Client) Connects() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connects
}

// Paired lists the phones PairPhone was called for.
func (c *Client) Paired() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paired...)
}

func (c *Client) AddEventHandler(h whatsmeow.EventHandler) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handlers = append(c.handlers, h)
	return uint32(len(c.handlers))
}

func (c *Client) Connect() error {
	c.mu.Lock()
	c.connects++
	linked := c.loggedIn && c.ConnectedOnConnect
	c.mu.Unlock()
	if linked {
		go c.emitConnected()
	} else {
		c.connected <- struct{}{}
	}
	return nil
}

func (c *Client) emitConnected() {
	c.Emit(&eventsConnected)
	c.connected <- struct{}{}
}

func (c *Client) Disconnect() {}

func (c *Client) IsLoggedIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loggedIn
}

func (c *Client) GetQRChannel(context.Context) (<-chan whatsmeow.QRChannelItem, error) {
	if c.QR == nil {
		return nil, errors.New("whatsapptest: no QR channel set")
	}
	return c.QR, nil
}

func (c *Client) PairPhone(_ context.Context, phone string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paired = append(c.paired, phone)
	return c.PairCode, nil
}

func (c *Client) SendMessage(_ context.Context, to types.JID, msg *waE2E.Message) (whatsmeow.SendResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.SendErr != nil {
		return whatsmeow.SendResponse{}, c.SendErr
	}
	c.n++
	id := fmt.Sprintf("3EB0%016X", c.n)
	c.sent = append(c.sent, Sent{To: to, ID: id, Msg: msg})
	return whatsmeow.SendResponse{ID: id}, nil
}

func (c *Client) Upload(_ context.Context, data []byte, kind whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
	sum := sha256.Sum256(data)
	return whatsmeow.UploadResponse{URL: "https://mmg.whatsapp.net/test", DirectPath: fmt.Sprintf("/%s/%x", kind, sum[:8]),
		MediaKey: sum[:], FileSHA256: sum[:], FileEncSHA256: sum[:], FileLength: uint64(len(data))}, nil
}

func (c *Client) Download(_ context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.Media[msg.GetDirectPath()]
	if !ok {
		return nil, whatsmeow.ErrMediaDownloadFailedWith404
	}
	return b, nil
}

func (c *Client) Logout(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loggedIn {
		return whatsmeow.ErrNotLoggedIn
	}
	c.loggedIn, c.Own = false, types.JID{}
	return nil
}

func (c *Client) OwnJID() types.JID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Own
}

func (c *Client) PhoneOf(_ context.Context, lid types.JID) (types.JID, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pn, ok := c.LIDs[lid.User]; ok {
		return types.NewJID(pn, types.DefaultUserServer), nil
	}
	return types.JID{}, nil
}

// ParseWebMessage is whatsmeow's own reading of a history message, by a
// client that knows only the linked device's JID (all it needs).
func (c *Client) ParseWebMessage(chat types.JID, msg *waWeb.WebMessageInfo) (*events.Message, error) {
	own := c.OwnJID()
	return whatsmeow.NewClient(&store.Device{ID: &own}, nil).ParseWebMessage(chat, msg)
}

// HistoryMsg is one message of a history sync as the phone sends it: text
// in chat, from the account itself when fromMe.
func HistoryMsg(chat, id string, fromMe bool, at time.Time, text string) *waHistorySync.HistorySyncMsg {
	return &waHistorySync.HistorySyncMsg{Message: &waWeb.WebMessageInfo{
		Key:              &waCommon.MessageKey{RemoteJID: proto.String(chat), FromMe: proto.Bool(fromMe), ID: proto.String(id)},
		Message:          &waE2E.Message{Conversation: proto.String(text)},
		MessageTimestamp: proto.Uint64(uint64(at.Unix())),
	}}
}

var eventsConnected = events.Connected{}
