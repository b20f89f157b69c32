package inbox

// The later chapters of a lead's story, and the mail that is no lead at all.

import (
	"fmt"
	"time"
)

func (g *demoGen) win(s *demoStory, t time.Time, amount int64) time.Time {
	fc := g.follow(s)
	t, _ = g.exchange(s, fc, g.awake(t.Add(g.days(1, 14))), g.pick([]string{
		"Нас всё устраивает, готовы заключить договор.", "Давайте оформлять. Когда можно подписать договор?",
		"Согласны на этот вариант. Что нужно для договора?"}),
		fmt.Sprintf("Отлично! Ждём вас в салоне %s в %s, подпишем договор. Предоплата 50%%.", demoSalon, g.pick(demoWeekdays)))
	if fc != "phone" && g.chance(0.6) {
		t, _ = g.exchange(s, fc, g.awake(t.Add(g.days(1, 3))), "Предоплату перевели, чек прислать?",
			fmt.Sprintf("Спасибо, оплата пришла! Заказ передан в производство, монтаж ориентировочно %s.", g.pick([]string{"через месяц", "через 4–5 недель", "через 5–6 недель"})))
	}
	won := g.act(s, g.work(t.Add(g.mins(10, 240))), demoWon)
	won.amount = min(max(amount*int64(g.between(97, 104))/100/100*100, 90000), 450000)
	if s.twoOpen && g.chance(0.5) {
		w2 := g.act(s, won.at.Add(2*time.Minute), demoWon)
		w2.second, w2.amount = true, int64(g.between(900, 1600))*100
	}
	s.twoOpen = false
	g.act(s, won.at.Add(5*time.Minute), demoClose)
	return won.at
}

func (g *demoGen) lose(s *demoStory, t time.Time, reason string) time.Time {
	fc := g.follow(s)
	t = g.awake(t.Add(g.days(2, 20)))
	if g.chance(0.75) {
		var in, out string
		switch reason {
		case demoExpensive:
			in = g.pick([]string{"Для нас дороговато, будем искать дешевле.", "Спасибо, но бюджет не позволяет.", "Нам насчитали дешевле в другом месте."})
			out = "Понимаем. Можем предложить вариант с фасадами из ЛДСП — примерно на 25% дешевле. Если интересно — напишите."
		case demoCompetitor:
			in = g.pick([]string{"Спасибо, мы уже заказали в другой фабрике.", "Выбрали другую компанию, извините.", "Решили заказать в Леруа, там быстрее."})
			out = "Жаль! Если что-то понадобится — обращайтесь."
		default:
			in = g.pick([]string{"Мы решили пока отложить ремонт, вернёмся весной.", "Пока неактуально, спасибо.", "Передумали менять кухню, извините."})
			out = "Хорошо, будем рады помочь, когда вернётесь к вопросу."
		}
		t, _ = g.exchange(s, fc, t, in, out)
	}
	lost := g.act(s, g.work(t.Add(g.mins(10, 300))), demoLost)
	lost.reason = reason
	s.twoOpen = false
	g.act(s, lost.at.Add(time.Minute), demoClose)
	return lost.at
}

// secondDeal: the client asks for a second piece of furniture; the manager
// opens a deal from that message. Until one deal closes, the client's
// touches need linking by hand.
func (g *demoGen) secondDeal(s *demoStory, t time.Time) time.Time {
	fc := g.follow(s)
	item := [][2]string{{"шкаф-купе в прихожую", "Шкаф-купе в прихожую"}, {"шкаф-купе в спальню", "Шкаф-купе в спальню"},
		{"гардеробную", "Гардеробная"}, {"тумбу под раковину в ванную", "Тумба под раковину в ванную"}, {"прихожую", "Прихожая"}}[g.r.IntN(5)]
	what := item[0]
	size := demoMetres(g.between(14, 30) * 10)
	t = g.awake(t.Add(g.hours(3, 72)))
	in := g.say(s, fc, t, fmt.Sprintf("И ещё: посчитайте, пожалуйста, %s, %s м.", what, size))
	nd := g.act(s, g.work(t.Add(g.mins(10, 120))), demoNewDeal)
	nd.ref, nd.second = in, true
	nd.title = item[1] + ", " + size + " м"
	t = g.reply(s, fc, nd.at.Add(g.mins(1, 10)), "Да, посчитаем отдельно. Замерщик посмотрит и "+what+" в тот же визит.")
	s.twoOpen = true
	st := g.act(s, t.Add(g.mins(20, 300)), demoStage)
	st.stage, st.second = 1, true
	return t
}

