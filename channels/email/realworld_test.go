package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// realWorld is what a manager reads of each sample in testdata/broken:
// mail broken the ways real mail is (issue 15, items 2, 3 and 4).
type realWorld struct {
	file       string
	from, name string
	subject    string
	text       []string // words the manager reads, exactly
	notText    []string // what must not be in the text (a file's content, junk)
	html       bool     // the HTML alternative is kept
	atts       []string // file names, in order (the original message of a parse problem aside)
	problem    string   // the parse mark's code, "" for none
}

var realWorldSamples = []realWorld{
	// 2. Attachments with raw 8-bit file names, folding errors, two Content-Disposition headers.
	{file: "raw-utf8-filename.eml", from: "li.wei@factory.cn", name: "Li Wei", subject: "Documents",
		text: []string{"Please find the management documents attached."}, atts: []string{"管理.doc"}},
	{file: "raw-utf8-filename-text.eml", from: "li.wei@factory.cn", name: "Li Wei", subject: "Rules",
		text: []string{"See the rules."}, notText: []string{"Rule 1"}, atts: []string{"管理 规定.txt"}},
	{file: "raw-latin1-filename.eml", from: "pieter@handel.nl", name: "Pieter de Vries", subject: "Offerte",
		text: []string{"Goedemorgen, zie de bijlage voor de offerte."}, notText: []string{"Prijs"}, atts: []string{"ciële.txt"}},
	{file: "raw-8bit-filename-spaces.eml", from: "tanya@client.ru", name: "Татьяна Белова", subject: "Отчёт",
		text: []string{"Отчёт за март во вложении."}, notText: []string{"Выручка", "Prijs"},
		atts: []string{"Отчёт за март.txt", "ciële prijzen.txt"}},
	{file: "bitrix-raw-cp1251-filename.eml", from: "olga@stroy-nsk.ru", name: "Ольга Смирнова", subject: "Счёт на оплату",
		text: []string{"Добрый день! Счёт во вложении, оплатите до пятницы."}, atts: []string{"Счёт №17.pdf"}},
	{file: "folding-error-part.eml", from: "andrey@client.ru", name: "Andrey", subject: "Price list",
		text: []string{"Прайс во вложении, жду ответа.", "С уважением, Андрей"}, atts: []string{"price-2024.pdf"}},
	{file: "folding-error-text.eml", from: "nina@client.ru", name: "Nina", subject: "Question",
		text: []string{"Сколько стоит монтаж?"}, html: true},
	{file: "two-content-disposition.eml", from: "boris@client.ru", name: "Boris", subject: "Contract",
		text: []string{"Договор подписан, скан во вложении."}, atts: []string{"contract.pdf"}},

	// 3. Broken structure.
	{file: "same-boundary-nested.eml", from: "elena@client.ru", name: "Elena", subject: "Order",
		text: []string{"Хотим заказать 5 позиций по прайсу."}, html: true, atts: []string{"order.pdf"}},
	{file: "same-boundary-related.eml", from: "shop@client.ru", name: "Sales Robot", subject: "Logo",
		text: []string{"Our new logo is below."}, html: true, atts: []string{"logo.png"}},
	{file: "no-blank-line-part.eml", from: "sergey@client.ru", name: "Sergey", subject: "Delivery",
		text: []string{"Доставка нужна до 15 апреля, адрес: Новосибирск, ул. Ленина 1."}, atts: []string{"map.pdf"}},
	{file: "no-blank-line-top.eml", from: "viktor@client.ru", name: "Viktor", subject: "Call me",
		text: []string{"Перезвоните мне, пожалуйста: +7 913 555-12-34."}},
	{file: "base64-plain-alternative.eml", from: "irina@client.ru", name: "Irina", subject: "Invoice",
		text: []string{"Пришлите, пожалуйста, счёт на 3 кондиционера.", "Ирина"}, html: true},
	{file: "base64-plain-ascii.eml", from: "john@client.com", name: "John Smith", subject: "Meeting",
		text: []string{"Can we meet on Friday at 10 am?"}, html: true},
	{file: "thebat-nested-broken-text.eml", from: "alex@nsk-trade.ru", name: "Алексей Иванов", subject: "Заявка на поставку",
		text: []string{"Здравствуйте! Нужны 10 сплит-систем до конца месяца."}, html: true, atts: []string{"Спецификация.xls"}},
	{file: "alternative-corrupt-text.eml", from: "roman@client.ru", name: "Roman", subject: "Order 305",
		text: []string{"Добрый день! Подтверждаем заказ №305, доставка в четверг."}, html: true},
	{file: "corrupt-base64-attachment.eml", from: "pavel@client.ru", name: "Pavel", subject: "Scan",
		text: []string{"Скан паспорта во вложении."}, atts: []string{"scan.jpg"}, problem: ProblemEncoding},

	// 4. Charsets: decode the valid parts, replace only the bad bytes, guess only without a usable label.
	{file: "utf8-bad-byte-koi8-body.eml", from: "ivan@client.ru", name: "Иван Пет\uFFFDров", subject: "Вопрос",
		text: []string{"Есть ли скидка при заказе от ста штук?"}},
	{file: "utf8-bad-byte-body.eml", from: "maria@client.ru", name: "Мария Козлова", subject: "Срок",
		text: []string{"Цена \uFFFD1500 руб., срок 3 дня."}},
	{file: "quoted-encoded-word-1251.eml", from: "ivan.petrov@client.ru", name: "Иван Петров", subject: "Коммерческое предложение",
		text: []string{"Жду ваше предложение."}},
	{file: "quoted-encoded-word-koi8.eml", from: "sveta@client.ru", name: "Светлана Орлова", subject: "Hello",
		text: []string{"Добрый день."}},
	{file: "unknown-charset-ascii.eml", from: "orders@shop.example", name: "Shop", subject: "Order confirmation 42",
		text: []string{"Your order 42 is confirmed.\nThank you."}},
	{file: "utf8-label-variant.eml", from: "pavel@client.ru", name: "Павел Егоров", subject: "Скидка",
		text: []string{"Какая скидка на опт?"}},
	{file: "cp-1251-label.eml", from: "oleg@client.ru", name: "Олег Сидоров", subject: "Запрос",
		text: []string{"Интересует монтаж под ключ."}},
	{file: "latin1-euro.eml", from: "jean@client.fr", name: "Jean Dupont", subject: "Prix €",
		text: []string{"Le prix est de 120 €, livraison comprise. Très bien."}},
	{file: "undeclared-8bit-euro.eml", from: "hans@client.de", name: "Hans Müller", subject: "Angebot",
		text: []string{"Der Preis beträgt 250 € pro Stück."}},
}

