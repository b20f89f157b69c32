package inbox

// People, their names and handles, and the kitchens they want.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/crm"
)

type demoPerson struct {
	first, last, patr string
	female            bool
	company           string // suppliers, mailers
	signature         string // an organization's mail footer
	phone             string // E.164
	email             string
	tg                int64
	tgUser            string
	tgMsg             int // message ids in the bot chat (ours and theirs)
	usesWA            bool
	known             map[string]bool   // handle kinds the system has seen
	thread            *demoThread       // the email thread in progress
	lastIn            map[string]string // the last inbound external id per channel
	manager           *crm.User

	// Filled while the script runs.
	contact int64
	convs   map[demoConvKey]int64
	convSeq []int64
}

type demoKitchen struct {
	layout, facade, top string
	length              int // centimetres
	price               int64
	jk                  string
}

var demoMaleFirst = []string{"Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Виктор", "Виталий",
	"Владимир", "Владислав", "Вячеслав", "Геннадий", "Георгий", "Григорий", "Денис", "Дмитрий", "Евгений", "Егор", "Иван", "Игорь",
	"Илья", "Кирилл", "Константин", "Леонид", "Максим", "Михаил", "Никита", "Николай", "Олег", "Павел", "Роман", "Руслан", "Сергей",
	"Станислав", "Степан", "Тимур", "Фёдор", "Юрий", "Ярослав"}

var demoFemaleFirst = []string{"Александра", "Алина", "Алёна", "Анастасия", "Анна", "Валентина", "Валерия", "Вера", "Виктория",
	"Галина", "Дарья", "Диана", "Евгения", "Екатерина", "Елена", "Елизавета", "Жанна", "Инна", "Ирина", "Карина", "Кристина", "Ксения",
	"Лариса", "Любовь", "Людмила", "Маргарита", "Марина", "Мария", "Надежда", "Наталья", "Нина", "Оксана", "Олеся", "Ольга",
	"Полина", "Светлана", "Софья", "Татьяна", "Юлия", "Яна"}

var demoPatronymics = [][2]string{{"Александрович", "Александровна"}, {"Алексеевич", "Алексеевна"}, {"Анатольевич", "Анатольевна"},
	{"Андреевич", "Андреевна"}, {"Борисович", "Борисовна"}, {"Валерьевич", "Валерьевна"}, {"Васильевич", "Васильевна"},
	{"Викторович", "Викторовна"}, {"Владимирович", "Владимировна"}, {"Геннадьевич", "Геннадьевна"}, {"Григорьевич", "Григорьевна"},
	{"Дмитриевич", "Дмитриевна"}, {"Евгеньевич", "Евгеньевна"}, {"Иванович", "Ивановна"}, {"Игоревич", "Игоревна"},
	{"Константинович", "Константиновна"}, {"Михайлович", "Михайловна"}, {"Николаевич", "Николаевна"}, {"Олегович", "Олеговна"},
	{"Павлович", "Павловна"}, {"Петрович", "Петровна"}, {"Романович", "Романовна"}, {"Сергеевич", "Сергеевна"},
	{"Юрьевич", "Юрьевна"}, {"Фёдорович", "Фёдоровна"}}

var demoSurnames = []string{"Иванов", "Смирнов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров",
	"Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев",
	"Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев",
	"Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин",
	"Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов",
	"Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов", "Крылов", "Куликов", "Карпов",
	"Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин",
	"Чернов", "Абрамов", "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков",
	"Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев", "Кудрявцев", "Прохоров",
	"Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров",
	"Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев", "Панов",
	"Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин",
	"Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков",
	"Левин", "Митрофанов", "Воронов", "Аксёнов", "Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов",
	"Елисеев", "Рыбаков", "Сафонов", "Плотников", "Дёмин", "Хохлов", "Жданов", "Руденко", "Шевченко", "Ковальчук", "Бондаренко",
	"Литвиненко", "Ким", "Цой", "Шмидт", "Миллер", "Полянский", "Вишневский", "Островский", "Садовский", "Шульга", "Зуев",
	"Пестов", "Кочетков", "Рябов", "Суханов", "Лаврентьев", "Устинов", "Хромов", "Ширяев", "Щукин", "Ярцев"}

