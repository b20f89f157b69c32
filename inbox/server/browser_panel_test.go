package server

// Browser tests of the contact panel (edit, handles, merge suggestions),
// the timeline's media, and the owner's contacts, audit and accounts pages.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// photo is a w×h PNG of one colour.
func photo(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{0xb0, 0x7a, 0x45, 0xff})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// typeInto replaces the value of an input as a person would: select all, type.
func (tb *tab) typeInto(sel, text string) {
	tb.t.Helper()
	tb.eval("(() => { const e = document.querySelector(" + js(sel) + "); e.focus(); e.select(); })()")
	tb.do(chromedp.SendKeys(chromedp.CSS(sel), text))
}

func TestBrowserContactPanelEditMergeAndMedia(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	maria := ta.user("maria@example.ru", crm.Manager)
	site := ta.account("web", "chairs.example.ru")
	pbx := ta.account("phone", "Tracking numbers")
	now := time.Now().UTC()
	phone := channels.Handle{Kind: "phone", Value: "+7 913 555-01-02"}
	pdf := []byte("%PDF-1.4 план зала")
	_, conv := ta.touchConv(channels.Inbound{AccountID: site.ID, ExternalID: "f-1", At: now.Add(-time.Hour), From: []channels.Handle{phone}, Name: "Анна", Text: "Нужны стулья для кафе, вот фото зала",
		Attachments: []channels.Attachment{{Name: "зал.png", ContentType: "image/png", Data: photo(64, 40)}, {Name: "план.pdf", ContentType: "application/pdf", Data: pdf}}})
	ta.assignTo(conv, lead, &maria)
	ta.touchConv(channels.Inbound{AccountID: pbx.ID, ExternalID: "call-1", Kind: channels.Call, At: now.Add(-50 * time.Minute), From: []channels.Handle{phone}, EntryPoint: "+73832001122",
		Call:        &channels.CallInfo{Answered: true, Duration: 194 * time.Second},
		Attachments: []channels.Attachment{{Name: "call-1.mp3", ContentType: "audio/mpeg", Data: append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), make([]byte, 600)...)}}})
	_, other := ta.touchConv(channels.Inbound{AccountID: site.ID, ExternalID: "f-2", At: now.Add(-40 * time.Minute), From: []channels.Handle{{Kind: "email", Value: "anna@petrova.ru"}}, Name: "Anna Petrova", Text: "Пришлите прайс"})
	ta.assignTo(other, lead, &maria)
	// One form names both: the phone of the first contact, the email of the second.
	ta.touchConv(channels.Inbound{AccountID: site.ID, ExternalID: "f-3", At: now.Add(-30 * time.Minute), From: []channels.Handle{phone, {Kind: "email", Value: "anna@petrova.ru"}}, Name: "Анна Петрова", Text: "Перезвоните после 18:00"})
	c1, _ := crm.GetConversation(ta.db, conv)
	c2, _ := crm.GetConversation(ta.db, other)
	b := newBrowser(t, ta)

	p := b.tab("maria", "en-US")
	p.login("maria@example.ru")
	p.open(fmt.Sprintf("/inbox/mine/%d", conv))
	p.waitText("#timeline", "вот фото зала")

	// Media: the picture is a loaded thumbnail from our origin, the PDF a
	// download with its size, the call recording a player.
	thumb := `.files .thumb img[alt="зал.png"]`
	p.wait("the thumbnail loaded", "document.querySelector("+js(thumb)+")?.complete && document.querySelector("+js(thumb)+").naturalWidth === 64")
	if src, _ := p.eval("document.querySelector(" + js(thumb) + ").getAttribute('src')").(string); !strings.HasPrefix(src, "/api/v1/attachments/") || !strings.HasSuffix(src, "?inline=1") {
		t.Errorf("thumbnail src %q", src)
	}
	p.waitText(".files", "план.pdf")
	if dl := p.eval(`[...document.querySelectorAll('.files a[download]')].map(a => a.textContent.trim()).join('|')`); !strings.Contains(fmt.Sprint(dl), "план.pdf") {
		t.Errorf("download links: %v", dl)
	}
	p.waitText(".files", fmt.Sprintf("%d B", len(pdf)))
	p.waitText("#timeline", "3:14")
	p.wait("the recording player", `document.querySelector('.file-audio audio[src$="?inline=1"]')`)
	p.waitText(".file-audio", "Recording")
	p.screenshot("panel-media")

	// Edit the contact.
	p.click("#contact-edit")
	p.wait("the contact form", "document.querySelector('#contact-form input[name=name]')")
	p.typeInto("#contact-form input[name=name]", "Анна Петрова")
	p.typeInto("#contact-form input[name=company]", "Кафе «Дубрава»")
	p.typeInto("#contact-form textarea[name=note]", "Звонить после 18:00")
	p.screenshot("panel-edit")
	p.click("#contact-save")
	p.waitText("#contact-name", "Анна Петрова")
	p.waitText("#contact-company", "Кафе «Дубрава»")
	p.waitText("#contact-panel .note", "Звонить после 18:00")
	saved, err := crm.GetContact(ta.db, c1.ContactID)
	if err != nil || saved.Name != "Анна Петрова" || saved.Company != "Кафе «Дубрава»" || saved.Note != "Звонить после 18:00" {
		t.Fatalf("contact after save = %+v, %v", saved, err)
	}

	// A handle typed in any format is stored normalized; one typed wrong
	// is removed after a yes.
	p.click("#contact-edit")
	p.do(chromedp.SendKeys(chromedp.CSS(`#contact-form input[name=handle]`), "8 (913) 777-12-34"))
	p.click("#add-handle")
	p.waitText("#contact-form .handles", "+7 913 777-12-34")
	p.choose(`#contact-form .add-handle select`, "phone")
	p.do(chromedp.SendKeys(chromedp.CSS(`#contact-form input[name=handle]`), "+7 913 555-01-09"))
	p.click("#add-handle")
	p.waitText("#contact-form .handles", "+7 913 555-01-09")
	p.click(`#contact-form [data-identity] .remove-identity`) // the first: hold on, it is the real one…
	p.waitText("#contact-form .handles", "Remove it?")
	p.click(`#contact-form .confirm-inline button:not(.remove-yes)`) // …no
	p.waitNoText("#contact-form .handles", "Remove it?")
	wrong := p.eval(`[...document.querySelectorAll('#contact-form [data-identity]')].find(li => li.textContent.includes('555-01-09')).dataset.identity`)
	p.click(fmt.Sprintf(`#contact-form [data-identity="%v"] .remove-identity`, wrong))
	p.click(fmt.Sprintf(`#contact-form [data-identity="%v"] .remove-yes`, wrong))
	p.waitNoText("#contact-form .handles", "+7 913 555-01-09")
	got, _ := crm.GetContact(ta.db, c1.ContactID)
	if !hasIdentity(got, "+79137771234") || hasIdentity(got, "+79135550109") || !hasIdentity(got, "+79135550102") {
		t.Errorf("identities after add and remove: %+v", got.Identities)
	}
	p.eval(`[...document.querySelectorAll('#contact-form button')].find(b => b.textContent === 'Cancel').click()`)

	// The email's contact is offered as the same person; merge it, then undo.
	dup := fmt.Sprintf(`[data-dup="%d"]`, c2.ContactID)
	p.waitText(dup, "Anna Petrova")
	p.waitText(dup, "anna@petrova.ru")
	p.click(dup + " .merge-btn")
	p.waitText(dup+" .confirm", "Merge «Anna Petrova» into «Анна Петрова»?")
	p.screenshot("panel-duplicate")
	p.click(dup + " .merge-yes")
	p.waitText("#merged-note", "«Anna Petrova» was merged into this contact")
	p.waitText("#contact-panel .identities", "anna@petrova.ru")
	p.waitText("#timeline", "Пришлите прайс") // the other contact's conversation is this contact's now
	if m, _ := crm.GetContact(ta.db, c2.ContactID); m.ID != c1.ContactID {
		t.Fatalf("after the merge contact %d resolves to %d, want %d", c2.ContactID, m.ID, c1.ContactID)
	}
	p.screenshot("panel-merged")
	p.click("#undo-merge")
	p.wait("the merge undone", "!document.querySelector('#merged-note')")
	p.waitText(dup, "Anna Petrova")
	if m, _ := crm.GetContact(ta.db, c2.ContactID); m.ID != c2.ContactID {
		t.Errorf("after the undo contact %d resolves to %d", c2.ContactID, m.ID)
	}
	var undone int64
	ta.db.Model(&crm.AuditEntry{}).Where("action = ? AND actor_id = ?", "contact.unmerge", maria.ID).Count(&undone)
	if undone != 1 {
		t.Errorf("%d unmerge audit entries by maria, want 1", undone)
	}

	// Not a duplicate: the suggestion goes, audited as maria's.
	p.screenshot("panel-duplicate-again")
	p.click(dup + " .not-dup-btn")
	p.wait("the suggestion gone", "!document.querySelector("+js(dup)+")")
	p.waitText(".toast", "Not suggested any more")
	var hints []crm.MergeHint
	ta.db.Where("contact_id = ? AND other_id = ?", c1.ContactID, c2.ContactID).Find(&hints)
	if len(hints) != 1 || hints[0].DismissedAt == nil || hints[0].DismissedBy == nil || *hints[0].DismissedBy != maria.ID {
		t.Errorf("the hint after the dismissal: %+v, want dismissed by maria", hints)
	}
	if es, _ := crm.ListAudit(ta.db, crm.AuditFilter{Action: "contact.not_duplicate", ActorID: maria.ID}); len(es) != 1 || es[0].ObjectID != c1.ContactID {
		t.Errorf("not_duplicate audit entries by maria: %+v, want one on contact %d", es, c1.ContactID)
	}
	// Another pair's suggestion shows the panel has its suggestions, live
	// and after a reload; the dismissed one is not among them.
	_, olegConv := ta.touchConv(channels.Inbound{AccountID: site.ID, ExternalID: "f-4", At: now.Add(-20 * time.Minute), From: []channels.Handle{{Kind: "email", Value: "oleg@dubrava.ru"}}, Name: "Олег", Text: "Нужен счёт"})
	ta.touchConv(channels.Inbound{AccountID: site.ID, ExternalID: "f-5", At: now.Add(-10 * time.Minute), From: []channels.Handle{phone, {Kind: "email", Value: "oleg@dubrava.ru"}}, Name: "Анна", Text: "Счёт выставите на Олега"})
	oleg := fmt.Sprintf(`[data-dup="%d"]`, mustContact(t, ta, olegConv))
	p.waitText(oleg, "oleg@dubrava.ru")
	if p.eval("!!document.querySelector("+js(dup)+")") == true {
		t.Error("the dismissed suggestion is back after a new touch")
	}
	p.open(fmt.Sprintf("/inbox/mine/%d", conv))
	p.waitText("#timeline", "Счёт выставите на Олега")
	p.waitText(oleg, "oleg@dubrava.ru")
	if p.eval("!!document.querySelector("+js(dup)+")") == true {
		t.Error("the dismissed suggestion is back after a reload")
	}
	p.screenshot("panel-not-duplicate")

	// Dismissed meanwhile by someone else: the button says so.
	if _, err := ta.DismissDuplicate(context.Background(), lead, c1.ContactID, mustContact(t, ta, olegConv)); err != nil {
		t.Fatal(err)
	}
	p.click(oleg + " .not-dup-btn")
	p.waitText(".toast.error", "Not found: no merge suggestion between contacts")

	// A new message naming both is new evidence: suggested again, in Russian too.
	ta.touchConv(channels.Inbound{AccountID: site.ID, ExternalID: "f-6", At: now.Add(-5 * time.Minute), From: []channels.Handle{phone, {Kind: "email", Value: "anna@petrova.ru"}}, Name: "Анна Петрова", Text: "Это снова я"})
	p.waitText(dup, "Anna Petrova")
	p.click(`.topbar .lang button:nth-child(1)`)
	p.waitText(dup+" .not-dup-btn", "Не дубль")
	p.screenshot("panel-duplicate-ru")
	// An error says what happened in the page's language, with the
	// server's detail.
	if _, err := ta.DismissDuplicate(context.Background(), lead, c1.ContactID, c2.ContactID); err != nil {
		t.Fatal(err)
	}
	p.click(dup + " .not-dup-btn")
	p.waitText(".toast.error", "Не найдено: no merge suggestion between contacts")
	ta.touchConv(channels.Inbound{AccountID: site.ID, ExternalID: "f-7", At: now.Add(-4 * time.Minute), From: []channels.Handle{phone, {Kind: "email", Value: "anna@petrova.ru"}}, Name: "Анна Петрова", Text: "И ещё раз я"})
	p.wait("the suggestion back after the error", "!!document.querySelector("+js(dup)+")")
	p.click(`.topbar .lang button:nth-child(2)`)
	p.waitText(dup+" .not-dup-btn", "Not a duplicate")
	// A lead looking at the same contact sees maria's dismissal live.
	l := b.tab("lena", "en-US")
	l.login("lena@example.ru")
	l.open(fmt.Sprintf("/inbox/all/%d", conv))
	l.waitText(dup, "Anna Petrova")
	p.click(dup + " .not-dup-btn")
	p.wait("the suggestion gone again", "!document.querySelector("+js(dup)+")")
	l.wait("the suggestion gone for the lead, without a reload", "!document.querySelector("+js(dup)+")")
	l.noScriptErrors()

	// A phone: the panel slides over the conversation and is usable.
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p.open(fmt.Sprintf("/inbox/mine/%d", conv))
	p.waitText("#timeline", "вот фото зала")
	p.click(".panel-toggle")
	p.wait("the panel open", "getComputedStyle(document.querySelector('#contact-panel')).display !== 'none'")
	p.click("#contact-edit")
	p.wait("the form fits the screen", "document.querySelector('#contact-form').getBoundingClientRect().right <= window.innerWidth + 1")
	p.screenshot("phone-panel-edit")
	p.noScriptErrors()
}