// Real-world broken mail reads as a mail program shows it (issue 15,
// items 2, 3 and 4): the sender, the subject and the text without
// mojibake or base64, every file under its name, and a parse mark only
// where something is really lost.
func TestParseRealWorldMail(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range realWorldSamples {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "broken", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			in, perr := Parse(raw, testOwn)
			if got := in.Meta[MetaParseProblem]; got != tc.problem {
				t.Errorf("parse mark %q (%q, %v), want %q", got, in.ParseError, perr, tc.problem)
			}
			if tc.problem != "" && !strings.Contains(in.ParseError, problemText[tc.problem]) {
				t.Errorf("ParseError %q does not say %q", in.ParseError, problemText[tc.problem])
			}
			if len(in.From) != 1 || in.From[0].Value != tc.from {
				t.Errorf("From = %v, want %s", in.From, tc.from)
			}
			if in.Name != tc.name {
				t.Errorf("Name = %q, want %q", in.Name, tc.name)
			}
			if in.Subject != tc.subject {
				t.Errorf("Subject = %q, want %q", in.Subject, tc.subject)
			}
			for _, s := range tc.text {
				if !strings.Contains(in.Text, s) {
					t.Errorf("Text %q does not contain %q", in.Text, s)
				}
			}
			for _, s := range tc.notText {
				if strings.Contains(in.Text, s) {
					t.Errorf("Text %q contains %q (a file's content)", in.Text, s)
				}
			}
			if (in.HTML != "") != tc.html {
				t.Errorf("HTML %q, want present %v", in.HTML, tc.html)
			}
			for _, s := range []string{in.Name, in.Subject, in.Text} {
				if strings.Contains(s, "=?") {
					t.Errorf("an encoded word left raw: %q", s)
				}
				for _, r := range s {
					if unicode.IsControl(r) && r != '\n' && r != '\t' {
						t.Errorf("control character %U in %q", r, s)
						break
					}
				}
			}
			var names []string
			for _, a := range in.Attachments {
				if a.Name == RawName && in.ParseError != "" {
					continue
				}
				names = append(names, a.Name)
				if len(a.Data) == 0 {
					t.Errorf("file %s is empty", a.Name)
				}
			}
			if strings.Join(names, "|") != strings.Join(tc.atts, "|") {
				t.Errorf("files %q, want %q", names, tc.atts)
			}
		})
	}
	files, _ := filepath.Glob("testdata/broken/*.eml")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no table row", f)
		}
	}
}

// Mending is only for broken mail: a well-formed message is read as it
// came, byte for byte.
func TestMendLeavesGoodMailAlone(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, dir := range []string{"lead", "outlook", "robots"} {
		more, _ := filepath.Glob(filepath.Join("testdata", dir, "*.eml"))
		files = append(files, more...)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw = trimLead(raw)
		if got := mendMIME(raw); string(got) != string(raw) {
			t.Errorf("%s was rewritten", f)
		}
	}
}

// Charsets: decode the valid parts, replace only the bad bytes, guess
// only without a usable label (issue 15, item 4).
func TestToUTF8(t *testing.T) {
	for _, tc := range []struct{ name, in, label, want string }{
		{"windows-1251 as labeled", "\xcf\xf0\xe8\xe2\xe5\xf2", "windows-1251", "Привет"},
		{"KOI8-R as labeled", "\xf0\xd2\xc9\xd7\xc5\xd4", "koi8-r", "Привет"},
		{"cp-1251, a misspelled label", "\xcf\xf0\xe8\xe2\xe5\xf2", "cp-1251", "Привет"},
		{"win-1251, a misspelled label", "\xcf\xf0\xe8\xe2\xe5\xf2", "WIN-1251", "Привет"},
		{"KOI8-R under an unknown label is guessed", "\xf0\xd2\xc9\xd7\xc5\xd4", "x-unknown", "Привет"},
		{"windows-1251 with no label is guessed", "\xcf\xf0\xe8\xe2\xe5\xf2", "", "Привет"},
		{"UTF-8 under a windows-1251 label stays UTF-8", "Привет", "windows-1251", "Привет"},
		{"UTF-8 with a bad byte under a KOI8-R label keeps its letters", "Пр\xffивет", "koi8-r", "Пр\uFFFDивет"},
		{"ISO-8859-1 is windows-1252: the euro sign", "120 \x80", "iso-8859-1", "120 €"},
		{"ISO-2022-JP, which looks like ASCII", "\x1b\x24\x42\x24\x33\x24\x73\x24\x4b\x24\x41\x24\x4f\x1b\x28\x42", "iso-2022-jp", "こんにちは"},
		{"Shift_JIS", "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd", "shift_jis", "こんにちは"},
		{"ASCII under an unknown label", "Order 42", "x-unknown", "Order 42"},
	} {
		if got := toUTF8([]byte(tc.in), tc.label); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
