package server

// Ingest benchmark (docs/BENCHMARKS.md):
//
//	go test ./inbox/ -run '^$' -bench 'Ingest' -benchtime 1x -count 3 -timeout 30m
//
// BenchmarkIngest feeds a deterministic workload through App.Ingest in
// batches of 100; BenchmarkIngestFloor does the same lookups and inserts
// by hand with prepared statements in the same transactions of 100, one
// statement per step, on the same data. Both run on a fresh database per
// iteration: a SQLite file (WAL), or a fresh PostgreSQL database when
// SWITCHBOARD_TEST_DATABASE_URL is set.
//
// SWITCHBOARD_BENCH_TOUCHES (default 100000) and SWITCHBOARD_BENCH_CONTACTS
// (default touches/5, so 20 000) shrink the run for a quick check.

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

const benchBatch = 100

// benchAccounts are the accounts of the workload, one per channel; an
// Inbound's AccountID in the generated workload is an index into it.
var benchAccounts = []struct {
	channel channels.Kind
	name    string
}{
	{channels.Phone, "pbx"},
	{channels.Email, "mail"},
	{channels.Telegram, "bot"},
	{channels.WhatsApp, "wa"},
	{channels.Web, "site"},
}

// benchWorkload is the generated stream of inbound events.
type benchWorkload struct {
	touches  int
	contacts int
	repeats  int // touches from a contact seen before
	batches  [][]channels.Inbound
}

func benchEnvInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			panic(fmt.Sprintf("%s=%q: want a positive integer", name, v))
		}
		return n
	}
	return def
}

var (
	benchOnce sync.Once
	benchWL   *benchWorkload
)

func benchWorkloadFromEnv() *benchWorkload {
	benchOnce.Do(func() {
		n := benchEnvInt("SWITCHBOARD_BENCH_TOUCHES", 100000)
		c := benchEnvInt("SWITCHBOARD_BENCH_CONTACTS", max(1, n/5))
		if c > n {
			c = n
		}
		benchWL = genWorkload(n, c, 1)
	})
	return benchWL
}

// benchContact is one simulated customer.
type benchContact struct {
	acc     int // index into benchAccounts
	from    []channels.Handle
	name    string
	thread  string
	repeats bool // comes back after the first touch
}

var (
	benchFirst = []string{"Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Анна", "Сергей", "Екатерина", "John", "Emma"}
	benchLast  = []string{"Петров", "Иванова", "Смирнов", "Кузнецова", "Попов", "Соколова", "Lee", "Brown"}
	benchTexts = []string{
		"Здравствуйте! Сколько стоит доставка в Новосибирск и когда сможете привезти?",
		"Добрый день, интересует ваш товар из объявления, он ещё в наличии? Можно ли оплатить картой при получении?",
		"Пришлите, пожалуйста, счёт на оплату для юрлица, реквизиты во вложении.",
		"Hello, do you ship to Kazakhstan? What are the lead times for an order of 40 units?",
		"Перезвоните мне после обеда, пожалуйста.",
		"Спасибо, получил. А есть ли скидка при заказе от 10 штук? И какая гарантия?",
	}
	benchTracking = []struct{ number, source string }{
		{"+73832000001", "Yandex Direct"}, {"+73832000002", "Avito"}, {"+73832000003", "2GIS"},
		{"+73832000004", "Google Ads"}, {"+73832000005", "Radio"},
	}
	benchMailboxes = []struct{ addr, source string }{
		{"sales@shop.example", "Site"}, {"opt@shop.example", "Wholesale list"},
	}
	benchUTM = []struct{ utm, source string }{
		{"yandex", "Yandex Direct"}, {"google", "Google Ads"}, {"vk", "VK Ads"},
	}
)