// comeBack is a client returning after the deal closed: a warranty
// question (not a sale) or a new order (a new deal from the touch).
func (g *demoGen) comeBack(prev *demoStory, t time.Time, won bool) {
	s := &demoStory{p: prev.p, src: prev.src, first: prev.first, kit: g.kitchen(), dropped: prev.dropped}
	fc := g.follow(s)
	t = g.awake(t.Add(g.days(7, 45)))
	if won && g.chance(0.5) {
		in := g.say(s, fc, t, g.pick([]string{
			"Здравствуйте! Вы нам ставили кухню. Разболталась петля на навесном шкафу, можно прислать мастера?",
			"Добрый день, у нас возле мойки вздулась кромка на столешнице. Это гарантийный случай?",
			"Не закрывается до конца ящик с доводчиком, подскажите, что сделать?"}))
		if fc != "phone" {
			t = g.reply(s, fc, g.work(t.Add(g.mins(10, 180))), "Здравствуйте! Передали заявку сервисному мастеру, он свяжется с вами и согласует время.")
		}
		n := g.act(s, g.work(t.Add(g.mins(5, 600))), demoNotASale)
		n.ref, n.reason = in, demoService
		g.act(s, n.at.Add(g.days(1, 4)), demoClose)
		return
	}
	text := "Здравствуйте! Мы снова вернулись к вопросу кухни. Ваш расчёт ещё актуален?"
	title := "Повторное обращение: " + s.kit.title()
	if won {
		text = "Здравствуйте! Кухней очень довольны, теперь хотим шкаф-купе в прихожую. Можно рассчитать?"
		title = "Шкаф-купе в прихожую (повторный клиент)"
	}
	in := g.say(s, fc, t, text)
	nd := g.act(s, g.work(t.Add(g.mins(10, 300))), demoNewDeal)
	nd.ref, nd.title = in, title
	if fc != "phone" {
		t = g.reply(s, fc, nd.at.Add(g.mins(1, 15)), "Здравствуйте! Рады, что вы снова с нами. Запишем на замер — когда удобно?")
	}
	if g.chance(0.6) {
		g.act(s, nd.at.Add(g.hours(2, 48)), demoStage).stage = 1
	}
	if won && g.chance(0.5) {
		w := g.act(s, g.work(t.Add(g.days(5, 20))), demoWon)
		w.amount = int64(g.between(900, 1700)) * 100
		g.act(s, w.at.Add(time.Minute), demoClose)
	}
}

var demoSuppliers = []struct{ company, first, last, email string }{
	{"ООО «СибФурнитура»", "Артём", "Захаров", "opt@sibfurnitura.example"},
	{"ТД «Плита-Опт»", "Наталья", "Гусева", "sales@plita-opt.example"},
	{"Камень-Декор НСК", "Игорь", "Мельников", "info@kamen-dekor.example"},
	{"ООО «Фасад-Профи»", "Юлия", "Ершова", "zakaz@fasad-profi.example"},
	{"ТК «Груз-54»", "Олег", "Сафронов", "partner@gruz54.example"},
}

