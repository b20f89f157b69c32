package email

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/channels"
)

// own is the test mailbox: its address and an alias.
var testOwn = []string{"sales@company.ru", "info@company.ru"}

type wantAtt struct{ name, ctype, cid string }

func TestParseSamples(t *testing.T) {
	tests := []struct {
		file       string
		from, name string
		subject    string
		text       []string // substrings of Text
		html       bool     // has HTML
		at         string   // RFC 3339, "" for zero
		externalID string
		thread     string
		entry      string
		automated  bool
		atts       []wantAtt
		parseError string // substring of ParseError, "" for none
	}{
		{
			file: "cp1251.eml", from: "ivan.petrov@vector-nsk.ru", name: "Иван Петров",
			subject: "Запрос цены на кондиционеры",
			text:    []string{"Интересует поставка 20 кондиционеров в Новосибирск.", "ООО «Вектор»"},
			at:      "2024-03-12T10:14:55+07:00", externalID: "000001da7434$5c2e1b20$148a5160$@vector-nsk.ru",
			thread: "000001da7434$5c2e1b20$148a5160$@vector-nsk.ru", entry: "sales@company.ru",
		},
		{
			file: "koi8r.eml", from: "sergey@tomsk.ru", name: "Сергей Смирнов", subject: "Вопрос по доставке",
			text: []string{"Сколько стоит доставка в Томск?"}, at: "2024-03-04T18:02:11+07:00",
			externalID: "1829374652.20240304180211@tomsk.ru", thread: "1829374652.20240304180211@tomsk.ru", entry: "sales@company.ru",
		},
		{
			file: "encoded-subject.eml", from: "olga.k@mail.ru", name: "Ольга Кузнецова",
			subject: "Заказ №4521: счёт и договор поставки оборудования",
			text:    []string{"Пришлите счёт на оплату."}, at: "2024-03-13T09:00:00+03:00",
			externalID: "CAF8x1Q2m=abc@mail.gmail.com", thread: "CAF8x1Q2m=abc@mail.gmail.com", entry: "info@company.ru",
		},
		{
			file: "html-only.eml", from: "anna@example.org", name: "Anna", subject: "Заявка",
			text: []string{"Здравствуйте!", "Хочу заказать «Премиум» тариф на год.", "+7 913 123-45-67"}, html: true,
			at: "2024-03-14T12:00:00Z", externalID: "html-only-1@example.org", thread: "html-only-1@example.org", entry: "sales@company.ru",
		},
		{
			file: "alternative.eml", from: "dmitry.orlov@gmail.com", name: "Dmitry Orlov", subject: "Цена",
			text: []string{"Привет! Да, цена подходит.\nЖду договор."}, html: true, at: "2024-03-15T11:22:33+05:00",
			externalID: "CAJx7zK+alt=2Q@mail.gmail.com", thread: "CAJx7zK+alt=2Q@mail.gmail.com", entry: "sales@company.ru",
		},
		{
			file: "attachment-only.eml", from: "buh@zavod.ru", subject: "Реквизиты", at: "2024-03-16T08:00:00+07:00",
			externalID: "att-only-77@zavod.ru", thread: "att-only-77@zavod.ru", entry: "sales@company.ru",
			atts: []wantAtt{{"Реквизиты.pdf", "application/pdf", ""}},
		},
		{
			file: "inline-image.eml", from: "marketing@partner.ru", name: "Marketing", subject: "Logo",
			text: []string{"Наш логотип:"}, html: true, at: "2024-03-17T10:00:00+03:00",
			externalID: "inline-img-1@partner.ru", thread: "inline-img-1@partner.ru", entry: "sales@company.ru",
			atts: []wantAtt{{"image001.png", "image/png", "image001.png@01DA7434.5C2E1B20"}},
		},
		{
			file: "autoreply.eml", from: "manager@client.ru", subject: "Автоответ: Коммерческое предложение",
			text: []string{"Я в отпуске до 25 марта."}, at: "2024-03-18T09:00:00+03:00",
			externalID: "autoreply-1@client.ru", thread: "offer-1@company.ru", entry: "sales@company.ru", automated: true,
		},
		{
			file: "bounce.eml", from: "mailer-daemon@yandex.ru", subject: "Недоставленное сообщение",
			text: []string{"Адрес nobody@nowhere.example не существует."}, at: "2024-03-19T10:00:01+03:00",
			externalID: "dsn-20240319100001@mxback.yandex.net", thread: "dsn-20240319100001@mxback.yandex.net",
			entry: "sales@company.ru", automated: true,
			atts: []wantAtt{{"delivery-status.txt", "message/delivery-status", ""}, {"message-2.eml", "message/rfc822", ""}},
		},
		{
			file: "mailing-list.eml", from: "digest@habr.com", name: "Habr Digest", subject: "Дайджест недели",
			text: []string{"Top articles of the week."}, at: "2024-03-20T07:00:00Z",
			externalID: "digest-2024-12@habr.com", thread: "digest-2024-12@habr.com", entry: "info@company.ru", automated: true,
		},
		{
			file: "plus-alias.eml", from: "lead@yandex.ru", name: "Client From Ads", subject: "From the ad",
			text: []string{"please call me back"}, at: "2024-03-21T15:30:00+03:00",
			externalID: "plus-alias-1@yandex.ru", thread: "plus-alias-1@yandex.ru", entry: "sales+yandex@company.ru",
		},
		{
			file: "broken-mime.eml", from: "robot@broken.example", name: "Broken Mailer", subject: "Broken",
			text: []string{"Please see the price list"}, at: "2024-03-22T12:00:00Z",
			externalID: "broken-1@broken.example", thread: "broken-1@broken.example", entry: "sales@company.ru",
			atts: []wantAtt{{RawName, "message/rfc822", ""}}, parseError: "does not say where they begin",
		},
		{
			file: "broken-header.eml", from: "petr@example.net", name: "Petr", subject: "Header garbage",
			text:       []string{"Body after a broken header."},
			externalID: "broken-header-1@example.net", thread: "broken-header-1@example.net", entry: "sales@company.ru",
			atts: []wantAtt{{RawName, "message/rfc822", ""}}, parseError: "header is damaged",
		},
		{
			file: "reply.eml", from: "ivan.petrov@vector-nsk.ru", name: "Иван Петров",
			subject: "Re: Запрос цены на кондиционеры", text: []string{"Спасибо, цена устраивает."},
			at: "2024-03-23T10:00:00+07:00", externalID: "reply-2@vector-nsk.ru",
			// The thread root is the first References entry: the inbound of cp1251.eml.
			thread: "000001da7434$5c2e1b20$148a5160$@vector-nsk.ru", entry: "sales@company.ru",
		},
		{
			file: "raw-8bit-headers.eml", from: "maria@old-mailer.ru", name: "Мария Сидорова", subject: "Прайс-лист",
			text: []string{"Пришлите прайс-лист."}, at: "2024-03-24T10:00:00+03:00",
			externalID: "raw8bit-1@old-mailer.ru", thread: "raw8bit-1@old-mailer.ru", entry: "sales@company.ru",
		},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			in, perr := Parse(raw, testOwn)
			if (perr != nil) != (tc.parseError != "") || !strings.Contains(in.ParseError, tc.parseError) {
				t.Fatalf("parse error %v, ParseError %q; want %q", perr, in.ParseError, tc.parseError)
			}
			if len(in.From) != 1 || in.From[0] != (channels.Handle{Kind: "email", Value: tc.from}) {
				t.Errorf("From = %v, want %s", in.From, tc.from)
			}
			check := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			check("Name", in.Name, tc.name)
			check("Subject", in.Subject, tc.subject)
			check("ExternalID", in.ExternalID, tc.externalID)
			check("ThreadKey", in.ThreadKey, tc.thread)
			check("EntryPoint", in.EntryPoint, tc.entry)
			for _, s := range tc.text {
				if !strings.Contains(in.Text, s) {
					t.Errorf("Text %q does not contain %q", in.Text, s)
				}
			}
			if (in.HTML != "") != tc.html {
				t.Errorf("HTML = %q, want present %v", in.HTML, tc.html)
			}
			at := ""
			if !in.At.IsZero() {
				at = in.At.Format(time.RFC3339)
			}
			check("At", at, tc.at)
			if in.Automated != tc.automated {
				t.Errorf("Automated = %v, want %v", in.Automated, tc.automated)
			}
			if in.Kind != channels.Mail {
				t.Errorf("Kind = %q", in.Kind)
			}
			var atts []wantAtt
			for _, a := range in.Attachments {
				atts = append(atts, wantAtt{a.Name, a.ContentType, a.ContentID})
				if len(a.Data) == 0 {
					t.Errorf("attachment %s has no data", a.Name)
				}
				if a.ContentID != "" && !a.Inline {
					t.Errorf("attachment %s with a Content-ID is not inline", a.Name)
				}
			}
			if len(atts) != len(tc.atts) {
				t.Fatalf("attachments %v, want %v", atts, tc.atts)
			}
			for i := range atts {
				if atts[i] != tc.atts[i] {
					t.Errorf("attachment %d = %v, want %v", i, atts[i], tc.atts[i])
				}
			}
			for _, s := range []string{in.Text, in.HTML, in.Subject, in.Name} {
				if !utf8.ValidString(s) {
					t.Errorf("not UTF-8: %q", s)
				}
			}
		})
	}
	files, _ := filepath.Glob("testdata/*.eml")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no table row", f)
		}
	}
}