// genWorkload builds n touches over c contacts, deterministically from
// seed. Every contact makes one first touch; a third of the contacts are
// repeat customers, who send all other n−c touches (each after their own
// first touch, on the same account and thread), so those touches find the
// contact with its one open deal (rule 1). Phone calls arrive at tracking
// numbers, mail at mailboxes, web forms with utm_source entry points.
func genWorkload(n, c int, seed uint64) *benchWorkload {
	rng := rand.New(rand.NewPCG(seed, 0x5b0a))
	usedPhones := map[string]bool{}
	phone := func() string {
		for {
			p := fmt.Sprintf("+7913%07d", rng.IntN(10_000_000))
			if usedPhones[p] {
				continue
			}
			if _, err := crm.NormalizePhone(p, "RU"); err != nil {
				continue
			}
			usedPhones[p] = true
			return p
		}
	}
	usedTG := map[int64]bool{}
	contacts := make([]benchContact, c)
	for j := range contacts {
		ct := &contacts[j]
		ct.repeats = j%3 == 0
		name := benchFirst[rng.IntN(len(benchFirst))] + " " + benchLast[rng.IntN(len(benchLast))]
		// phone 30 %, email 20 %, telegram 15 %, whatsapp 20 %, web 15 %
		switch r := rng.IntN(100); {
		case r < 30:
			ct.acc = 0
			p := phone()
			// The formats PBXs send.
			switch rng.IntN(3) {
			case 0:
				p = "8 " + p[2:5] + " " + p[5:8] + "-" + p[8:10] + "-" + p[10:]
			case 1:
				p = p[1:]
			}
			ct.from = []channels.Handle{{Kind: "phone", Value: p}}
		case r < 50:
			ct.acc = 1
			ct.name = name
			ct.from = []channels.Handle{{Kind: "email", Value: fmt.Sprintf("%s <client%06d.%d@mail.example>", name, j, rng.IntN(1000))}}
			ct.thread = fmt.Sprintf("<root-%d@mail.example>", j)
		case r < 65:
			ct.acc = 2
			ct.name = name
			var id int64
			for id == 0 || usedTG[id] {
				id = 100_000_000 + rng.Int64N(6_000_000_000)
			}
			usedTG[id] = true
			ct.from = []channels.Handle{{Kind: "telegram", Value: strconv.FormatInt(id, 10)}}
		case r < 85:
			ct.acc = 3
			ct.name = name
			ct.from = []channels.Handle{{Kind: "whatsapp", Value: phone()[1:] + "@s.whatsapp.net"}}
		default:
			ct.acc = 4
			ct.name = name
			ct.from = []channels.Handle{{Kind: "phone", Value: phone()}, {Kind: "email", Value: fmt.Sprintf("lead%06d@web.example", j)}}
		}
	}
	// Which slots are first touches: c of n, shuffled, the first slot one.
	first := make([]bool, n)
	for i := 0; i < c; i++ {
		first[i] = true
	}
	rng.Shuffle(n, func(i, j int) { first[i], first[j] = first[j], first[i] })
	for i := range first {
		if first[i] {
			first[0], first[i] = true, first[0]
			break
		}
	}
	wl := &benchWorkload{touches: n, contacts: c, repeats: n - c}
	base := time.Date(2026, 1, 12, 6, 0, 0, 0, time.UTC)
	var seen []int // repeat customers seen so far
	next := 0
	if c > 0 && !contacts[0].repeats {
		panic("contact 0 must be a repeat customer")
	}
	all := make([]channels.Inbound, 0, n)
	for i := 0; i < n; i++ {
		var j int
		isFirst := first[i]
		if isFirst {
			j = next
			next++
			if contacts[j].repeats {
				seen = append(seen, j)
			}
		} else {
			j = seen[rng.IntN(len(seen))]
		}
		ct := &contacts[j]
		acc := benchAccounts[ct.acc]
		in := channels.Inbound{
			AccountID:  int64(ct.acc),
			ExternalID: fmt.Sprintf("%s-%08d", acc.channel, i),
			At:         base.Add(time.Duration(i) * 7 * time.Second),
			From:       ct.from,
			Name:       ct.name,
			ThreadKey:  ct.thread,
			Text:       benchTexts[rng.IntN(len(benchTexts))],
		}
		switch acc.channel {
		case channels.Phone:
			tr := benchTracking[rng.IntN(len(benchTracking))]
			in.EntryPoint, in.SourceHint, in.Text = tr.number, tr.source, ""
			in.Call = &channels.CallInfo{Answered: rng.IntN(4) != 0, Duration: time.Duration(rng.IntN(600)) * time.Second}
			if in.Call.Answered {
				in.Call.RecordingURL = fmt.Sprintf("https://pbx.example/rec/%d.mp3", i)
			}
		case channels.Email:
			mb := benchMailboxes[j%len(benchMailboxes)]
			in.EntryPoint, in.SourceHint = mb.addr, mb.source
			in.Subject = fmt.Sprintf("Заказ №%d", 1000+j)
			if !isFirst {
				in.Subject = "Re: " + in.Subject
			}
			in.HTML = "<p>" + in.Text + "</p>"
		case channels.Telegram:
			if isFirst && j%2 == 0 {
				in.EntryPoint, in.SourceHint = "start=vk", "VK Ads"
			}
		case channels.Web:
			u := benchUTM[j%len(benchUTM)]
			in.EntryPoint, in.SourceHint = u.utm, u.source
			in.Meta = map[string]string{"page": "https://shop.example/lp/spring", "utm_source": u.utm, "utm_campaign": "spring"}
		}
		all = append(all, in)
	}
	for len(all) > 0 {
		k := min(benchBatch, len(all))
		wl.batches = append(wl.batches, all[:k:k])
		all = all[k:]
	}
	return wl
}