var demoSupplierMail = [][2]string{
	{"Коммерческое предложение: фурнитура Blum и Hettich со склада в Новосибирске", "Добрый день! Предлагаем фурнитуру Blum и Hettich со склада в Новосибирске, отгрузка в день заказа. Для мебельных производств — скидка 12% от прайса. Прайс во вложении."},
	{"Прайс-лист на ЛДСП и кромку", "Здравствуйте! Направляем актуальный прайс на ЛДСП Egger и Kronospan, кромку ПВХ. Поставки от одного листа, распил в размер."},
	{"Столешницы из кварца — оптовые цены", "Добрый день! Изготавливаем столешницы из кварцевого агломерата по вашим чертежам за 7 дней. Готовы обсудить оптовые условия."},
	{"Фасады МДФ под заказ, срок 10 дней", "Здравствуйте! Производим фасады МДФ в эмали и плёнке для мебельных компаний. Пришлём образцы бесплатно."},
	{"Доставка мебели по НСО — предложение о сотрудничестве", "Добрый день! Доставим и поднимем мебель по Новосибирску и области, есть грузчики-сборщики. Договор, оплата по счёту."},
}

// supplier writes to the purchasing address, which opens no deals; the
// lead marks it not a sale.
func (g *demoGen) supplier(at time.Time) {
	i := g.r.IntN(len(demoSuppliers))
	sp := demoSuppliers[i]
	p := g.orgPerson(sp.company, sp.first, sp.last, sp.email)
	s := &demoStory{p: p, first: "email", byLead: true, dropped: at.Before(g.start)}
	p.thread = nil
	m := demoSupplierMail[g.r.IntN(len(demoSupplierMail))]
	in := g.mailIn(s, at, m[0], m[1], "snab@"+demoDomain, false)
	if g.chance(0.9) {
		n := g.act(s, g.work(at.Add(g.hours(1, 40))), demoNotASale)
		n.ref, n.reason = in, demoSupplier
		g.act(s, n.at.Add(time.Minute), demoClose)
	}
}

var demoMailers = [][2]string{
	{"Вебинар: как увеличить продажи мебели в 2 раза", "Приглашаем на бесплатный вебинар для владельцев мебельного бизнеса. Регистрация по ссылке."},
	{"Ваш сайт в ТОП-10 Яндекса за 14 дней", "Выведем сайт в ТОП-10 по запросам «кухни на заказ». Гарантия результата. Ответьте на письмо — пришлём аудит."},
	{"Тренды кухонь 2026: подборка для производителей", "В этом выпуске: фасады без ручек, тёмные оттенки, кварц вместо ламината. Чтобы отписаться, перейдите по ссылке."},
	{"Базы клиентов для мебельного бизнеса", "Актуальные базы новостроек Новосибирска: контакты собственников. Скидка 30% до пятницы."},
}

// mailer is bulk mail to the address on the site: flagged automated, so it
// opens no deal; the lead marks it spam.
func (g *demoGen) mailer(at time.Time) {
	i := g.r.IntN(len(demoMailers))
	p := g.orgPerson("Бизнес-Рост", "Команда", "Бизнес-Роста", "news@biz-rost.example")
	p.signature = "\n\n—\nБизнес-Рост: рассылка для владельцев бизнеса. Вы получили это письмо, потому что ваш адрес есть на сайте. Отписаться: https://biz-rost.example/unsubscribe"
	s := &demoStory{p: p, first: "email", byLead: true, dropped: at.Before(g.start)}
	p.thread = nil
	in := g.mailIn(s, at, demoMailers[i][0], demoMailers[i][1], "sales@"+demoDomain, true)
	if g.chance(0.85) {
		n := g.act(s, g.work(at.Add(g.hours(1, 48))), demoNotASale)
		n.ref, n.reason = in, demoSpam
		g.act(s, n.at.Add(time.Minute), demoClose)
	}
}

// orgPerson is the one person behind an organization's address.
func (g *demoGen) orgPerson(company, first, last, email string) *demoPerson {
	if g.orgs == nil {
		g.orgs = map[string]*demoPerson{}
	}
	if p := g.orgs[email]; p != nil {
		return p
	}
	p := &demoPerson{company: company, first: first, last: last, email: email, known: map[string]bool{}, convs: map[demoConvKey]int64{},
		signature: "\n\nС уважением,\n" + first + " " + last + "\n" + company}
	g.orgs[email] = p
	return p
}