func demoFemaleSurname(s string) string {
	for _, suf := range []string{"ский", "цкий"} {
		if strings.HasSuffix(s, suf) {
			return strings.TrimSuffix(s, "ий") + "ая"
		}
	}
	for _, suf := range []string{"ов", "ев", "ёв", "ин", "ын"} {
		if strings.HasSuffix(s, suf) {
			return s + "а"
		}
	}
	return s
}

var demoTranslit = map[rune]string{'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z",
	'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u",
	'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya"}

func demoLatin(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if t, ok := demoTranslit[r]; ok {
			b.WriteString(t)
		} else if r < 128 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var demoMobile = []string{"913", "913", "923", "923", "952", "953", "961", "983", "999", "905", "906"}

func (g *demoGen) newPerson() *demoPerson {
	p := &demoPerson{female: g.chance(0.58), known: map[string]bool{}, convs: map[demoConvKey]int64{}}
	pat := demoPatronymics[g.r.IntN(len(demoPatronymics))]
	if p.female {
		p.first, p.last, p.patr = g.pick(demoFemaleFirst), demoFemaleSurname(g.pick(demoSurnames)), pat[1]
	} else {
		p.first, p.last, p.patr = g.pick(demoMaleFirst), g.pick(demoSurnames), pat[0]
	}
	for {
		n := "+7" + g.pick(demoMobile) + fmt.Sprintf("%07d", g.r.IntN(10000000))
		if g.phones[n] {
			continue
		}
		if _, err := crm.NormalizePhone(n, "RU"); err == nil {
			g.phones[n] = true
			p.phone = n
			break
		}
	}
	if g.chance(0.45) {
		g.giveEmail(p)
	}
	if g.chance(0.35) {
		g.giveTelegram(p)
	}
	p.usesWA = g.chance(0.72)
	return p
}

func (g *demoGen) giveEmail(p *demoPerson) {
	if p.email != "" {
		return
	}
	domains := []string{"example.ru", "example.ru", "example.com", "example.net", "example.org"}
	for i := 0; ; i++ {
		var local string
		switch g.r.IntN(4) {
		case 0:
			local = demoLatin(p.first) + "." + demoLatin(p.last)
		case 1:
			local = demoLatin(p.first)[:1] + demoLatin(p.last)
		case 2:
			local = demoLatin(p.last) + strconv.Itoa(g.between(70, 99))
		default:
			local = demoLatin(p.first) + "_" + demoLatin(p.last)[:min(4, len(demoLatin(p.last)))] + strconv.Itoa(g.between(1, 2005))
		}
		if i > 3 {
			local += strconv.Itoa(i)
		}
		e := local + "@" + g.pick(domains)
		if !g.emails[e] {
			g.emails[e] = true
			p.email = e
			return
		}
	}
}

func (g *demoGen) giveTelegram(p *demoPerson) {
	if p.tg != 0 {
		return
	}
	for {
		id := int64(100000000 + g.r.IntN(1900000000))
		if id > 999999999 {
			id = 5000000000 + id // newer accounts have ten digits
		}
		if !g.tgs[id] {
			g.tgs[id] = true
			p.tg = id
			break
		}
	}
	if g.chance(0.6) {
		p.tgUser = demoLatin(p.first) + "_" + demoLatin(p.last)[:min(5, len(demoLatin(p.last)))]
	}
}

func (p *demoPerson) fullName() string { return p.last + " " + p.first + " " + p.patr }
func (p *demoPerson) v(male, female string) string {
	if p.female {
		return female
	}
	return male
}

// pbx writes numbers as the PBX reports them: digits with the country code.
func (p *demoPerson) pbx() string { return strings.TrimPrefix(p.phone, "+") }

// typed is the number as a client types it into a form.
func (g *demoGen) typed(p *demoPerson) string {
	d := strings.TrimPrefix(p.phone, "+7")
	switch g.r.IntN(5) {
	case 0:
		return "8" + d
	case 1:
		return fmt.Sprintf("+7 (%s) %s-%s-%s", d[:3], d[3:6], d[6:8], d[8:])
	case 2:
		return fmt.Sprintf("8 %s %s %s %s", d[:3], d[3:6], d[6:8], d[8:])
	case 3:
		return fmt.Sprintf("8(%s)%s-%s-%s", d[:3], d[3:6], d[6:8], d[8:])
	}
	return p.phone
}

var demoJK = []string{"ЖК «Европейский берег»", "ЖК «Оазис»", "ЖК «Никольский парк»", "ЖК «Матрёшкин двор»", "ЖК «Тихомировский»",
	"ЖК «Аквамарин»", "ЖК «Ясный берег»", "ЖК «Воздух»", "ЖК «Кварталы Немировича»", "ЖК «Сосновый бор»", "ЖК «Просторный»",
	"ЖК «Фламинго»", "ЖК «Дом на Плановой»"}

var demoDistricts = []string{"Академгородок", "Бердск", "Кольцово", "Обь", "Краснообск", "Левый берег", "Заельцовский район",
	"Октябрьский район", "Калининский район", "Первомайский район"}

var demoWeekdays = []string{"понедельник", "вторник", "среду", "четверг", "пятницу", "субботу"}

func (g *demoGen) kitchen() demoKitchen {
	layouts := []string{"прямая", "угловая", "угловая", "П-образная", "с островом", "с барной стойкой"}
	facades := []string{"ЛДСП", "МДФ в плёнке", "МДФ в плёнке", "пластик AGT", "МДФ эмаль", "МДФ эмаль", "массив ясеня"}
	perM := map[string]int64{"ЛДСП": 30000, "МДФ в плёнке": 40000, "пластик AGT": 50000, "МДФ эмаль": 62000, "массив ясеня": 82000}
	k := demoKitchen{layout: g.pick(layouts), facade: g.pick(facades), top: g.pick([]string{"ЛДСП 38 мм под камень", "компакт-плита", "кварцевый агломерат", "искусственный камень"})}
	k.length = g.between(22, 46) * 10
	if k.layout != "прямая" {
		k.length += 80
	}
	price := perM[k.facade] * int64(k.length) / 100
	switch k.top {
	case "кварцевый агломерат":
		price += 45000
	case "искусственный камень":
		price += 30000
	}
	if k.layout == "с островом" {
		price += 60000
	}
	price = price / 100 * 100
	k.price = min(max(price, 95000), 440000)
	if g.chance(0.4) {
		k.jk = g.pick(demoJK)
	}
	return k
}

func demoMetres(cm int) string {
	if cm%100 == 0 {
		return strconv.Itoa(cm / 100)
	}
	return fmt.Sprintf("%d,%d", cm/100, cm%100/10)
}

// demoRub formats whole rubles: 187400 → "187 400".
func demoRub(r int64) string {
	return strings.TrimSuffix(crm.FormatMinor(r*100), ".00")
}

func (k demoKitchen) title() string {
	name := map[string]string{"прямая": "Прямая кухня", "угловая": "Угловая кухня", "П-образная": "П-образная кухня",
		"с островом": "Кухня с островом", "с барной стойкой": "Кухня с барной стойкой"}[k.layout]
	return fmt.Sprintf("%s %s м, %s", name, demoMetres(k.length), k.facade)
}

func (k demoKitchen) what() string {
	if strings.HasPrefix(k.layout, "с ") {
		return "кухня " + k.layout
	}
	return k.layout + " кухня"
}
