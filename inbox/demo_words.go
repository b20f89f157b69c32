package inbox

// What clients and managers say.

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchboard/switchboard/crm"
)

func (g *demoGen) hello(at time.Time) string {
	switch h := at.In(g.loc).Hour(); {
	case h < 11 && g.chance(0.3):
		return "Доброе утро!"
	case h >= 18 && g.chance(0.4):
		return g.pick([]string{"Добрый вечер!", "Добрый вечер."})
	case h >= 11 && h < 18 && g.chance(0.4):
		return g.pick([]string{"Добрый день!", "Добрый день."})
	}
	return g.pick([]string{"Здравствуйте!", "Здравствуйте.", "Здравствуйте!"})
}

func (g *demoGen) question(s *demoStory, at time.Time) string {
	k, p := s.kit, s.p
	where := ""
	if s.src != nil && s.src.where != "" && g.chance(0.5) {
		where = p.v("Увидел", "Увидела") + " вашу рекламу " + s.src.where + ". "
	}
	if s.src != nil && s.src.code == "friend" && g.chance(0.7) {
		friend := g.pick(demoFemaleFirst)
		where = "Вас посоветовала " + friend + ", вы ей делали кухню. "
	}
	jk := ""
	if k.jk != "" {
		jk = " в " + k.jk
	}
	qs := []string{
		fmt.Sprintf("Интересует %s %s м, фасады %s. Сколько примерно будет стоить?", k.what(), demoMetres(k.length), k.facade),
		fmt.Sprintf("Нужна кухня в новую квартиру%s, длина стены %s м. Подскажите цены и сроки?", jk, demoMetres(k.length)),
		fmt.Sprintf("Хотим поменять кухню, %s, примерно %s м. Замер у вас бесплатный?", k.layout, demoMetres(k.length)),
		fmt.Sprintf("Сколько стоит %s %s м со столешницей %s?", k.what(), demoMetres(k.length), k.top),
		fmt.Sprintf("Можно рассчитать кухню по нашим размерам? %s м, %s.", demoMetres(k.length), k.layout),
		fmt.Sprintf("Есть ли рассрочка на кухню? Нужна %s, около %s м.", k.what(), demoMetres(k.length)),
		"Делаете кухни без ручек, с профилем Gola? Какая цена за погонный метр?",
		fmt.Sprintf("Какой срок изготовления кухни? У нас ремонт заканчивается через месяц%s.", jk),
	}
	return strings.TrimSpace(g.hello(at) + " " + where + g.pick(qs))
}

func (g *demoGen) firstAnswer(s *demoStory, m *crm.User) string {
	k, p := s.kit, s.p
	from := int64(float64(k.price)*0.85) / 1000 * 1000
	name := strings.Split(m.Name, " ")[0]
	return g.pick([]string{
		fmt.Sprintf("%s, здравствуйте! Меня зовут %s, компания «%s». Ориентировочно %s %s м с фасадами %s — от %s ₽. Точную стоимость посчитаем после замера, замер бесплатный. Когда вам удобно?",
			p.first, name, demoCompany, k.what(), demoMetres(k.length), k.facade, demoRub(from)),
		fmt.Sprintf("Здравствуйте! Это %s, компания «%s». Подскажите, пожалуйста, размеры помещения и где выводы воды и газа — пришлите план или фото, посчитаем.", name, demoCompany),
		"Добрый день! Спасибо за обращение. Кухни делаем под заказ, срок изготовления 25–30 рабочих дней. Для расчёта нужны размеры — можем бесплатно приехать на замер. Как к вам обращаться?",
	})
}

func (g *demoGen) details(s *demoStory) string {
	k := s.kit
	a, b := k.length, g.between(16, 32)*10
	return g.pick([]string{
		fmt.Sprintf("Размеры: %d на %d см, окно посередине, газовая труба слева.", a, b),
		"Отправляю фото кухни и план квартиры. Духовка и варочная встроенные, посудомойка 45 см.",
		fmt.Sprintf("Бюджет примерно %d тысяч. Стена %d см, холодильник отдельно стоит.", k.price/1000/10*10+int64(g.between(-2, 3)*10), a),
		fmt.Sprintf("Хотим фасады %s, столешницу %s. Потолки 2,7 м, шкафы до потолка.", k.facade, k.top),
		"Можно фасады без ручек? И подсветку рабочей зоны.",
	})
}

func (g *demoGen) detailsAnswer() string {
	return g.pick([]string{
		"Спасибо, получили! Предлагаем бесплатный замер — замерщик уточнит размеры и привезёт образцы фасадов.",
		"Да, так можно сделать. Чтобы посчитать точно, нужен замер: он бесплатный, занимает около часа.",
		"Принято! Сделаем предварительный расчёт и согласуем время замера.",
	})
}

func (g *demoGen) measureAsk(s *demoStory) string {
	day := g.pick(demoWeekdays)
	h := g.between(10, 17)
	return g.pick([]string{
		fmt.Sprintf("Замерщик может приехать в %s с %d до %d, вам удобно?", day, h, h+2),
		fmt.Sprintf("Можем записать вас на замер в %s, в %d:00. Подойдёт?", day, h),
	})
}

func (g *demoGen) measureOK(s *demoStory) string {
	return g.pick([]string{"Да, удобно, ждём.", "Давайте, ждём замерщика.", "Лучше после 18:00, если можно.",
		"Подходит. Адрес: " + g.pick([]string{"ул. Большевистская", "ул. Кирова", "ул. Ипподромская", "ул. Фрунзе", "Красный проспект", "ул. Родники"}) +
			fmt.Sprintf(", %d, кв. %d.", g.between(2, 180), g.between(3, 240))})
}

func (g *demoGen) proposalText(s *demoStory, amount int64) string {
	return g.pick([]string{
		fmt.Sprintf("Направляем дизайн-проект и расчёт: %s ₽ с фурнитурой Blum и монтажом. Срок изготовления — %d рабочих дней.", demoRub(amount), []int{25, 28, 30, 35}[g.r.IntN(4)]),
		fmt.Sprintf("Проект готов, отправили вам файлом. Итог %s ₽, в стоимость входят доставка и монтаж.", demoRub(amount)),
		fmt.Sprintf("По итогам замера: %s ₽. Можем сделать рассрочку на 6 месяцев без переплаты.", demoRub(amount)),
	})
}

// proposalTalk is a client's question about the proposal and the answer.
func (g *demoGen) proposalTalk(s *demoStory) (string, string) {
	budget := s.kit.price / 1000 * 85 / 100 / 10 * 10
	talk := [][2]string{
		{"А если фасады поменять на плёнку, сколько будет?", "Если фасады МДФ в плёнке, выйдет примерно на 15% дешевле. Пересчитать?"},
		{fmt.Sprintf("Можно ли уложиться в %d тысяч?", budget), fmt.Sprintf("Можно, если взять фасады попроще и столешницу из компакт-плиты — получится около %d тысяч.", budget+5)},
		{"Сколько стоит доставка в " + g.pick(demoDistricts) + "?", "Доставка по городу бесплатно, за город — 1 500 ₽."},
		{"Посудомойку и духовку можете подобрать и поставить?", "Да, технику подберём и встроим, это входит в монтаж."},
		{"Спасибо, посмотрим проект и вернёмся.", "Хорошо, будем ждать. Если появятся вопросы — пишите."},
	}[g.r.IntN(5)]
	return talk[0], talk[1]
}
