package telegram

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
)

// The bytes the fake Bot API serves for each file_id in testdata.
var sampleFiles = map[string]struct {
	path string
	data []byte
}{
	"AgACAgIAAxkBAAPUZ0MLarge": {"photos/file_12.jpg", []byte("\xff\xd8\xff\xe0 large jpeg")},
	"AgACAgIAAxkBAAPUZ0MSmall": {"photos/file_10.jpg", []byte("\xff\xd8\xff\xe0 small")},
	"BQACAgIAAxkBAAPVZ0MDoc":   {"documents/file_13.pdf", []byte("%PDF-1.7 размеры")},
	"AwACAgIAAxkBAAPWZ0MVoice": {"voice/file_14.oga", []byte("OggS voice")},
	"DQACAgIAAxkBAAPXZ0MNote":  {"video_notes/file_15.mp4", []byte("\x00\x00\x00\x18ftypmp42 note")},
	"CQACAgIAAxkBAAPYZ0MAudio": {"music/file_16.m4a", []byte("\x00\x00\x00\x20ftypM4A audio")},
	"BAACAgIAAxkBAAPZZ0MVideo": {"videos/file_17.mp4", []byte("\x00\x00\x00\x18ftypmp42 video")},
}

func fakeWithFiles(t testing.TB) *telegramtest.Server {
	fake := telegramtest.NewServer(t, testToken)
	for id, f := range sampleFiles {
		fake.AddFile(id, f.path, f.data)
	}
	return fake
}

func anna() []channels.Handle { return []channels.Handle{{Kind: "telegram", Value: annaID}} }

func at(unix int64) time.Time { return time.Unix(unix, 0).UTC() }

