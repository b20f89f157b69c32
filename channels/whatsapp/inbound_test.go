package whatsapp_test

import (
	"context"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/whatsapp"
	"github.com/switchboard/switchboard/channels/whatsapp/whatsapptest"
)

var msgTime = time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)

func jid(s string) types.JID {
	j, err := types.ParseJID(s)
	if err != nil {
		panic(err)
	}
	return j
}

// message is an incoming message in chat, as whatsmeow hands it over.
func message(chat, id string, m *waE2E.Message) *events.Message {
	c := jid(chat)
	return &events.Message{Info: types.MessageInfo{
		MessageSource: types.MessageSource{Chat: c, Sender: c},
		ID:            id, PushName: "Анна", Timestamp: msgTime,
	}, Message: m}
}

func textMessage(chat, id, text string) *events.Message {
	return message(chat, id, &waE2E.Message{Conversation: proto.String(text)})
}

const anna = "79131234567@s.whatsapp.net"

func annaHandles() []channels.Handle {
	return []channels.Handle{{Kind: "whatsapp", Value: anna}}
}

func TestInboundKinds(t *testing.T) {
	cli := whatsapptest.New(ownJID, true)
	cli.Media["/img"] = []byte("JPEG")
	cli.Media["/doc"] = []byte("%PDF")
	cli.Media["/voice"] = []byte("OGG")
	cli.Media["/big"] = make([]byte, 10)
	cli.LIDs["123456789012345"] = "79139998877"
	a := newAdapter(t, cli, `{"download_limit": 1000}`)

	withAlt := textMessage("55555555555555@lid", "L2", "из LID")
	withAlt.Info.SenderAlt = jid("79135554433@s.whatsapp.net")
	pnWithLID := textMessage(anna, "P1", "привет")
	pnWithLID.Info.SenderAlt = jid("123456789012345@lid")

	tests := []struct {
		name  string
		evt   *events.Message
		check func(t *testing.T, in channels.Inbound)
	}{
		{"a text becomes a message with the chat's JID, the account's number and the chat-scoped id", textMessage(anna, "3A1", "Сколько стоит диван?"), func(t *testing.T, in channels.Inbound) {
			if in.Text != "Сколько стоит диван?" || in.ExternalID != anna+":3A1" || in.EntryPoint != "+79130000001" || in.Name != "Анна" || !in.At.Equal(msgTime) || in.AccountID != 7 {
				t.Errorf("%+v", in)
			}
			if !reflect.DeepEqual(in.From, annaHandles()) {
				t.Errorf("From = %+v", in.From)
			}
		}},
		{"a wa.me link's text ending in an ad code names its entry point and source", textMessage(anna, "3A0", "Здравствуйте! Хочу узнать цену #YA1"), func(t *testing.T, in channels.Inbound) {
			if in.EntryPoint != "ya1" || in.SourceHint != "ya1" || in.Text != "Здравствуйте! Хочу узнать цену #YA1" {
				t.Errorf("%+v", in)
			}
		}},
		{"a hash inside the text is no ad code", textMessage(anna, "3A9", "номер заказа #12 уже оплачен"), func(t *testing.T, in channels.Inbound) {
			if in.EntryPoint != "+79130000001" || in.SourceHint != "" {
				t.Errorf("%+v", in)
			}
		}},
		{"a quoted reply carries the quote and its parent", message(anna, "3A2", &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
			Text: proto.String("да, этот"), ContextInfo: &waE2E.ContextInfo{StanzaID: proto.String("3A1"), QuotedMessage: &waE2E.Message{Conversation: proto.String("Сколько стоит диван?")}}}}), func(t *testing.T, in channels.Inbound) {
			if in.Text != "да, этот" || in.Meta["quote"] != "Сколько стоит диван?" || !reflect.DeepEqual(in.Parents, []string{anna + ":3A1"}) {
				t.Errorf("%+v", in)
			}
		}},
		{"an image is downloaded with its caption", message(anna, "I1", &waE2E.Message{ImageMessage: &waE2E.ImageMessage{DirectPath: proto.String("/img"), Mimetype: proto.String("image/jpeg"), Caption: proto.String("вот такой"), FileLength: proto.Uint64(4)}}), func(t *testing.T, in channels.Inbound) {
			if in.Text != "вот такой" || len(in.Attachments) != 1 || string(in.Attachments[0].Data) != "JPEG" || in.Attachments[0].ContentType != "image/jpeg" || in.Attachments[0].Name != "image.jpg" {
				t.Errorf("%+v", in)
			}
		}},
		{"a document keeps its file name", message(anna, "D1", &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{DirectPath: proto.String("/doc"), Mimetype: proto.String("application/pdf"), FileName: proto.String("смета.pdf"), FileLength: proto.Uint64(4)}}), func(t *testing.T, in channels.Inbound) {
			if len(in.Attachments) != 1 || in.Attachments[0].Name != "смета.pdf" || string(in.Attachments[0].Data) != "%PDF" {
				t.Errorf("%+v", in)
			}
		}},
		{"a voice note is a voice file", message(anna, "V1", &waE2E.Message{AudioMessage: &waE2E.AudioMessage{DirectPath: proto.String("/voice"), Mimetype: proto.String("audio/ogg; codecs=opus"), PTT: proto.Bool(true), FileLength: proto.Uint64(3)}}), func(t *testing.T, in channels.Inbound) {
			if len(in.Attachments) != 1 || in.Attachments[0].Name != "voice.ogg" || string(in.Attachments[0].Data) != "OGG" {
				t.Errorf("%+v", in)
			}
		}},
		{"a video over the download limit is kept by name and size", message(anna, "B1", &waE2E.Message{VideoMessage: &waE2E.VideoMessage{DirectPath: proto.String("/big"), Mimetype: proto.String("video/mp4"), FileLength: proto.Uint64(5000)}}), func(t *testing.T, in channels.Inbound) {
			if len(in.Attachments) != 1 || in.Attachments[0].Data != nil || !strings.Contains(in.Meta["attachments_skipped"], "video.mp4: 5000 bytes, over the download limit of 1000") {
				t.Errorf("%+v", in)
			}
		}},
		{"a sticker whose download fails is noted, never lost", message(anna, "S1", &waE2E.Message{StickerMessage: &waE2E.StickerMessage{DirectPath: proto.String("/gone"), Mimetype: proto.String("image/webp")}}), func(t *testing.T, in channels.Inbound) {
			if len(in.Attachments) != 1 || in.Attachments[0].Name != "sticker.webp" || !strings.Contains(in.Meta["attachments_skipped"], "sticker.webp: not downloadable") {
				t.Errorf("%+v", in)
			}
		}},
		{"a location is lat,lon", message(anna, "G1", &waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(55.0302), DegreesLongitude: proto.Float64(82.9204), Name: proto.String("Салон")}}), func(t *testing.T, in channels.Inbound) {
			if in.Meta["location"] != "55.0302,82.9204" || in.Text != "Салон" {
				t.Errorf("%+v", in)
			}
		}},
		{"the sender's own contact card is their phone identity", message("777@lid", "C1", &waE2E.Message{ContactMessage: &waE2E.ContactMessage{DisplayName: proto.String("Анна"),
			Vcard: proto.String("BEGIN:VCARD\nVERSION:3.0\nFN:Анна\nitem1.TEL;waid=79131234567:+7 913 123-45-67\nEND:VCARD")}}), func(t *testing.T, in channels.Inbound) {
			// A LID chat whose number WhatsApp hides: the card is someone's,
			// not provably the sender's: a contact card, no identity.
			if in.Meta["contact_phone"] != "+7 913 123-45-67" || in.Meta["contact_name"] != "Анна" || len(in.From) != 1 {
				t.Errorf("%+v", in)
			}
		}},
		{"someone else's contact card is meta, not an identity of the sender", message(anna, "C2", &waE2E.Message{ContactMessage: &waE2E.ContactMessage{DisplayName: proto.String("Пётр"),
			Vcard: proto.String("BEGIN:VCARD\r\nFN:Пётр\r\nTEL;type=CELL;waid=79135550000:+7 913 555-00-00\r\nEND:VCARD")}}), func(t *testing.T, in channels.Inbound) {
			if in.Meta["contact_phone"] != "+7 913 555-00-00" || in.Meta["contact_name"] != "Пётр" || len(in.From) != 1 {
				t.Errorf("%+v", in)
			}
		}},
		{"a card of the sender's own number is a shared phone", message(anna, "C3", &waE2E.Message{ContactMessage: &waE2E.ContactMessage{
			Vcard: proto.String("BEGIN:VCARD\nFN:Анна\nTEL;waid=79131234567:+7 913 123-45-67\nEND:VCARD")}}), func(t *testing.T, in channels.Inbound) {
			if in.Meta["shared_phone"] != "+79131234567" || len(in.From) != 2 || in.From[1] != (channels.Handle{Kind: "phone", Value: "+79131234567"}) {
				t.Errorf("%+v", in)
			}
		}},
		{"an edit is its own touch linked to the original", message(anna, "E9", &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_MESSAGE_EDIT.Enum(),
			Key: &waCommon.MessageKey{ID: proto.String("3A1")}, EditedMessage: &waE2E.Message{Conversation: proto.String("Сколько стоит диван и кресло?")}}}), func(t *testing.T, in channels.Inbound) {
			if in.EditOf != anna+":3A1" || in.ExternalID != anna+":3A1:edit:E9" || in.Text != "Сколько стоит диван и кресло?" || in.Meta["edited"] != "true" {
				t.Errorf("%+v", in)
			}
		}},
		{"a revocation names the deleted message", message(anna, "R9", &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_REVOKE.Enum(), Key: &waCommon.MessageKey{ID: proto.String("3A1")}}}), func(t *testing.T, in channels.Inbound) {
			if in.Meta["revoked"] != anna+":3A1" {
				t.Errorf("%+v", in)
			}
		}},
		{"a reaction names the message it reacts to", message(anna, "X1", &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Key: &waCommon.MessageKey{ID: proto.String("3A1")}, Text: proto.String("👍")}}), func(t *testing.T, in channels.Inbound) {
			if in.Meta["reaction"] != "👍" || in.Meta["reaction_to"] != anna+":3A1" {
				t.Errorf("%+v", in)
			}
		}},
		{"a message written on the phone is an outgoing touch to the chat", func() *events.Message {
			m := textMessage("55555555555555@lid", "O1", "Добрый день, вы спрашивали про диван")
			m.Info.IsFromMe, m.Info.Sender, m.Info.SenderAlt = true, ownJID, ownJID
			m.Info.RecipientAlt = jid("79135554433@s.whatsapp.net")
			return m
		}(), func(t *testing.T, in channels.Inbound) {
			want := []channels.Handle{{Kind: "whatsapp", Value: "55555555555555@lid"}, {Kind: "phone", Value: "+79135554433"}}
			if !in.Outgoing || in.EntryPoint != "" || in.Name != "" || !reflect.DeepEqual(in.From, want) {
				t.Errorf("%+v", in)
			}
		}},
		{"a LID chat's number comes from the LID map", textMessage("123456789012345@lid", "L1", "привет"), func(t *testing.T, in channels.Inbound) {
			want := []channels.Handle{{Kind: "whatsapp", Value: "123456789012345@lid"}, {Kind: "phone", Value: "+79139998877"}}
			if !reflect.DeepEqual(in.From, want) {
				t.Errorf("From = %+v", in.From)
			}
		}},
		{"a LID chat's number comes from SenderAlt", withAlt, func(t *testing.T, in channels.Inbound) {
			want := []channels.Handle{{Kind: "whatsapp", Value: "55555555555555@lid"}, {Kind: "phone", Value: "+79135554433"}}
			if !reflect.DeepEqual(in.From, want) {
				t.Errorf("From = %+v", in.From)
			}
		}},
		{"a phone-number chat also names its LID", pnWithLID, func(t *testing.T, in channels.Inbound) {
			want := []channels.Handle{{Kind: "whatsapp", Value: anna}, {Kind: "whatsapp", Value: "123456789012345@lid"}}
			if !reflect.DeepEqual(in.From, want) {
				t.Errorf("From = %+v", in.From)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, ok := a.Inbound(context.Background(), cli, tt.evt)
			if !ok {
				t.Fatal("skipped")
			}
			tt.check(t, in)
		})
	}
}