func TestBrowserOwnerContactsAuditExportAndAccounts(t *testing.T) {
	ta := newTestApp(t)
	bot := &stateful{states: make(chan channels.State, 4)}
	ta.useAdapters(map[channels.Kind]channels.Factory{
		channels.Telegram: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return bot, nil },
	})
	owner := ta.user("owner@example.ru", crm.Owner)
	lena := ta.user("lena@example.ru", crm.Lead)
	maria := ta.user("maria@example.ru", crm.Manager)
	site := ta.account("web", "chairs.example.ru")
	wa := ta.account("whatsapp", "WhatsApp +7 913 000-00-01")
	var convs []int64
	for i, name := range []string{"Анна Петрова", "Борис Орлов", "Вера Никитина"} {
		phone := fmt.Sprintf("+7 913 555-06-0%d", i)
		if i == 1 {
			phone += " доб. 7" // Борис leaves his office number
		}
		_, c := ta.touchConv(channels.Inbound{AccountID: site.ID, ExternalID: fmt.Sprint("f-", i), From: []channels.Handle{{Kind: "phone", Value: phone}}, Name: name, Text: "Здравствуйте"})
		convs = append(convs, c)
	}
	ta.assignTo(convs[0], lena, &maria) // lena assigns: conversation.assign by lena
	ctx := context.Background()
	first, _ := crm.GetConversation(ta.db, convs[0])
	if _, err := ta.MergeContacts(ctx, maria, first.ContactID, mustContact(t, ta, convs[2])); err != nil { // maria merges: contact.merge by maria
		t.Fatal(err)
	}
	ta.startApp()
	b := newBrowser(t, ta)
	p := b.tab("owner", "en-US")
	p.login("owner@example.ru")

	// Contacts with their responsible manager; search by phone in any format.
	p.click(`.pages a[href="/owner/contacts"]`)
	row := fmt.Sprintf(`[data-contact="%d"]`, first.ContactID)
	p.waitText("#contacts-table", "Борис Орлов")
	p.wait("Anna's responsible manager", "document.querySelector("+js(row+" select")+").value === "+js(fmt.Sprint(maria.ID)))
	if strings.Contains(p.text("#contacts-table"), "Вера Никитина") {
		t.Error("the merged-away contact is listed on its own")
	}
	p.do(chromedp.SendKeys(chromedp.CSS("#contacts-search"), "8 913 555 06 01"))
	p.wait("the search applied", "!"+textOf("#contacts-table")+".includes('Анна')")
	p.waitText("#contacts-table", "Борис Орлов")
	p.waitText("#contacts-table .handles-cell [data-phone-ext]", "ext. 7") // what to ask for, calling back
	p.screenshot("owner-contacts")

	// The CSV export downloads, and is audited.
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(p.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: chromedp.FromContext(p.ctx).BrowserContextID, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	p.click("#export-csv")
	var csv []byte
	for deadline := time.Now().Add(browserWait); time.Now().Before(deadline) && !bytes.Contains(csv, []byte("Борис Орлов")); time.Sleep(100 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dir, "contacts-*.csv"))
		if len(files) == 1 {
			csv, _ = os.ReadFile(files[0])
		}
	}
	if !bytes.Contains(csv, []byte("Анна Петрова")) || !bytes.Contains(csv, []byte("+79135550601;ext=7")) {
		t.Fatalf("the downloaded CSV: %q", csv)
	}
	exports, err := crm.ListAudit(ta.db, crm.AuditFilter{Action: "contact.export", ActorID: owner.ID})
	if err != nil || len(exports) != 1 || !strings.Contains(string(exports[0].Data), `"rows":2`) {
		t.Fatalf("export audit entries %+v, %v; want one by the owner with 2 rows", exports, err)
	}

	// A contact's name opens their latest conversation.
	boris, _ := crm.GetConversation(ta.db, convs[1])
	p.click(fmt.Sprintf(`.contact-open[data-open-contact="%d"]`, boris.ContactID))
	p.waitText("#conv-contact", "Борис Орлов")

	// The audit trail by user: maria's merge, not lena's assignment.
	p.click(`.pages a[href="/owner/audit"]`)
	// Said in words, with names: no action codes or ids to decode.
	p.waitText(`#audit-table tr[data-action="conversation.assign"] td.what`, "Conversation with")
	p.choose("#audit-actor", fmt.Sprint(maria.ID))
	p.wait("only maria's entries", `!document.querySelector('#audit-table tr[data-action="conversation.assign"]')`)
	p.waitText(`#audit-table tr[data-action="contact.merge"] td.what`, "merged into")
	actors := p.eval(`[...document.querySelectorAll('#audit-table tbody td.actor')].map(td => td.textContent.trim())`)
	if list, ok := actors.([]any); !ok || len(list) == 0 {
		t.Errorf("no rows by maria: %v", actors)
	} else {
		for _, a := range list {
			if a != "maria" {
				t.Errorf("a row by %v in maria's trail", a)
			}
		}
	}
	p.choose("#audit-actor", fmt.Sprint(owner.ID))
	p.waitText(`#audit-table tr[data-action="contact.export"] td.what`, "Contacts exported: 2 rows")
	p.screenshot("owner-audit-by-user")
	p.typeInto("#audit-object-id", "12x")
	p.do(chromedp.KeyEvent("\t"))
	p.waitText(".page .error", "is not an id")

	// Accounts: a new Telegram bot, live; its token never comes back.
	p.click(`.pages a[href="/owner/accounts"]`)
	p.waitText(fmt.Sprintf(`[data-account="%d"] .account-error`, wa.ID), "This build has no adapter for the channel.")
	p.waitText(fmt.Sprintf(`[data-account="%d"] .raw-error`, wa.ID), "no adapter for this channel")
	// The site's forms arrive through its hook: not "stopped", and when the last one came.
	p.waitText(fmt.Sprintf(`[data-account="%d"]`, site.ID), "receives via webhook")
	p.waitText(fmt.Sprintf(`[data-account="%d"]`, site.ID), "last received")
	p.click("#account-new")
	p.choose(`#account-form select[name=channel]`, "telegram")
	p.wait("the Telegram fields", "document.querySelector('#account-form select[name=mode]')")
	p.do(
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=name]`), "Support bot"),
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=secret]`), "123456:AAE-secret-token"),
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=default_source]`), "Telegram ads"),
	)
	p.screenshot("owner-account-new")
	p.click("#account-save")
	p.wait("the form closed", "!document.querySelector('#account-form')")
	var acc crm.Account
	if err := ta.db.Where("name = ?", "Support bot").Take(&acc).Error; err != nil || acc.Channel != "telegram" || acc.Secret == "" || acc.DefaultSource != "Telegram ads" || strings.Contains(acc.Secret, "AAE-secret") {
		t.Fatalf("the new account %+v, %v: want telegram with a sealed token", acc, err)
	}
	arow := fmt.Sprintf(`[data-account="%d"]`, acc.ID)
	p.waitText(arow, "Support bot")
	bot.states <- channels.State{Phase: channels.Live}
	p.waitText(arow, "live")
	if strings.Contains(p.text("body"), "AAE-secret") {
		t.Error("the page shows the bot token")
	}

	// Edit: the secret field is blank ("leave blank to keep"); saving a
	// new name keeps the token.
	p.click(arow + " .edit-account")
	p.wait("the edit form", "document.querySelector('#account-form input[name=secret]')")
	if v := p.eval("document.querySelector('#account-form input[name=secret]').value"); v != "" {
		t.Errorf("the secret field holds %q", v)
	}
	if ph, _ := p.eval("document.querySelector('#account-form input[name=secret]').placeholder").(string); !strings.Contains(ph, "leave blank to keep") {
		t.Errorf("secret placeholder %q", ph)
	}
	p.choose(`#account-form select[name=mode]`, "webhook")
	p.do(chromedp.SendKeys(chromedp.CSS(`#account-form input[name=webhook_url]`), "https://inbox.example.ru/hooks/telegram/"+fmt.Sprint(acc.ID)))
	p.typeInto(`#account-form input[name=name]`, "Support bot 2")
	p.click("#account-save")
	p.waitText(arow, "Support bot 2")
	var after crm.Account
	ta.db.Take(&after, acc.ID)
	var st map[string]any
	json.Unmarshal(after.Settings, &st)
	if after.Secret != acc.Secret || st["mode"] != "webhook" || !strings.HasSuffix(fmt.Sprint(st["webhook_url"]), fmt.Sprint(acc.ID)) {
		t.Errorf("after the edit: secret kept %v, settings %s", after.Secret == acc.Secret, after.Settings)
	}
	edits, _ := crm.ListAudit(ta.db, crm.AuditFilter{Action: "account.edit", ObjectType: "account", ObjectID: acc.ID})
	if len(edits) != 1 || !strings.Contains(string(edits[0].Data), `"secret_changed":false`) {
		t.Errorf("account edit audit: %+v", edits)
	}

	// An email account: the mailbox's settings are stored as the adapter reads them.
	p.click("#account-new")
	p.wait("the email fields", "document.querySelector('#account-form input[name=imap_host]')")
	p.do(
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=name]`), "sales@chairs.example.ru"),
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=address]`), "sales@chairs.example.ru"),
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=imap_host]`), "imap.yandex.ru"),
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=smtp_host]`), "smtp.yandex.ru"),
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=smtp_port]`), "465"),
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=secret]`), "app-password"),
	)
	p.screenshot("owner-account-email")
	p.click("#account-save")
	p.wait("the form closed", "!document.querySelector('#account-form')")
	var mail crm.Account
	ta.db.Where("name = ?", "sales@chairs.example.ru").Take(&mail)
	var ms map[string]any
	json.Unmarshal(mail.Settings, &ms)
	if mail.Channel != "email" || ms["imap_host"] != "imap.yandex.ru" || ms["smtp_port"] != float64(465) || ms["address"] != "sales@chairs.example.ru" || mail.Secret == "" {
		t.Errorf("email account %s %s (secret set %v)", mail.Channel, mail.Settings, mail.Secret != "")
	}

	// A WhatsApp account: no secret to type (the QR code, or a code for
	// the phone, links it); its settings keep their types. This test's
	// build runs no WhatsApp adapter, so it waits, stopped.
	p.click("#account-new")
	p.choose(`#account-form select[name=channel]`, "whatsapp")
	p.waitText("#whatsapp-hint", "QR code")
	if p.eval("!!document.querySelector('#account-form input[name=secret]')") == true {
		t.Error("the WhatsApp form asks for a secret")
	}
	p.do(chromedp.SendKeys(chromedp.CSS(`#account-form input[name=name]`), "WhatsApp +7 913 000-00-02"),
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=pair_phone]`), "+7 913 000-00-02"),
		chromedp.SendKeys(chromedp.CSS(`#account-form input[name=first_per_minute]`), "3"))
	p.choose(`#account-form select[name=first_messages]`, "true")
	p.screenshot("owner-account-whatsapp")
	p.click("#account-save")
	p.wait("the form closed", "!document.querySelector('#account-form')")
	var wa2 crm.Account
	if err := ta.db.Where("name = ?", "WhatsApp +7 913 000-00-02").Take(&wa2).Error; err != nil || wa2.Channel != "whatsapp" || !wa2.Enabled || wa2.Secret != "" {
		t.Fatalf("the new WhatsApp account %+v, %v", wa2, err)
	}
	var was map[string]any
	json.Unmarshal(wa2.Settings, &was)
	if was["pair_phone"] != "+7 913 000-00-02" || was["first_messages"] != true || was["first_per_minute"] != float64(3) || len(was) != 3 {
		t.Errorf("WhatsApp settings %s", wa2.Settings)
	}
	p.waitText(fmt.Sprintf(`[data-account="%d"]`, wa2.ID), "no adapter for this channel")
	p.screenshot("owner-accounts")

	// A laptop in Russian, and a phone.
	p.click(`.topbar .lang button:nth-child(1)`)
	p.click(`.pages a[href="/owner/contacts"]`)
	p.waitText(".page h1", "Контакты")
	p.waitText("#export-csv", "Выгрузить CSV")
	p.screenshot("owner-contacts-ru")
	p.click(`.pages a[href="/owner/audit"]`)
	p.waitText(`#audit-table tr[data-action="contact.export"] td.what`, "Выгружены контакты (строк: 2)")
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p.click(`.pages a[href="/owner/accounts"]`)
	p.waitText(fmt.Sprintf(`[data-account="%d"] .account-error`, wa.ID), "В этой сборке нет адаптера для этого канала.")
	p.click("#account-new")
	p.wait("the form", "document.querySelector('#account-form')")
	p.screenshot("phone-owner-account-form")
	p.noScriptErrors()
}

// mustContact is the contact of a conversation.
func mustContact(t *testing.T, ta *testApp, conv int64) int64 {
	t.Helper()
	c, err := crm.GetConversation(ta.db, conv)
	if err != nil {
		t.Fatal(err)
	}
	return c.ContactID
}