// TestInboundSamples maps each recorded update as the sink (and so a
// user) sees it.
func TestInboundSamples(t *testing.T) {
	fake := fakeWithFiles(t)
	a := newAdapter(t, fake, "", "")
	user := map[string]string{"username": "anna_smirnova"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"username": "anna_smirnova"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		file    string
		ignored bool
		want    channels.Inbound
	}{
		{file: "text.json", want: channels.Inbound{ExternalID: annaID + ":211", At: at(1732431792), From: anna(), Name: annaName,
			Text: "Здравствуйте! Сколько стоит доставка шкафа в Бердск?", Meta: user}},
		{file: "start_yandex.json", want: channels.Inbound{ExternalID: annaID + ":210", At: at(1732431780), From: anna(), Name: annaName,
			Text: "/start yandex", EntryPoint: "yandex", SourceHint: "yandex", Meta: user}},
		{file: "start_plain.json", want: channels.Inbound{ExternalID: annaID + ":209", At: at(1732431770), From: anna(), Name: annaName,
			Text: "/start", Meta: user}},
		{file: "photo_caption.json", want: channels.Inbound{ExternalID: annaID + ":212", At: at(1732431850), From: anna(), Name: annaName,
			Text: "Вот такой шкаф нужен, 180 см", Meta: user,
			Attachments: []channels.Attachment{{Name: "photo_AQADq9wxG_large.jpg", ContentType: "image/jpeg", Data: sampleFiles["AgACAgIAAxkBAAPUZ0MLarge"].data}}}},
		{file: "document.json", want: channels.Inbound{ExternalID: annaID + ":213", At: at(1732431900), From: anna(), Name: annaName, Meta: user,
			Attachments: []channels.Attachment{{Name: "Размеры_прихожей.pdf", ContentType: "application/pdf", Data: sampleFiles["BQACAgIAAxkBAAPVZ0MDoc"].data}}}},
		{file: "voice.json", want: channels.Inbound{ExternalID: annaID + ":214", At: at(1732431960), From: anna(), Name: annaName, Meta: user,
			Attachments: []channels.Attachment{{Name: "voice_AgADVoice.ogg", ContentType: "audio/ogg", Data: sampleFiles["AwACAgIAAxkBAAPWZ0MVoice"].data}}}},
		{file: "video_note.json", want: channels.Inbound{ExternalID: annaID + ":215", At: at(1732432020), From: anna(), Name: annaName, Meta: user,
			Attachments: []channels.Attachment{{Name: "video_note_AgADNote.mp4", ContentType: "video/mp4", Data: sampleFiles["DQACAgIAAxkBAAPXZ0MNote"].data}}}},
		{file: "audio.json", want: channels.Inbound{ExternalID: annaID + ":216", At: at(1732432080), From: anna(), Name: annaName, Meta: user,
			Attachments: []channels.Attachment{{Name: "замер.m4a", ContentType: "audio/mp4", Data: sampleFiles["CQACAgIAAxkBAAPYZ0MAudio"].data}}}},
		{file: "video.json", want: channels.Inbound{ExternalID: annaID + ":217", At: at(1732432140), From: anna(), Name: annaName, Text: "Видео ниши", Meta: user,
			Attachments: []channels.Attachment{{Name: "IMG_4471.MP4", ContentType: "video/mp4", Data: sampleFiles["BAACAgIAAxkBAAPZZ0MVideo"].data}}}},
		{file: "contact.json", want: channels.Inbound{ExternalID: annaID + ":218", At: at(1732432200), Name: annaName,
			From: []channels.Handle{{Kind: "telegram", Value: annaID}, {Kind: "phone", Value: "+79131234567"}},
			Meta: with("shared_phone", "+79131234567")}},
		{file: "contact_other.json", want: channels.Inbound{ExternalID: annaID + ":219", At: at(1732432260), From: anna(), Name: annaName,
			Meta: with("contact_phone", "+7 (383) 234-90-96", "contact_name", "Сергей Монтажник")}},
		{file: "edited.json", want: channels.Inbound{ExternalID: annaID + ":211:edit:1732431845", EditOf: annaID + ":211", At: at(1732431845), From: anna(), Name: annaName,
			Text: "Здравствуйте! Сколько стоит доставка шкафа в Искитим?", Meta: with("edited", "true")}},
		{file: "big_document.json", want: channels.Inbound{ExternalID: annaID + ":220", At: at(1732432440), From: anna(), Name: annaName, Text: "Все чертежи",
			Meta:        with("attachments_skipped", "чертежи.zip: 52428800 bytes, over the download limit of 20971520"),
			Attachments: []channels.Attachment{{Name: "чертежи.zip", ContentType: "application/zip"}}}},
		{file: "forward_user.json", want: channels.Inbound{ExternalID: annaID + ":230", At: at(1732433000), From: anna(), Name: annaName,
			Text: "Шкаф-купе 2 м, зеркало, доставка в пятницу — сколько?",
			Meta: with("forwarded_from", "Олег Петров (@oleg_petrov)", "forwarded_at", "2024-11-23T08:20:00Z")}},
		{file: "forward_hidden.json", want: channels.Inbound{ExternalID: annaID + ":231", At: at(1732433060), From: anna(), Name: annaName,
			Text: "Размеры ниши: 182 × 240 × 60", Meta: with("forwarded_from", "Марина Дизайнер", "forwarded_at", "2024-11-23T08:36:40Z")}},
		{file: "forward_chat.json", want: channels.Inbound{ExternalID: annaID + ":232", At: at(1732433120), From: anna(), Name: annaName,
			Text: "Кто делал шкафы в Бердске? Посоветуйте", Meta: with("forwarded_from", "ЖК Северный — чат соседей, Админ", "forwarded_at", "2024-11-23T08:53:20Z")}},
		{file: "forward_channel.json", want: channels.Inbound{ExternalID: annaID + ":233", At: at(1732433180), From: anna(), Name: annaName,
			Text:        "Скидка 20% на шкафы-купе до конца месяца",
			Meta:        with("forwarded_from", "Мебель Сибири (@mebel_sibiri)", "forwarded_at", "2024-11-23T09:10:00Z", "forwarded_link", "https://t.me/mebel_sibiri/4411"),
			Attachments: []channels.Attachment{{Name: "photo_AQADq9wxG_small.jpg", ContentType: "image/jpeg", Data: sampleFiles["AgACAgIAAxkBAAPUZ0MSmall"].data}}}},
		{file: "private_no_type.json", want: channels.Inbound{ExternalID: "1111111:1365", At: at(1441645532), Name: "Test Test Lastname",
			From: []channels.Handle{{Kind: "telegram", Value: "1111111"}}, Text: "/start", Meta: map[string]string{"username": "Test"}}},
		{file: "group_no_type.json", ignored: true},
		{file: "group.json", ignored: true},
		{file: "channel_post.json", ignored: true},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			var u models.Update
			if err := json.Unmarshal(sample(t, tt.file), &u); err != nil {
				t.Fatal(err)
			}
			got, ok, err := a.Inbound(context.Background(), u)
			if err != nil {
				t.Fatalf("Inbound: %v", err)
			}
			if ok == tt.ignored {
				t.Fatalf("ok = %v, want %v (%+v)", ok, !tt.ignored, got)
			}
			if tt.ignored {
				return
			}
			want := tt.want
			want.AccountID, want.Kind = 7, channels.Message
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Inbound =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestInboundUndecodable: a private message the library's models cannot
// decode is still recorded, with the raw update attached.
func TestInboundUndecodable(t *testing.T) {
	fake := fakeWithFiles(t)
	a := newAdapter(t, fake, "", "")
	raw := sample(t, "undecodable.json")
	in, ok, err := a.decode(context.Background(), raw, a.log)
	if err != nil || !ok {
		t.Fatalf("decode: ok=%v err=%v", ok, err)
	}
	if in.ExternalID != annaID+":221" || !reflect.DeepEqual(in.From, anna()) || in.Name != annaName || in.ParseError == "" {
		t.Errorf("Inbound = %+v", in)
	}
	if len(in.Attachments) != 1 || string(in.Attachments[0].Data) != string(raw) || in.Attachments[0].ContentType != "application/json" {
		t.Errorf("attachments = %+v", in.Attachments)
	}
	// An older client's private chat without a type is still private.
	noType := strings.Replace(string(raw), `,"type":"private"`, "", 1)
	if in, ok, _ := a.decode(context.Background(), []byte(noType), a.log); !ok || in.ExternalID != annaID+":221" {
		t.Errorf("undecodable private message without a chat type: ok=%v %+v", ok, in)
	}
	if _, ok, _ := a.decode(context.Background(), []byte(`{"update_id":5,"message":"garbage"}`), a.log); ok {
		t.Error("an update that names no sender must be skipped")
	}
}

// TestInboundDownloadLimit: files over download_limit are recorded by name
// only, whether the message declares the size or only getFile does.
func TestInboundDownloadLimit(t *testing.T) {
	fake := fakeWithFiles(t)
	a := newAdapter(t, fake, `{"download_limit": 100}`, "")
	for _, tc := range []struct {
		file, name string
		strip      bool // drop file_size from the message: only getFile tells it
	}{
		{"document.json", "Размеры_прихожей.pdf", false},
		{"voice.json", "voice_AgADVoice.ogg", true},
	} {
		raw := string(sample(t, tc.file))
		if tc.strip {
			raw = strings.Replace(raw, `,"file_size":12877`, "", 1)
		}
		var u models.Update
		if err := json.Unmarshal([]byte(raw), &u); err != nil {
			t.Fatal(err)
		}
		// The voice sample's bytes are small: make its file big.
		fake.AddFile("AwACAgIAAxkBAAPWZ0MVoice", "voice/file_14.oga", make([]byte, 500))
		in, ok, err := a.Inbound(context.Background(), u)
		if err != nil || !ok {
			t.Fatalf("%s: ok=%v err=%v", tc.file, ok, err)
		}
		if len(in.Attachments) != 1 || in.Attachments[0].Name != tc.name || in.Attachments[0].Data != nil {
			t.Errorf("%s: attachments = %+v", tc.file, in.Attachments)
		}
		if note := in.Meta[MetaAttachmentsSkipped]; !strings.Contains(note, tc.name) || !strings.Contains(note, "over the download limit of 100") {
			t.Errorf("%s: note = %q", tc.file, note)
		}
	}
}

// TestInboundDownloadFailureIsRetried: a file server error is an error (the
// update is read again later), an unknown file id a note.
func TestInboundDownloadFailureIsRetried(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken) // knows no files
	a := newAdapter(t, fake, "", "")
	var u models.Update
	json.Unmarshal(sample(t, "voice.json"), &u)
	in, ok, err := a.Inbound(context.Background(), u)
	if err != nil || !ok || in.Attachments[0].Data != nil || !strings.Contains(in.Meta[MetaAttachmentsSkipped], "not downloadable") {
		t.Errorf("unknown file: ok=%v err=%v in=%+v", ok, err, in)
	}
	fake.Fail("getFile", 502, "Bad Gateway", 0)
	if _, _, err := a.Inbound(context.Background(), u); err == nil || !strings.Contains(err.Error(), "update 815400104") {
		t.Errorf("502 from getFile: err = %v, want an error naming the update", err)
	}
}

func TestStartCode(t *testing.T) {
	for _, tc := range []struct {
		text, code string
		start      bool
	}{
		{"/start yandex", "yandex", true},
		{"/start avito_2024-11", "avito_2024-11", true},
		{"/start@switchboard_test_bot vk", "vk", true},
		{"/start", "", true},
		{"/start привет всем", "", true},
		{"/start " + strings.Repeat("a", 65), "", true},
		{"/startx yandex", "", false},
		{"hello /start yandex", "", false},
	} {
		code, start := startCode(tc.text)
		if code != tc.code || start != tc.start {
			t.Errorf("startCode(%q) = %q, %v; want %q, %v", tc.text, code, start, tc.code, tc.start)
		}
	}
}

// FuzzDecode: no update crashes the mapping, and whatever is recorded is
// attributable.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"text.json", "start_yandex.json", "contact.json", "edited.json", "group.json", "undecodable.json", "photo_caption.json", "forward_channel.json", "forward_hidden.json"} {
		f.Add(sample(f, name))
	}
	fake := fakeWithFiles(f)
	a := newAdapter(f, fake, "", "")
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, ok, err := a.decode(context.Background(), raw, a.log)
		if err != nil || !ok {
			return
		}
		if in.ExternalID == "" || len(in.From) == 0 || in.From[0].Kind != "telegram" || in.AccountID != 7 {
			t.Errorf("unattributable Inbound %+v from %q", in, raw)
		}
	})
}
