package crm

import "testing"

func TestDealTitle(t *testing.T) {
	for _, c := range []struct {
		name, channel, subject, text, page, fallback, want string
	}{
		{"an email's subject, without the reply prefixes", "email", "RE: Fwd: Ответ: Кухня на заказ", "Добрый день", "", "Анна", "Кухня на заказ"},
		{"an email without a subject: its first line", "email", "  ", "Нужен шкаф\nс зеркалом", "", "Анна", "Нужен шкаф"},
		{"a web form: its page", "web", "okna-nsk.ru", "Перезвоните", "https://www.okna-nsk.ru/balkony/?utm_source=yandex", "", "okna-nsk.ru/balkony"},
		{"a web form without a page: the message", "web", "", "Перезвоните", "not a url", "", "Перезвоните"},
		{"a message: its first line", "telegram", "", "  Хочу   шкаф-купе\nразмеры ниже", "", "Дина", "Хочу шкаф-купе"},
		{"a /start code is no title", "telegram", "", "/start ya1", "", "Дина", "Дина"},
		{"a call: the contact", "phone", "", "", "", "Анна", "Анна"},
		{"a call from an unknown number: the number as people read it", "phone", "", "", "", "79618324011", "+7 961 832-40-11"},
		{"a long text ends at a word", "whatsapp", "", "Здравствуйте, интересует угловая кухня из массива дуба с островом и барной стойкой, примерно четыре метра", "", "", "Здравствуйте, интересует угловая кухня из массива дуба с островом и барной…"},
	} {
		if got := DealTitle(c.channel, c.subject, c.text, c.page, c.fallback); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
