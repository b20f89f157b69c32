package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/report"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
)

// A colleague of the client answering in the client's thread (issue 15,
// item 10) joins that thread's conversation and deal, as a contact of
// their own shown as a participant; replies still go to the client. A
// thread is never followed into another mailbox, and our own addresses
// never become participants.
func TestEmailColleagueReplyJoinsTheClientsThread(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	srv := emailtest.NewIMAPServer(t)
	at := time.Now().Add(-2 * time.Hour)
	mail := func(from, id, refs, subject, body string) []byte {
		h := "From: " + from + "\r\nTo: sales@company.ru\r\nSubject: " + subject + "\r\nDate: " + at.Format(time.RFC1123Z) + "\r\nMessage-ID: <" + id + ">\r\n"
		if refs != "" {
			last := refs[strings.LastIndexByte(refs, '<'):]
			h += "In-Reply-To: " + last + "\r\nReferences: " + refs + "\r\n"
		}
		return []byte(h + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	}
	// The client asks; a colleague answers in the thread (one batch).
	srv.Append("INBOX", mail("Иван Петров <ivan@client.ru>", "q1@client.ru", "", "Запрос цены", "Сколько стоит?"), at)
	srv.Append("INBOX", mail("Анна Смирнова <anna@client.ru>", "a1@client.ru", "<q1@client.ru>", "Re: Запрос цены", "И доставка в Томск?"), at.Add(time.Minute))
	acc := ta.mailAccount("Почта продаж", srv)
	owner := ta.login("owner@example.ru")
	var src crm.AdSource
	must(t, owner, 200, "POST", "/api/v1/ad-sources", api.AdSourceRequest{Name: "Яндекс.Директ"}, &src)
	must(t, owner, 200, "POST", "/api/v1/entry-points", inbox.NewEntryPoint{AccountID: acc.ID, Address: "sales@company.ru", AdSourceID: &src.ID}, nil)
	run := ta.runMail(acc.ID)
	defer func() { run.stop(t) }()
	eventually(t, "the import", func() bool { return run.live() && ta.count("touches", "account_id = ?", acc.ID) == 2 })

	q1, a1 := ta.mailTouch(acc.ID, "q1@client.ru"), ta.mailTouch(acc.ID, "a1@client.ru")
	if a1.ConversationID != q1.ConversationID || q1.DealID == nil || a1.DealID == nil || *a1.DealID != *q1.DealID {
		t.Fatalf("the colleague's reply: conversation %d deal %v; the client's: %d %v", a1.ConversationID, a1.DealID, q1.ConversationID, q1.DealID)
	}
	if a1.ContactID == q1.ContactID || ta.count("identities", "contact_id = ? AND kind = 'email' AND value = ?", a1.ContactID, "anna@client.ru") != 1 {
		t.Errorf("the colleague is not a contact of her own: contact %d (client %d)", a1.ContactID, q1.ContactID)
	}
	if n, d := ta.count("conversations", ""), ta.count("deals", ""); n != 1 || d != 1 {
		t.Errorf("%d conversations and %d deals, want the client's one each", n, d)
	}

	// The manager answers: to the client.
	var reply crm.Touch
	if st := owner.do("POST", p("/api/v1/conversations/%d/reply", q1.ConversationID), inbox.ReplyRequest{Text: "Доставим, цена в письме."}, &reply); st != 200 {
		t.Fatalf("reply: %d", st)
	}
	var job crm.OutboxJob
	ta.db.Where("touch_id = ?", reply.ID).Take(&job)
	var ob channels.Outbound
	if err := json.Unmarshal(job.Payload, &ob); err != nil || ob.To.Value != "ivan@client.ru" {
		t.Errorf("the reply goes to %+v (%v), want the client", ob.To, err)
	}

	// The lead gives the client's conversation to a manager: a colleague
	// who joins it from now on is that manager's contact, not nobody's
	// (which every manager would see).
	maria := ta.user("maria@example.ru", crm.Manager)
	must(t, owner, 200, "POST", p("/api/v1/conversations/%d/assign", q1.ConversationID), api.AssignRequest{UserID: &maria.ID}, nil)

	// Later, live: another colleague answers our reply (a stored parent);
	// our mailbox writes to the colleague from a mail program.
	srv.Append("INBOX", mail("Олег <oleg@client.ru>", "o1@client.ru", "<q1@client.ru> <"+job.MessageID+">", "Re: Запрос цены", "Согласовано."), time.Now())
	srv.Append("INBOX", []byte("From: Продажи <sales@company.ru>\r\nTo: Анна Смирнова <anna@client.ru>\r\nSubject: Re: Запрос цены\r\nMessage-ID: <s1@company.ru>\r\n"+
		"In-Reply-To: <a1@client.ru>\r\nReferences: <q1@client.ru> <a1@client.ru>\r\n\r\nАнна, доставка есть.\r\n"), time.Now())
	eventually(t, "the live mail", func() bool { return ta.count("touches", "account_id = ?", acc.ID) == 5 })
	o1, s1 := ta.mailTouch(acc.ID, "o1@client.ru"), ta.mailTouch(acc.ID, "s1@company.ru")
	for _, x := range []crm.Touch{o1, s1} {
		if x.ConversationID != q1.ConversationID || x.DealID == nil || *x.DealID != *q1.DealID {
			t.Errorf("touch %s: conversation %d deal %v, want the client's %d %v", *x.ExternalID, x.ConversationID, x.DealID, q1.ConversationID, *q1.DealID)
		}
	}
	var oleg crm.Contact
	ta.db.Take(&oleg, o1.ContactID)
	if oleg.ResponsibleID == nil || *oleg.ResponsibleID != maria.ID {
		t.Errorf("the colleague who joined Maria's conversation: responsible %v, want Maria (%d)", oleg.ResponsibleID, maria.ID)
	}
	if s1.Direction != crm.Outbound || s1.ContactID != a1.ContactID {
		t.Errorf("our mail to the colleague: %s to contact %d, want outbound to %d", s1.Direction, s1.ContactID, a1.ContactID)
	}
	if n := ta.count("deals", ""); n != 1 {
		t.Errorf("%d deals, want the client's one", n)
	}
	// The colleagues are no new leads in the owner's report.
	var rep report.Report
	day := func(d int) string { return time.Now().AddDate(0, 0, d).Format(time.DateOnly) }
	owner.do("GET", "/api/v1/reports/sources?from="+day(-1)+"&to="+day(1), nil, &rep)
	var leads int64
	for _, r := range rep.Rows {
		leads += r.Leads
	}
	if leads != 1 {
		t.Errorf("the report counts %d leads, want the client alone: %+v", leads, rep.Rows)
	}

	// The conversation names its participants; never our own address.
	var d inbox.ConversationDetail
	if st := owner.do("GET", p("/api/v1/conversations/%d", q1.ConversationID), nil, &d); st != 200 {
		t.Fatalf("conversation: %d", st)
	}
	var got []string
	for _, x := range d.Participants {
		got = append(got, x.Name+" "+x.Handle)
	}
	if strings.Join(got, ", ") != "Анна Смирнова email:anna@client.ru, Олег email:oleg@client.ru" || d.Contact.ID != q1.ContactID {
		t.Errorf("participants %q of %d's conversation", got, d.Contact.ID)
	}

	// The same colleague writing to another mailbox of ours, in the same
	// thread: that mailbox's own conversation, never the first one.
	srv2 := emailtest.NewIMAPServer(t)
	srv2.Append("INBOX", mail("Анна Смирнова <anna@client.ru>", "a2@client.ru", "<q1@client.ru> <a1@client.ru>", "Re: Запрос цены", "Пишу и вам."), time.Now())
	acc2 := ta.mailAccount("Почта сервиса", srv2)
	run2 := ta.runMail(acc2.ID)
	defer func() { run2.stop(t) }()
	eventually(t, "the second mailbox", func() bool { return ta.count("touches", "account_id = ?", acc2.ID) == 1 })
	a2 := ta.mailTouch(acc2.ID, "a2@client.ru")
	if a2.ConversationID == q1.ConversationID || a2.ContactID != a1.ContactID {
		t.Errorf("the other mailbox's mail: conversation %d (the first mailbox's is %d), contact %d", a2.ConversationID, q1.ConversationID, a2.ContactID)
	}
	if a2.DealID != nil && *a2.DealID == *q1.DealID {
		t.Errorf("the other mailbox's mail took the first mailbox's deal")
	}
}

// A participant's touch with no deal (the client's deal was lost, or the
// client has several) is resolved like the client's own: linked to one of
// the client's deals, or with a new deal, which is the client's.
func TestAParticipantsUnlinkedTouchTakesTheClientsDeals(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	acc := ta.account("email", "sales")
	msg := func(ext, from string, parents ...string) channels.Inbound {
		return channels.Inbound{AccountID: acc.ID, ExternalID: ext, Kind: channels.Mail, ThreadKey: "q1@client.ru", Parents: parents, At: time.Now(),
			From: []channels.Handle{{Kind: "email", Value: from}}, Subject: "Запрос цены", Text: ext}
	}
	q1 := touchOf(t, owner, ta.ingest(msg("q1@client.ru", "ivan@client.ru"))[0].TouchID)
	must(t, owner, 200, "POST", p("/api/v1/deals/%d/lost", *q1.DealID), api.LostRequest{Reason: "price"}, nil)

	a1 := touchOf(t, owner, ta.ingest(msg("a1@client.ru", "anna@client.ru", "q1@client.ru"))[0].TouchID)
	if a1.ConversationID != q1.ConversationID || a1.DealID != nil {
		t.Fatalf("the colleague's reply after the deal was lost: conversation %d deal %v", a1.ConversationID, a1.DealID)
	}
	var nd struct {
		Deal crm.Deal `json:"deal"`
	}
	must(t, owner, 200, "POST", p("/api/v1/touches/%d/new-deal", a1.ID), api.NewDealRequest{Title: "Второй заказ"}, &nd)
	if nd.Deal.ContactID != q1.ContactID {
		t.Errorf("the new deal is contact %d's, want the client %d's", nd.Deal.ContactID, q1.ContactID)
	}

	var other crm.Deal
	must(t, owner, 200, "POST", "/api/v1/deals", inbox.NewDeal{ContactID: q1.ContactID, Title: "Третий"}, &other)
	o1 := touchOf(t, owner, ta.ingest(msg("o1@client.ru", "oleg@client.ru", "a1@client.ru"))[0].TouchID)
	if o1.ConversationID != q1.ConversationID || o1.DealID != nil {
		t.Fatalf("a reply while the client has two open deals: conversation %d deal %v, want unlinked", o1.ConversationID, o1.DealID)
	}
	var linked crm.Touch
	must(t, owner, 200, "POST", p("/api/v1/touches/%d/deal", o1.ID), api.LinkRequest{DealID: other.ID}, &linked)
	if linked.DealID == nil || *linked.DealID != other.ID {
		t.Errorf("linked to %v, want the client's deal %d", linked.DealID, other.ID)
	}
	// Someone else's deal stays out of reach.
	z := touchOf(t, owner, ta.ingest(msg("z1@other.ru", "zoya@other.ru"))[0].TouchID)
	ta.db.Model(&crm.Touch{}).Where("id = ?", o1.ID).Update("deal_id", nil)
	if st, _ := owner.raw("POST", p("/api/v1/touches/%d/deal", o1.ID), api.LinkRequest{DealID: *z.DealID}); st != 404 {
		t.Errorf("linking a participant's touch to an unrelated contact's deal: %d, want 404", st)
	}
}