func TestParseMeta(t *testing.T) {
	raw, _ := os.ReadFile("testdata/reply.eml")
	in, err := Parse(raw, testOwn)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"message_id":  "reply-2@vector-nsk.ru",
		"in_reply_to": "lq8z3k.5f1e@company.ru",
		"references":  "000001da7434$5c2e1b20$148a5160$@vector-nsk.ru lq8z3k.5f1e@company.ru",
		"to":          "Company Sales <sales@company.ru>",
		"cc":          "boss@vector-nsk.ru",
	}
	for k, v := range want {
		if in.Meta[k] != v {
			t.Errorf("Meta[%s] = %q, want %q", k, in.Meta[k], v)
		}
	}
	// The parents, nearest first: In-Reply-To, then References from the last, once each.
	if got := strings.Join(in.Parents, " "); got != "lq8z3k.5f1e@company.ru 000001da7434$5c2e1b20$148a5160$@vector-nsk.ru" {
		t.Errorf("Parents = %q", got)
	}
}

func TestParseEdgeCases(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		check func(t *testing.T, in channels.Inbound, err error)
	}{
		{"no sender at all is a parse error with no sender: unreadable mail, nobody's",
			"Subject: hi\r\nMessage-ID: <x@y>\r\n\r\nhello\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if err == nil || in.ParseError == "" || len(in.From) != 0 || in.Meta[MetaParseProblem] != ProblemNoSender {
					t.Errorf("err %v, ParseError %q, From %v, problem %q", err, in.ParseError, in.From, in.Meta[MetaParseProblem])
				}
			}},
		{"a sender written without brackets, or with one missing, is read as mail programs read it",
			"From: Ivan Ivanov ivan@vector-nsk.ru\r\nSender: \"Petr\" petr@vector-nsk.ru\r\nReply-To: Ivan Ivanov <ivan.i@vector-nsk.ru\r\nTo: sales@company.ru\r\nMessage-ID: <nb@b.ru>\r\n\r\nhello\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if err != nil || len(in.From) == 0 || in.From[0].Value != "ivan@vector-nsk.ru" || in.Name != "Ivan Ivanov" {
					t.Errorf("err %v, From %v, Name %q", err, in.From, in.Name)
				}
				for _, v := range []string{"\"Petr\" petr@vector-nsk.ru", "Ivan Ivanov <ivan.i@vector-nsk.ru", "ivan at vector-nsk.ru"} {
					a := looseAddress(v)
					if v == "ivan at vector-nsk.ru" {
						if a != nil {
							t.Errorf("%q read as %v: not an address", v, a)
						}
						continue
					}
					if a == nil || !strings.HasSuffix(a.Address, "@vector-nsk.ru") || strings.ContainsAny(a.Name, "<>") {
						t.Errorf("%q read as %v", v, a)
					}
				}
			}},
		{"mail the mailbox sent (a reply from a mail program) is outgoing, to its first outside recipient",
			"From: Sales <sales@company.ru>\r\nTo: sales+copy@company.ru, \"Ivan Petrov\" <Ivan.Petrov@Vector-NSK.ru>\r\nCc: boss@vector-nsk.ru\r\n" +
				"Message-ID: <out-1@company.ru>\r\nIn-Reply-To: <q-1@vector-nsk.ru>\r\nAuto-Submitted: auto-replied\r\nSubject: Re: price\r\n\r\nOur offer is attached.\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if err != nil || !in.Outgoing || in.From[0].Value != "Ivan.Petrov@Vector-NSK.ru" || in.Name != "Ivan Petrov" || in.EntryPoint != "" || !in.Automated {
					t.Errorf("err %v, Outgoing %v, From %v, Name %q, EntryPoint %q, Automated %v", err, in.Outgoing, in.From, in.Name, in.EntryPoint, in.Automated)
				}
				if in.ThreadKey != "q-1@vector-nsk.ru" || in.Meta["to"] == "" {
					t.Errorf("ThreadKey %q, meta %v", in.ThreadKey, in.Meta)
				}
			}},
		{"mail the mailbox sent only to itself stays from the mailbox (the adapter skips it)",
			"From: sales@company.ru\r\nTo: info@company.ru\r\nMessage-ID: <note@company.ru>\r\n\r\nnote\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if err != nil || in.Outgoing || in.From[0].Value != "sales@company.ru" {
					t.Errorf("err %v, Outgoing %v, From %v", err, in.Outgoing, in.From)
				}
			}},
		{"a client's mail is not outgoing",
			"From: a@b.ru\r\nTo: sales@company.ru\r\nMessage-ID: <in@b.ru>\r\n\r\nhello\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if err != nil || in.Outgoing || in.From[0].Value != "a@b.ru" || in.EntryPoint != "sales@company.ru" {
					t.Errorf("err %v, Outgoing %v, From %v, EntryPoint %q", err, in.Outgoing, in.From, in.EntryPoint)
				}
			}},
		{"empty input",
			"",
			func(t *testing.T, in channels.Inbound, err error) {
				if len(in.From) != 0 || in.ParseError == "" {
					t.Errorf("From %v, ParseError %q", in.From, in.ParseError)
				}
			}},
		{"no Message-ID leaves ExternalID to the caller and no thread",
			"From: a@b.ru\r\nTo: sales@company.ru\r\n\r\nhello\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if err != nil || in.ExternalID != "" || in.ThreadKey != "" || in.Text != "hello" {
					t.Errorf("err %v, ExternalID %q, ThreadKey %q, Text %q", err, in.ExternalID, in.ThreadKey, in.Text)
				}
			}},
		{"In-Reply-To threads when there are no References",
			"From: a@b.ru\r\nMessage-ID: <2@b.ru>\r\nIn-Reply-To: <1@company.ru>\r\n\r\nok\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if in.ThreadKey != "1@company.ru" {
					t.Errorf("ThreadKey %q", in.ThreadKey)
				}
			}},
		{"Auto-Submitted: no is a person",
			"From: a@b.ru\r\nAuto-Submitted: no\r\n\r\nok\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if in.Automated {
					t.Error("automated")
				}
			}},
		{"a null Return-Path is a bounce",
			"Return-Path: <>\r\nFrom: a@b.ru\r\n\r\nok\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if !in.Automated {
					t.Error("not automated")
				}
			}},
		{"Cc to an alias is the entry point; unknown recipients fall back to the mailbox",
			"From: a@b.ru\r\nTo: other@b.ru\r\nCc: INFO@company.ru\r\n\r\nok\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if in.EntryPoint != "info@company.ru" {
					t.Errorf("EntryPoint %q", in.EntryPoint)
				}
			}},
		{"a plus-alias of another domain is not ours",
			"From: a@b.ru\r\nTo: sales+x@other.ru\r\n\r\nok\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if in.EntryPoint != "sales@company.ru" {
					t.Errorf("EntryPoint %q", in.EntryPoint)
				}
			}},
		{"an unparseable From falls back to a lenient reading",
			"From: Ivan Ivanov ivan@b.ru\r\nTo: sales@company.ru\r\n\r\nok\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if (len(in.From) != 1 || in.From[0].Value != "ivan@b.ru") && (len(in.From) != 0 || in.ParseError == "") {
					t.Errorf("From %v", in.From)
				}
			}},
		{"an unknown charset still gives valid UTF-8",
			"From: a@b.ru\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n\xcf\xf0\xe8\xe2\xe5\xf2\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if in.Text != "Привет" {
					t.Errorf("Text %q", in.Text)
				}
			}},
		{"an over-long Message-ID becomes a digest",
			"From: a@b.ru\r\nMessage-ID: <" + strings.Repeat("x", 600) + "@b.ru>\r\n\r\nok\r\n",
			func(t *testing.T, in channels.Inbound, err error) {
				if !strings.HasPrefix(in.ExternalID, "sha256:") || len(in.ExternalID) > 100 {
					t.Errorf("ExternalID %q", in.ExternalID)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := Parse([]byte(tc.raw), testOwn)
			tc.check(t, in, err)
		})
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, dir := range []string{"lead", "outlook", "robots", "broken", "nosender"} {
		more, _ := filepath.Glob(filepath.Join("testdata", dir, "*.eml"))
		files = append(files, more...)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := Parse(raw, testOwn)
		if (err != nil) != (in.ParseError != "") {
			t.Fatalf("err %v but ParseError %q", err, in.ParseError)
		}
		if len(in.From) == 0 {
			// Unreadable mail: a parse problem, and the original kept whole.
			if in.ParseError == "" || len(in.Attachments) == 0 || !bytes.Equal(in.Attachments[len(in.Attachments)-1].Data, raw) {
				t.Fatalf("no sender, yet ParseError %q and %d attachments", in.ParseError, len(in.Attachments))
			}
			in.From = []channels.Handle{{Kind: "email", Value: "checked@above.ru"}}
		}
		strs := []string{in.Text, in.HTML, in.Subject, in.Name, in.ExternalID, in.ThreadKey, in.EntryPoint, in.From[0].Value}
		for _, v := range in.Meta {
			strs = append(strs, v)
		}
		for _, a := range in.Attachments {
			strs = append(strs, a.Name, a.ContentType, a.ContentID)
		}
		for _, s := range strs {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
		}
		if !validAddress(in.From[0].Value) {
			t.Fatalf("sender %q would be refused by ingest", in.From[0].Value)
		}
		if len(in.ExternalID) > maxExternalID+10 {
			t.Fatalf("ExternalID too long: %d", len(in.ExternalID))
		}
	})
}