func TestInboundSkips(t *testing.T) {
	cli := whatsapptest.New(ownJID, true)
	a := newAdapter(t, cli, "")
	fromMe := textMessage("120363025246125888@g.us", "M1", "наше")
	fromMe.Info.IsFromMe = true
	group := textMessage("120363025246125888@g.us", "G1", "всем привет")
	group.Info.Sender, group.Info.IsGroup = jid(anna), true
	tests := []struct {
		name string
		evt  *events.Message
	}{
		{"our own message in a group", fromMe},
		{"a group message", group},
		{"a status update", textMessage("status@broadcast", "S1", "story")},
		{"a newsletter post", textMessage("120363000000000000@newsletter", "N1", "news")},
		{"a reaction taken back", message(anna, "X2", &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Key: &waCommon.MessageKey{ID: proto.String("3A1")}, Text: proto.String("")}})},
		{"a key share", message(anna, "K1", &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_APP_STATE_SYNC_KEY_SHARE.Enum()}})},
		{"an empty message", message(anna, "Z1", &waE2E.Message{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if in, ok := a.Inbound(context.Background(), cli, tt.evt); ok {
				t.Errorf("recorded %+v", in)
			}
		})
	}
	groups := newAdapter(t, cli, `{"groups": true}`)
	in, ok := groups.Inbound(context.Background(), cli, group)
	if !ok || in.ThreadKey != "120363025246125888@g.us" || in.From[0].Value != anna {
		t.Errorf("with groups on: %+v, %v", in, ok)
	}
}

func TestWaMeLinkCarriesTheAdCode(t *testing.T) {
	link := whatsapp.WaMeLink("+7 913 000-00-01", "Здравствуйте! Хочу узнать цену", "ya1")
	if link != "https://wa.me/79130000001?text=%D0%97%D0%B4%D1%80%D0%B0%D0%B2%D1%81%D1%82%D0%B2%D1%83%D0%B9%D1%82%D0%B5%21%20%D0%A5%D0%BE%D1%87%D1%83%20%D1%83%D0%B7%D0%BD%D0%B0%D1%82%D1%8C%20%D1%86%D0%B5%D0%BD%D1%83%20%23ya1" {
		t.Errorf("link %s", link)
	}
	u, _ := url.Parse(link)
	if code, ok := whatsapp.AdCode(u.Query().Get("text")); !ok || code != "ya1" {
		t.Errorf("the link's text gives code %q %v", code, ok)
	}
}
