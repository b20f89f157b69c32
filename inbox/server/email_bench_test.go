package server

// Email import benchmark (docs/BENCHMARKS.md):
//
//	go test ./inbox/ -run '^$' -bench 'Email' -benchtime 1x -timeout 30m
//
// BenchmarkEmailImport puts SWITCHBOARD_BENCH_EMAILS (default 10 000)
// generated messages into go-imap's in-memory server and measures the
// first import through the email adapter into the real app (a fresh
// SQLite database, or PostgreSQL when SWITCHBOARD_TEST_DATABASE_URL is
// set): from Run's start until it reports Live with every touch stored.
// BenchmarkEmailFetchFloor fetches the same mailbox with a bare imapclient
// (UID FETCH ENVELOPE BODY.PEEK[] in the adapter's batches, nothing parsed or
// stored): the most the adapter could do over this connection.
// BenchmarkEmailAdapterOnly runs the adapter into a sink that only counts,
// to separate the adapter's cost (fetch, parse) from the app's ingest, and
// BenchmarkEmailStoreFloor writes just the rows the import ends with.

import (
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/text/encoding/charmap"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/crm"
)

var (
	mailBenchOnce sync.Once
	mailBenchMsgs [][]byte
)

// mailBenchMailbox generates realistic small messages: a quarter each of
// UTF-8 Cyrillic (quoted-printable), windows-1251 (8bit, encoded-word
// subject), multipart/alternative, and replies threaded under an earlier
// message of the same sender; 2 000 senders.
func mailBenchMailbox() [][]byte {
	mailBenchOnce.Do(func() {
		n := benchEnvInt("SWITCHBOARD_BENCH_EMAILS", 10000)
		names := []string{"Иван Петров", "Ольга Кузнецова", "Sergey Smirnov", "Anna Volkova", "Дмитрий Орлов", "Mark Twain"}
		base := time.Now().Add(-48 * time.Hour)
		for i := range n {
			sender := i % 2000
			from := fmt.Sprintf("client%04d@example%d.ru", sender, sender%37)
			name := names[sender%len(names)]
			id := fmt.Sprintf("bench-%06d.%d@example%d.ru", i, sender, sender%37)
			date := base.Add(time.Duration(i) * time.Second).Format(time.RFC1123Z)
			head := "Return-Path: <" + from + ">\r\nDelivered-To: sales@company.ru\r\n" +
				"Received: from mx" + fmt.Sprint(sender%7) + ".example.ru (mx.example.ru [91.200.10.11])\r\n\tby mx.yandex.ru with ESMTPS id " + fmt.Sprint(1000000+i) + "\r\n\tfor <sales@company.ru>; " + date + "\r\n" +
				"Date: " + date + "\r\nMessage-ID: <" + id + ">\r\nTo: sales@company.ru\r\nMIME-Version: 1.0\r\n"
			var msg string
			switch i % 4 {
			case 0:
				msg = head + "From: " + mime.BEncoding.Encode("utf-8", name) + " <" + from + ">\r\n" +
					"Subject: " + mime.BEncoding.Encode("utf-8", fmt.Sprintf("Запрос цены №%d", i)) + "\r\n" +
					"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
					base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("Добрый день!\nИнтересует поставка %d единиц оборудования в Новосибирск.\nПришлите коммерческое предложение.\n\nС уважением,\n%s\n", i%90+10, name))) + "\r\n"
			case 1:
				subj, _ := charmap.Windows1251.NewEncoder().String(fmt.Sprintf("Счёт на оплату %d", i))
				body, _ := charmap.Windows1251.NewEncoder().String(fmt.Sprintf("Здравствуйте.\r\nПрошу выставить счёт на %d шт.\r\nСпасибо.\r\n", i%50+1))
				msg = head + "From: " + from + "\r\nSubject: " + mime.BEncoding.Encode("windows-1251", subj) + "\r\n" +
					"Content-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\nX-Mailer: Microsoft Outlook 16.0\r\n\r\n" + body
			case 2:
				msg = head + "From: \"" + name + "\" <" + from + ">\r\nSubject: Delivery question " + fmt.Sprint(i) + "\r\n" +
					"Content-Type: multipart/alternative; boundary=\"b" + fmt.Sprint(i) + "\"\r\n\r\n" +
					"--b" + fmt.Sprint(i) + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, how long does delivery to Tomsk take?\r\nThanks\r\n" +
					"--b" + fmt.Sprint(i) + "\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div dir=\"ltr\">api.Hello, how long does delivery to Tomsk take?<div>Thanks</div></div>\r\n" +
					"--b" + fmt.Sprint(i) + "--\r\n"
			default:
				parent := fmt.Sprintf("bench-%06d.%d@example%d.ru", max(i-2000, 0), sender, sender%37)
				msg = head + "From: " + from + "\r\nSubject: Re: " + mime.BEncoding.Encode("utf-8", "Коммерческое предложение") + "\r\n" +
					"In-Reply-To: <" + parent + ">\r\nReferences: <" + parent + ">\r\n" +
					"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nСпасибо, цена устраивает.\r\n\r\n> Добрый день! Цена 45 000 руб.\r\n"
			}
			mailBenchMsgs = append(mailBenchMsgs, []byte(msg))
		}
	})
	return mailBenchMsgs
}

