package server

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// Real-world broken mail read over IMAP reaches the timeline as a mail
// program shows it (issue 15, items 2, 3 and 4): the manager sees the
// sender, the subject and the words without mojibake or base64, every
// file under its name, and a parse mark only where something is lost.
func TestEmailBrokenMailEndToEnd(t *testing.T) {
	samples := []struct {
		file, id, from, name, subject, words string
		files                                []string
		problem                              string
	}{
		{"raw-utf8-filename.eml", "raw-utf8-name-1@factory.cn", "li.wei@factory.cn", "Li Wei", "Documents", "management documents attached", []string{"管理.doc"}, ""},
		{"raw-utf8-filename-text.eml", "raw-utf8-name-2@factory.cn", "li.wei@factory.cn", "", "Rules", "See the rules.", []string{"管理 规定.txt"}, ""},
		{"raw-latin1-filename.eml", "raw-latin1-name-1@handel.nl", "pieter@handel.nl", "Pieter de Vries", "Offerte", "zie de bijlage", []string{"ciële.txt"}, ""},
		{"raw-8bit-filename-spaces.eml", "raw-name-spaces-1@client.ru", "tanya@client.ru", "Татьяна Белова", "Отчёт", "Отчёт за март во вложении.", []string{"Отчёт за март.txt", "ciële prijzen.txt"}, ""},
		{"bitrix-raw-cp1251-filename.eml", "bx-raw-cp1251-1@stroy-nsk.ru", "olga@stroy-nsk.ru", "Ольга Смирнова", "Счёт на оплату", "оплатите до пятницы", []string{"Счёт №17.pdf"}, ""},
		{"folding-error-part.eml", "fold-err-1@client.ru", "andrey@client.ru", "Andrey", "Price list", "С уважением, Андрей", []string{"price-2024.pdf"}, ""},
		{"folding-error-text.eml", "fold-err-2@client.ru", "nina@client.ru", "Nina", "Question", "Сколько стоит монтаж?", nil, ""},
		{"two-content-disposition.eml", "two-disp-1@client.ru", "boris@client.ru", "Boris", "Contract", "Договор подписан", []string{"contract.pdf"}, ""},
		{"same-boundary-nested.eml", "same-boundary-1@client.ru", "elena@client.ru", "Elena", "Order", "Хотим заказать 5 позиций", []string{"order.pdf"}, ""},
		{"same-boundary-related.eml", "same-boundary-2@client.ru", "shop@client.ru", "Sales Robot", "Logo", "Our new logo is below.", []string{"logo.png"}, ""},
		{"no-blank-line-part.eml", "no-blank-1@client.ru", "sergey@client.ru", "Sergey", "Delivery", "Новосибирск, ул. Ленина 1.", []string{"map.pdf"}, ""},
		{"no-blank-line-top.eml", "no-blank-2@client.ru", "viktor@client.ru", "Viktor", "Call me", "+7 913 555-12-34", nil, ""},
		{"base64-plain-alternative.eml", "b64-plain-1@client.ru", "irina@client.ru", "Irina", "Invoice", "счёт на 3 кондиционера", nil, ""},
		{"base64-plain-ascii.eml", "b64-plain-2@client.com", "john@client.com", "John Smith", "Meeting", "Can we meet on Friday at 10 am?", nil, ""},
		{"thebat-nested-broken-text.eml", "1717171717.20240411090000@nsk-trade.ru", "alex@nsk-trade.ru", "Алексей Иванов", "Заявка на поставку", "Нужны 10 сплит-систем", []string{"Спецификация.xls"}, ""},
		{"alternative-corrupt-text.eml", "alt-corrupt-1@client.ru", "roman@client.ru", "Roman", "Order 305", "Подтверждаем заказ №305, доставка в четверг.", nil, ""},
		{"corrupt-base64-attachment.eml", "corrupt-b64-1@client.ru", "pavel@client.ru", "", "Scan", "Скан паспорта во вложении.", []string{"scan.jpg", email.RawName}, email.ProblemEncoding},
		{"utf8-bad-byte-koi8-body.eml", "utf8-bad-1@client.ru", "ivan@client.ru", "Иван Пет\uFFFDров", "Вопрос", "Есть ли скидка", nil, ""},
		{"utf8-bad-byte-body.eml", "utf8-bad-2@client.ru", "maria@client.ru", "Мария Козлова", "Срок", "1500 руб., срок 3 дня.", nil, ""},
		{"quoted-encoded-word-1251.eml", "quoted-ew-1@client.ru", "ivan.petrov@client.ru", "Иван Петров", "Коммерческое предложение", "Жду ваше предложение.", nil, ""},
		{"quoted-encoded-word-koi8.eml", "quoted-ew-2@client.ru", "sveta@client.ru", "Светлана Орлова", "Hello", "Добрый день.", nil, ""},
		{"unknown-charset-ascii.eml", "unknown-cs-1@shop.example", "orders@shop.example", "Shop", "Order confirmation 42", "Your order 42 is confirmed.", nil, ""},
		{"utf8-label-variant.eml", "utf8-variant-1@client.ru", "pavel@client.ru", "", "Скидка", "Какая скидка на опт?", nil, ""},
		{"cp-1251-label.eml", "cp-1251-label-1@client.ru", "oleg@client.ru", "Олег Сидоров", "Запрос", "Интересует монтаж под ключ.", nil, ""},
		{"latin1-euro.eml", "latin1-euro-1@client.fr", "jean@client.fr", "Jean Dupont", "Prix €", "Le prix est de 120 €", nil, ""},
		{"undeclared-8bit-euro.eml", "undeclared-8bit-1@client.de", "hans@client.de", "Hans Müller", "Angebot", "250 € pro Stück", nil, ""},
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "channels", "email", "testdata", "broken", "*.eml"))
	if len(files) != len(samples) {
		t.Fatalf("%d samples in testdata/broken, %d checked here", len(files), len(samples))
	}

	ta := newTestApp(t)
	srv := emailtest.NewIMAPServer(t)
	recent := time.Now().Add(-time.Hour)
	var direct []channels.Inbound
	for _, s := range samples {
		raw := mailSample(t, filepath.Join("broken", s.file))
		if s.file == "no-blank-line-top.eml" {
			// The in-memory IMAP server returns nothing for a message
			// whose header it cannot read (a real server returns the
			// bytes it stored): this one goes from Parse to ingest as
			// the adapter hands it over.
			in, _ := email.Parse(raw, []string{"sales@company.ru"})
			direct = append(direct, in)
			continue
		}
		srv.Append("INBOX", raw, recent)
	}
	acc := ta.mailAccount("Почта продаж", srv)
	run := ta.runMail(acc.ID)
	eventually(t, "the import", func() bool {
		return run.live() && ta.count("touches", "account_id = ?", acc.ID) == int64(len(samples)-len(direct))
	})
	run.stop(t)
	for i := range direct {
		direct[i].AccountID, direct[i].Kind = acc.ID, channels.Mail
	}
	ta.ingest(direct...)

	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			var tch crm.Touch
			if err := ta.db.Where("account_id = ? AND external_id = ?", acc.ID, s.id).Take(&tch).Error; err != nil {
				t.Fatalf("no touch for Message-ID %s: %v", s.id, err)
			}
			var d inbox.ConversationDetail
			must(t, owner, 200, "GET", fmt.Sprintf("/api/v1/conversations/%d", tch.ConversationID), nil, &d)
			var seen *crm.Touch
			for i := range d.Touches {
				if d.Touches[i].ID == tch.ID {
					seen = &d.Touches[i]
				}
			}
			if seen == nil {
				t.Fatalf("touch %d is not in its conversation's timeline", tch.ID)
			}
			if seen.Handle != "email:"+s.from || seen.Subject != s.subject || !strings.Contains(seen.Body, s.words) {
				t.Errorf("the timeline shows %s %q %q; want %s %q with %q", seen.Handle, seen.Subject, seen.Body, s.from, s.subject, s.words)
			}
			if s.name != "" && d.Contact.Name != s.name {
				t.Errorf("contact %q, want %q", d.Contact.Name, s.name)
			}
			var names []string
			for _, a := range d.Attachments {
				if a.TouchID == tch.ID {
					names = append(names, a.Name)
				}
			}
			if strings.Join(names, "|") != strings.Join(s.files, "|") {
				t.Errorf("files %q, want %q", names, s.files)
			}
			var meta map[string]string
			_ = json.Unmarshal(seen.Meta, &meta)
			if meta[email.MetaParseProblem] != s.problem || (s.problem == "") != (seen.ParseError == "") {
				t.Errorf("parse mark %q %q, want %q", meta[email.MetaParseProblem], seen.ParseError, s.problem)
			}
		})
	}
}
