package email

import (
	"os"
	"path/filepath"
	"testing"
)

// Robot mail is told from people's mail by its headers, its sender, its
// subject or its report body (issue 15, item 7).
func TestAutomatedMail(t *testing.T) {
	own := []string{"sales@company.ru"}
	files, _ := filepath.Glob("testdata/robots/*.eml")
	if len(files) < 6 {
		t.Fatalf("robot samples: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, err := Parse(raw, own)
			if err != nil || !in.Automated {
				t.Errorf("Automated %v, err %v; want a robot", in.Automated, err)
			}
		})
	}

	msg := func(from, subject, extra string) []byte {
		return []byte("From: " + from + "\r\nTo: sales@company.ru\r\nSubject: " + subject + "\r\n" + extra +
			"Message-ID: <1@x.ru>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nТекст\r\n")
	}
	for _, tc := range []struct {
		name  string
		raw   []byte
		robot bool
	}{
		{"X-Autoreply", msg("a@client.ru", "Re: Offer", "X-Autoreply: yes\r\n"), true},
		{"X-Autorespond", msg("a@client.ru", "Re: Offer", "X-Autorespond: Re: Offer\r\n"), true},
		{"X-Apple-Action: VACATION", msg("a@icloud.com", "Re: Offer", "X-Apple-Action: VACATION\r\n"), true},
		{"Exim's X-Failed-Recipients", msg("a@client.ru", "Mail failure", "X-Failed-Recipients: ivan@client.ru\r\n"), true},
		{"an Auto reply: subject", msg("a@client.ru", "Auto reply: Offer", ""), true},
		{"an Automatic reply: subject", msg("a@client.ru", "Automatic reply: Offer", ""), true},
		{"an Out of Office subject", msg("a@client.ru", "Out of Office: Offer", ""), true},
		{"an Автоответ subject", msg("a@client.ru", "Автоответ: Re: Offer", ""), true},
		{"an Автоматический ответ subject", msg("a@client.ru", "Автоматический ответ: Offer", ""), true},
		{"an Undeliverable: subject", msg("a@client.ru", "Undeliverable: Offer", ""), true},
		{"a noreply sender", msg("noreply@bank.ru", "Выписка", ""), true},
		{"a no-reply sender", msg("Service <no-reply@service.com>", "Your order", ""), true},
		{"a no_reply sender with a tag", msg("no_reply+orders@shop.ru", "Заказ", ""), true},
		{"a do-not-reply sender", msg("do-not-reply@tickets.ru", "Билет", ""), true},
		{"a mailer-daemon sender", msg("MAILER-DAEMON@mx.ru", "failure notice", ""), true},
		{"a postmaster sender", msg("postmaster@client.ru", "Delivery", ""), true},
		{"a person answering about an out-of-office", msg("a@client.ru", "Re: Out of office", ""), false},
		{"a person named Noreen", msg("noreen@client.ru", "Offer", ""), false},
		{"a person mentioning auto replies", msg("a@client.ru", "Question about auto reply settings", "Auto-Submitted: no\r\n"), false},
		{"an ordinary question", msg("a@client.ru", "Нужен счёт", ""), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := Parse(tc.raw, own)
			if err != nil || in.Automated != tc.robot {
				t.Errorf("Automated %v, err %v; want %v", in.Automated, err, tc.robot)
			}
		})
	}
}