func newBenchMailServer(b *testing.B) *emailtest.IMAPServer {
	srv := emailtest.NewIMAPServer(b)
	at := time.Now().Add(-time.Hour)
	for _, m := range mailBenchMailbox() {
		srv.Append("INBOX", m, at)
	}
	return srv
}

// timedSink measures the wall time the app spends in Ingest.
type timedSink struct {
	sink  channels.Sink
	spent time.Duration
}

func (t *timedSink) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	start := time.Now()
	defer func() { t.spent += time.Since(start) }()
	return t.sink.Ingest(ctx, batch)
}

func BenchmarkEmailImport(b *testing.B) {
	msgs := mailBenchMailbox()
	var total, ingest time.Duration
	for range b.N {
		b.StopTimer()
		srv := newBenchMailServer(b)
		ta := newTestApp(b)
		acc := ta.mailAccount("bench", srv)
		stored, _ := crm.GetAccount(ta.db, acc.ID)
		ad, err := email.New(channels.Account{ID: acc.ID, Channel: channels.Email, Settings: stored.Settings, Secret: emailtest.Password}, testLogger(b))
		if err != nil {
			b.Fatal(err)
		}
		sink := &timedSink{sink: ta.s.Sink}
		took := runUntilLive(b, ad, sink)
		total += took
		ingest += sink.spent
		if n := ta.count("touches", "account_id = ?", acc.ID); n != int64(len(msgs)) {
			b.Fatalf("%d touches, want %d", n, len(msgs))
		}
		b.Logf("%d messages, %d contacts, %d conversations in %s, of which %s in Ingest", len(msgs), ta.count("contacts", ""), ta.count("conversations", ""), took.Round(time.Millisecond), sink.spent.Round(time.Millisecond))
	}
	b.ReportMetric(float64(len(msgs)*b.N)/total.Seconds(), "msgs/s")
	b.ReportMetric(100*ingest.Seconds()/total.Seconds(), "%ingest")
}

// runUntilLive times ad's first import into sink: from Run's start until it
// reports Live (the clock runs only then); then it stops the adapter.
func runUntilLive(b *testing.B, ad channels.Adapter, sink channels.Sink) time.Duration {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	b.StartTimer()
	started := time.Now()
	go func() {
		done <- ad.Run(ctx, sink, func(s channels.State) {
			if s.Phase == channels.Live {
				once.Do(func() { close(live) })
			}
		})
	}()
	select {
	case <-live:
	case err := <-done:
		b.Fatalf("Run = %v", err)
	}
	took := time.Since(started)
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return took
}

// countSink accepts everything and stores nothing.
type countSink struct{ n int }