// batchesFor copies the workload with real account ids (Ingest normalizes
// its input in place, so every run gets its own copy).
func (wl *benchWorkload) batchesFor(accIDs []int64) [][]channels.Inbound {
	out := make([][]channels.Inbound, len(wl.batches))
	for i, b := range wl.batches {
		cp := make([]channels.Inbound, len(b))
		copy(cp, b)
		for k := range cp {
			cp[k].AccountID = accIDs[cp[k].AccountID]
		}
		out[i] = cp
	}
	return out
}

func benchSetup(b testing.TB) (*testApp, []int64, []string) {
	ta := newTestApp(b)
	ids := make([]int64, len(benchAccounts))
	chans := make([]string, len(benchAccounts))
	for i, a := range benchAccounts {
		ids[i] = ta.account(string(a.channel), a.name).ID
		chans[i] = string(a.channel)
	}
	return ta, ids, chans
}

// benchCheck fails the benchmark unless the database holds what the
// workload must produce: every touch, one contact and one deal per
// simulated customer, one conversation per customer.
func benchCheck(b *testing.B, ta *testApp, wl *benchWorkload) {
	b.Helper()
	for _, c := range []struct {
		table string
		want  int
	}{
		{"touches", wl.touches}, {"contacts", wl.contacts}, {"deals", wl.contacts},
		{"conversations", wl.contacts}, {"events", wl.touches},
	} {
		var n int64
		if err := ta.db.Table(c.table).Count(&n).Error; err != nil {
			b.Fatal(err)
		}
		if n != int64(c.want) {
			b.Fatalf("%s = %d, want %d", c.table, n, c.want)
		}
	}
	var linked int64
	if err := ta.db.Table("touches").Where("deal_id IS NOT NULL").Count(&linked).Error; err != nil {
		b.Fatal(err)
	}
	if linked != int64(wl.touches) {
		b.Fatalf("touches linked to a deal = %d, want all %d", linked, wl.touches)
	}
	q := "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
	if crmtest.Postgres() {
		q = "SELECT pg_database_size(current_database())"
	}
	var size int64
	if err := ta.db.Raw(q).Row().Scan(&size); err == nil {
		b.Logf("database size after the run: %.0f MB", float64(size)/(1<<20))
	}
}

func benchDBName() string {
	if crmtest.Postgres() {
		return "postgres"
	}
	return "sqlite"
}

// BenchmarkIngest is the pipeline: every batch through App.Ingest.
func BenchmarkIngest(b *testing.B) {
	b.StopTimer()
	wl := benchWorkloadFromEnv()
	ctx := context.Background()
	for range b.N {
		ta, ids, _ := benchSetup(b)
		batches := wl.batchesFor(ids)
		b.StartTimer()
		for _, batch := range batches {
			res, err := ta.Ingest(ctx, batch)
			if err != nil {
				b.Fatal(err)
			}
			for i, r := range res {
				if r.Err != nil || r.Duplicate || r.TouchID == 0 {
					b.Fatalf("%s: %+v", batch[i].ExternalID, r)
				}
			}
		}
		b.StopTimer()
		benchCheck(b, ta, wl)
	}
	b.ReportMetric(float64(wl.touches*b.N)/b.Elapsed().Seconds(), "touches/s")
	b.Logf("%s: %d touches, %d contacts, %d repeat touches, batches of %d", benchDBName(), wl.touches, wl.contacts, wl.repeats, benchBatch)
}

// floorStmts are the hand-written statements of the floor.
type floorStmts struct {
	ident1, ident2, contactIns, identIns, dealOpen, dealIns, convFind, convIns, convUpd, touchIns, eventIns *sql.Stmt
}