func (c *countSink) Ingest(_ context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	c.n += len(batch)
	return make([]channels.Result, len(batch)), nil
}

func BenchmarkEmailAdapterOnly(b *testing.B) {
	msgs := mailBenchMailbox()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		srv := newBenchMailServer(b)
		host, port, _ := strings.Cut(srv.Addr, ":")
		settings := fmt.Sprintf(`{"address":%q,"imap_host":%q,"imap_port":%s,"imap_security":"plain","allow_plain":true,"smtp_host":%q,"smtp_security":"plain"}`, emailtest.User, host, port, host)
		ad, err := email.New(channels.Account{ID: 1, Channel: channels.Email, Settings: []byte(settings), Secret: emailtest.Password}, testLogger(b))
		if err != nil {
			b.Fatal(err)
		}
		sink := &countSink{}
		total += runUntilLive(b, ad, sink)
		if sink.n != len(msgs) {
			b.Fatalf("%d delivered, want %d", sink.n, len(msgs))
		}
	}
	b.ReportMetric(float64(len(msgs)*b.N)/total.Seconds(), "msgs/s")
}

func BenchmarkEmailFetchFloor(b *testing.B) {
	msgs := mailBenchMailbox()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		srv := newBenchMailServer(b)
		b.StartTimer()
		started := time.Now()
		c, err := imapclient.DialInsecure(srv.Addr, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Login(emailtest.User, emailtest.Password).Wait(); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			b.Fatal(err)
		}
		got, bytes := 0, 0
		for start := 1; start <= len(msgs); start += email.BatchSize { // the adapter's batches
			var set imap.UIDSet
			set.AddRange(imap.UID(start), imap.UID(min(start+email.BatchSize-1, len(msgs))))
			bufs, err := c.Fetch(set, &imap.FetchOptions{UID: true, Envelope: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
			if err != nil {
				b.Fatal(err)
			}
			for _, m := range bufs {
				got++
				bytes += len(m.BodySection[0].Bytes)
			}
		}
		total += time.Since(started)
		b.StopTimer()
		c.Close()
		if got != len(msgs) {
			b.Fatalf("fetched %d of %d", got, len(msgs))
		}
		b.Logf("%d messages, %d bytes", got, bytes)
	}
	b.ReportMetric(float64(len(msgs)*b.N)/total.Seconds(), "msgs/s")
}

// BenchmarkEmailStoreFloor stores the rows a first import of the same
// mailbox ends with — a touch and an event per message, a conversation per
// thread (threaded beforehand as the import does), for the 2 000 senders'
// contacts made beforehand — with nothing else:
// no lookups, no decisions, no contacts, deals or audit, the messages
// parsed before the clock starts; one transaction per fetch batch, the
// same multi-row statements as ingest (crm.Bulk). It is the floor of what
// storing them costs on this database, to read the import against.
func BenchmarkEmailStoreFloor(b *testing.B) {
	raw := mailBenchMailbox()
	ins := make([]channels.Inbound, len(raw))
	for i, m := range raw {
		in, err := email.Parse(m, []string{emailtest.User})
		if err != nil {
			b.Fatal(err)
		}
		ins[i] = in
	}
	// The conversation each message ends in, as the import threads them
	// (thread key, else the nearest parent of the same sender): own[i] is
	// the message that opened message i's conversation.
	own := make([]int, len(ins))
	byKey, byID := map[string]int{}, map[string]int{}
	for i, in := range ins {
		from := in.From[0].Value
		own[i] = i
		if j, ok := byKey[from+" "+in.ThreadKey]; ok {
			own[i] = own[j]
		} else {
			for _, par := range in.Parents {
				if j, ok := byID[par]; ok && ins[j].From[0].Value == from {
					own[i] = own[j]
					break
				}
			}
		}
		byKey[from+" "+in.ThreadKey] = i
		byID[in.ExternalID] = i
	}
	var total time.Duration
	for range b.N {
		b.StopTimer()
		ta := newTestApp(b)
		acc := ta.account("email", "bench")
		contact := map[string]int64{}
		for _, in := range ins {
			from := in.From[0].Value
			if contact[from] == 0 {
				c := crm.Contact{Name: in.Name}
				if err := ta.db.Create(&c).Error; err != nil {
					b.Fatal(err)
				}
				contact[from] = c.ID
			}
		}
		convOf := map[int]int64{}
		b.StartTimer()
		started := time.Now()
		for start := 0; start < len(ins); start += email.BatchSize {
			batch := ins[start:min(len(ins), start+email.BatchSize)]
			err := ta.db.Transaction(func(tx *gorm.DB) error {
				now := time.Now().UTC()
				var opened []*crm.Conversation
				var opens []int
				for j, in := range batch {
					if own[start+j] == start+j {
						opens = append(opens, start+j)
						at := in.At
						opened = append(opened, &crm.Conversation{ContactID: contact[in.From[0].Value], AccountID: acc.ID, Channel: "email", ThreadKey: in.ThreadKey,
							WaitingSince: &at, Subject: in.Subject, LastText: crm.Clip(crm.FirstNonEmpty(in.Text, in.Subject), crm.PreviewLen), LastTouchAt: in.At, CreatedAt: now, UpdatedAt: now})
					}
				}
				if err := crm.InsertConversations(tx, opened); err != nil {
					return err
				}
				for k, i := range opens {
					convOf[i] = opened[k].ID
				}
				convs := make([]int64, len(batch))
				rows := make([]*crm.Touch, len(batch))
				for j, in := range batch {
					convs[j] = convOf[own[start+j]]
					ext := in.ExternalID
					rows[j] = &crm.Touch{AccountID: acc.ID, Channel: "email", Kind: "email", Direction: crm.Inbound, ExternalID: &ext, ContactID: contact[in.From[0].Value],
						ConversationID: convs[j], Subject: in.Subject, Body: in.Text, HTML: in.HTML, Meta: []byte("{}"), Automated: in.Automated, OccurredAt: in.At, CreatedAt: now}
				}
				if err := crm.InsertTouches(tx, rows); err != nil {
					return err
				}
				touches := make([]int64, len(rows))
				for j, r := range rows {
					touches[j] = r.ID
				}
				evs := make([]crm.Event, len(batch))
				for j := range batch {
					evs[j] = crm.Event{At: now, Type: crm.EventTouchAdded, ConversationID: &convs[j], TouchID: &touches[j], Data: []byte(`{"unlinked":true}`)}
				}
				return crm.InsertEvents(tx, evs)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(started)
		b.StopTimer()
		if n := ta.count("touches", ""); n != int64(len(ins)) {
			b.Fatalf("%d touches, want %d", n, len(ins))
		}
	}
	b.ReportMetric(float64(len(ins)*b.N)/total.Seconds(), "msgs/s")
}

// BenchmarkEmailIngestOnly is the import without IMAP: the same messages,
// parsed before the clock starts, into App.Ingest in the adapter's batches
// — the import's ingest side alone, on a core of its own.
func BenchmarkEmailIngestOnly(b *testing.B) {
	raw := mailBenchMailbox()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		ta := newTestApp(b)
		acc := ta.account("email", "bench")
		ins := make([]channels.Inbound, len(raw))
		for i, m := range raw {
			in, err := email.Parse(m, []string{emailtest.User})
			if err != nil {
				b.Fatal(err)
			}
			in.AccountID = acc.ID
			ins[i] = in
		}
		b.StartTimer()
		started := time.Now()
		for start := 0; start < len(ins); start += email.BatchSize {
			if _, err := ta.Ingest(context.Background(), ins[start:min(len(ins), start+email.BatchSize)]); err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(started)
		b.StopTimer()
		if n := ta.count("touches", ""); n != int64(len(ins)) {
			b.Fatalf("%d touches, want %d", n, len(ins))
		}
	}
	b.ReportMetric(float64(len(raw)*b.N)/total.Seconds(), "msgs/s")
}