func prepareFloor(b *testing.B, db *sql.DB, pg bool) *floorStmts {
	p := func(q string) *sql.Stmt {
		if pg { // $n placeholders
			var sb strings.Builder
			n := 0
			for _, r := range q {
				if r == '?' {
					n++
					sb.WriteString("$" + strconv.Itoa(n))
				} else {
					sb.WriteRune(r)
				}
			}
			q = sb.String()
		}
		s, err := db.Prepare(q)
		if err != nil {
			b.Fatalf("prepare %q: %v", q, err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	return &floorStmts{
		ident1:     p(`SELECT contact_id, kind, value FROM identities WHERE kind = ? AND value = ?`),
		ident2:     p(`SELECT contact_id, kind, value FROM identities WHERE (kind = ? AND value = ?) OR (kind = ? AND value = ?)`),
		contactIns: p(`INSERT INTO contacts (name, search, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`),
		identIns:   p(`INSERT INTO identities (contact_id, kind, value, created_at) VALUES (?, ?, ?, ?)`),
		dealOpen:   p(`SELECT id FROM deals WHERE contact_id = ? AND status = 'open'`),
		dealIns: p(`INSERT INTO deals (contact_id, title, stage_id, status, amount, currency, created_at, updated_at)
			VALUES (?, ?, ?, 'open', 0, ?, ?, ?) RETURNING id`),
		convFind: p(`SELECT id FROM conversations WHERE contact_id = ? AND account_id = ? AND thread_key = ? ORDER BY id DESC LIMIT 1`),
		convIns: p(`INSERT INTO conversations (contact_id, account_id, channel, thread_key, status, waiting_since, deal_id, subject, last_text, last_touch_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		convUpd: p(`UPDATE conversations SET status = 'open', snoozed_until = NULL, waiting_since = COALESCE(waiting_since, ?), last_touch_at = ?, last_text = ?, deal_id = COALESCE(deal_id, ?), updated_at = ? WHERE id = ?`),
		touchIns: p(`INSERT INTO touches (account_id, channel, kind, direction, external_id, contact_id, conversation_id, deal_id, handle, subject, body, html, meta, automated, occurred_at, created_at)
			VALUES (?, ?, ?, 'in', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		eventIns: p(`INSERT INTO events (at, type, conversation_id, touch_id, data) VALUES (?, ?, ?, ?, ?)`),
	}
}

// floorTouch stores one inbound by hand: identity lookup; contact,
// identities and deal inserts for a new contact, else the open-deal
// lookup; conversation find, then insert or update; touch insert; event
// insert. One statement per step.
func floorTouch(s *floorStmts, in *channels.Inbound, channel string, stage int64) error {
	raw := make([]crm.RawHandle, len(in.From))
	for i, h := range in.From {
		raw[i] = crm.RawHandle{Kind: h.Kind, Value: h.Value}
	}
	keys, err := crm.NormalizeAll(raw, "RU")
	if err != nil {
		return err
	}
	if len(keys) > 2 {
		return fmt.Errorf("floor: %d keys", len(keys))
	}
	now := time.Now().UTC()
	at := in.At.UTC()
	var rows *sql.Rows
	if len(keys) == 1 {
		rows, err = s.ident1.Query(string(keys[0].Kind), keys[0].Value)
	} else {
		rows, err = s.ident2.Query(string(keys[0].Kind), keys[0].Value, string(keys[1].Kind), keys[1].Value)
	}
	if err != nil {
		return err
	}
	var contactID int64
	found := map[crm.Key]bool{}
	for rows.Next() {
		var c int64
		var k crm.Key
		if err := rows.Scan(&c, &k.Kind, &k.Value); err != nil {
			rows.Close()
			return err
		}
		found[k] = true
		if contactID == 0 {
			contactID = c
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var dealID sql.NullInt64
	name := strings.TrimSpace(in.Name)
	if contactID == 0 {
		ids := make([]crm.Identity, len(keys))
		for i, k := range keys {
			ids[i] = crm.Identity{Kind: k.Kind, Value: k.Value}
		}
		c := crm.Contact{Name: name}
		if err := s.contactIns.QueryRow(name, crm.SearchText(&c, ids), now, now).Scan(&contactID); err != nil {
			return err
		}
		title := name
		if title == "" {
			title = in.From[0].Value
		}
		if err := s.dealIns.QueryRow(contactID, title, stage, "RUB", now, now).Scan(&dealID); err != nil {
			return err
		}
	} else {
		rows, err := s.dealOpen.Query(contactID)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			n++
			if err := rows.Scan(&dealID); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if n != 1 {
			dealID = sql.NullInt64{}
		}
	}
	for _, k := range keys {
		if !found[k] {
			if _, err := s.identIns.Exec(contactID, string(k.Kind), k.Value, now); err != nil {
				return err
			}
		}
	}
	preview := crm.Clip(crm.FirstNonEmpty(in.Text, in.Subject, string(in.Kind)), crm.PreviewLen)
	var convID int64
	switch err := s.convFind.QueryRow(contactID, in.AccountID, in.ThreadKey).Scan(&convID); err {
	case sql.ErrNoRows:
		if err := s.convIns.QueryRow(contactID, in.AccountID, channel, in.ThreadKey, at, dealID, crm.Clip(in.Subject, 300), preview, at, now, now).Scan(&convID); err != nil {
			return err
		}
	case nil:
		if _, err := s.convUpd.Exec(at, at, preview, dealID, now, convID); err != nil {
			return err
		}
	default:
		return err
	}
	kind := string(in.Kind)
	if kind == "" {
		kind = string(channels.Kind(channel).TouchKind())
	}
	var touchID int64
	if err := s.touchIns.QueryRow(in.AccountID, channel, kind, in.ExternalID, contactID, convID, dealID, keys[0].String(),
		crm.Clip(in.Subject, 1000), in.Text, in.HTML, string(floorMeta(in)), in.Automated, at, now).Scan(&touchID); err != nil {
		return err
	}
	data := `{"account_id":` + strconv.FormatInt(in.AccountID, 10) + `,"contact_id":` + strconv.FormatInt(contactID, 10) +
		`,"deal_id":` + strconv.FormatInt(dealID.Int64, 10) + `,"unlinked":false}`
	_, err = s.eventIns.Exec(now, crm.EventTouchAdded, convID, touchID, data)
	return err
}

// in binds the floor's statements to a transaction; a statement prepared
// on the connection is reused, not prepared again.
func (s *floorStmts) in(tx *sql.Tx) *floorStmts {
	return &floorStmts{
		tx.Stmt(s.ident1), tx.Stmt(s.ident2), tx.Stmt(s.contactIns), tx.Stmt(s.identIns), tx.Stmt(s.dealOpen), tx.Stmt(s.dealIns),
		tx.Stmt(s.convFind), tx.Stmt(s.convIns), tx.Stmt(s.convUpd), tx.Stmt(s.touchIns), tx.Stmt(s.eventIns),
	}
}

// BenchmarkIngestFloor is the raw floor: the same lookups and inserts by
// hand with prepared statements, in the same transactions of 100.
func BenchmarkIngestFloor(b *testing.B) {
	b.StopTimer()
	wl := benchWorkloadFromEnv()
	for range b.N {
		ta, ids, chans := benchSetup(b)
		batches := wl.batchesFor(ids)
		db, err := ta.db.DB()
		if err != nil {
			b.Fatal(err)
		}
		var stage int64
		if err := db.QueryRow("SELECT id FROM pipeline_stages WHERE kind = 'open' ORDER BY position LIMIT 1").Scan(&stage); err != nil {
			b.Fatal(err)
		}
		stmts := prepareFloor(b, db, crmtest.Postgres())
		chanOf := map[int64]string{}
		for i, id := range ids {
			chanOf[id] = chans[i]
		}
		b.StartTimer()
		for _, batch := range batches {
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			ts := stmts.in(tx)
			for i := range batch {
				if err := floorTouch(ts, &batch[i], chanOf[batch[i].AccountID], stage); err != nil {
					tx.Rollback()
					b.Fatalf("%s: %v", batch[i].ExternalID, err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		benchCheck(b, ta, wl)
	}
	b.ReportMetric(float64(wl.touches*b.N)/b.Elapsed().Seconds(), "touches/s")
}

// floorMeta is the touch's meta as ingest writes it: the channel's detail
// and, for a call, its outcome.
func floorMeta(in *channels.Inbound) []byte {
	m := maps.Clone(in.Meta)
	if m == nil {
		m = map[string]string{}
	}
	if in.Call != nil {
		m["call_answered"] = strconv.FormatBool(in.Call.Answered)
		m["call_duration_s"] = strconv.Itoa(int(in.Call.Duration.Seconds()))
	}
	return crm.MetaJSON(m)
}
