package inbox

// The setup: staff, pipeline, accounts, ad sources with entry points and spend.

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

type demoSrc struct {
	name    string
	code    string // Telegram start code and utm_source
	email   string // entry address
	numbers []string
	weight  int
	spend   [2]int64 // rubles a month, min and max
	note    string
	medium  string
	camps   []string
	id      int64
	where   string // how a client says they found us
}

var demoStaff = []struct {
	email, name string
	role        crm.Role
}{
	{"s.kuznetsov@" + demoDomain, "Сергей Кузнецов", crm.Owner},
	{"o.smirnova@" + demoDomain, "Ольга Смирнова", crm.Lead},
	{"a.volkova@" + demoDomain, "Анна Волкова", crm.Manager},
	{"d.orlov@" + demoDomain, "Дмитрий Орлов", crm.Manager},
	{"e.belova@" + demoDomain, "Екатерина Белова", crm.Manager},
}

func (g *demoGen) setup() error {
	ctx := g.ctx
	var actor *int64
	for _, s := range demoStaff {
		u, err := g.a.CreateUser(ctx, actor, s.email, s.name, s.role, g.opts.Password)
		if err != nil {
			return fmt.Errorf("inbox: demo: user %s: %w", s.email, err)
		}
		switch s.role {
		case crm.Owner:
			g.owner = u
			actor = &g.owner.ID
		case crm.Lead:
			g.lead = u
		default:
			g.managers = append(g.managers, u)
		}
	}
	// The company's own pipeline, in its language (a fresh install has the
	// English default): the owner renames it, as they would.
	stages, err := crm.Stages(g.a.db.WithContext(ctx))
	if err != nil {
		return err
	}
	if len(stages) == len(demoStageNames) {
		for i := range stages {
			stages[i].Name = demoStageNames[i]
		}
		if stages, err = crm.SetPipeline(g.a.db.WithContext(ctx), stages); err != nil {
			return fmt.Errorf("inbox: demo: pipeline: %w", err)
		}
		if _, err := crm.Audit(g.a.db.WithContext(ctx), &g.owner.ID, "pipeline.set", "pipeline", 0, stages); err != nil {
			return err
		}
	}
	for _, s := range stages {
		if s.Kind == crm.StageOpen {
			g.open = append(g.open, s)
		}
	}
	if len(g.open) == 0 {
		return errors.New("inbox: demo: the pipeline has no open stage")
	}

	g.srcs = []*demoSrc{
		{name: "Яндекс Директ", code: "yandex", email: "sales+yandex@" + demoDomain, numbers: []string{"+73832091540", "+73832091541"},
			weight: 34, spend: [2]int64{135000, 185000}, note: "пополнение рекламного кабинета", medium: "cpc",
			camps: []string{"kuhni_nsk_poisk", "kuhni_rsya", "kuhni_na_zakaz_retarget"}, where: "в Яндексе"},
		{name: "Авито", code: "avito", email: "sales+avito@" + demoDomain, numbers: []string{"+73832091542"},
			weight: 24, spend: [2]int64{42000, 61000}, note: "тариф «Расширенный» и продвижение объявлений", medium: "referral",
			camps: []string{"avito_profile"}, where: "на Авито"},
		{name: "ВКонтакте", code: "vk", email: "sales+vk@" + demoDomain, numbers: []string{"+73832091543", "+73832091546"},
			weight: 14, spend: [2]int64{32000, 52000}, note: "таргетированная реклама", medium: "social",
			camps: []string{"vk_novostroyki", "vk_lookalike", "vk_gola_bez_ruchek"}, where: "во ВКонтакте"},
		{name: "2ГИС", code: "2gis", email: "sales+2gis@" + demoDomain, numbers: []string{"+73832091544"},
			weight: 12, spend: [2]int64{18500, 18500}, note: "рекламное размещение в справочнике", medium: "referral",
			camps: []string{"2gis_card"}, where: "в 2ГИС"},
		{name: "Сарафан/рекомендации", code: "friend", email: "info@" + demoDomain, numbers: []string{demoMainNumber},
			weight: 16, spend: [2]int64{10000, 25000}, note: "бонусы клиентам за рекомендации (5 000 ₽ за договор)", medium: "",
			camps: nil, where: ""},
	}

	mailSettings, _ := json.Marshal(map[string]any{
		"address": "sales@" + demoDomain, "name": "Отдел продаж «" + demoCompany + "»",
		"aliases":   []string{"info@" + demoDomain, "snab@" + demoDomain},
		"imap_host": "imap.example.com", "imap_port": 993, "imap_security": "tls",
		"smtp_host": "smtp.example.com", "smtp_port": 465, "smtp_security": "tls",
		"folders": []string{"INBOX"}, "initial_days": 30,
		"signature": "Отдел продаж «" + demoCompany + "»\n+7 383 209-15-00\n" + demoSite,
	})
	g.webSecret = g.hex(32)
	type accSpec struct {
		dst      *crm.Account
		channel  string
		name     string
		settings string
		secret   string
	}
	specs := []accSpec{
		{&g.phoneAcc, "phone", "Телефония (виртуальная АТС)", `{"provider":"demo","main_number":"+7 383 209-15-00","record_calls":true}`, ""},
		{&g.mailAcc, "email", "Почта отдела продаж", string(mailSettings), "demo-app-password"},
		{&g.tgAcc, "telegram", "Telegram-бот @" + demoBot, `{"mode":"polling"}`, "1234567890:DEMO-not-a-real-bot-token"},
		{&g.waAcc, "whatsapp", "WhatsApp +7 913 900-11-22", `{"phone":"` + demoWANumber + `"}`, ""},
		{&g.webAcc, "web", "Сайт " + demoDomain, `{"site":"` + demoSite + `"}`, g.webSecret},
	}
	return g.a.change(ctx, func(tx *gorm.DB, ev *events) error {
		owner := &g.owner.ID
		for _, s := range specs {
			name := s.name
			in := crm.AccountInput{Channel: s.channel, Name: &name, Settings: json.RawMessage(s.settings)}
			if s.secret != "" {
				sec := s.secret
				in.Secret = &sec
			}
			acc, err := crm.SaveAccount(tx, g.a.box, 0, in)
			if err != nil {
				return fmt.Errorf("inbox: demo: account %s: %w", s.name, err)
			}
			if _, err := crm.Audit(tx, owner, "account.create", "account", acc.ID, map[string]any{"name": acc.Name, "channel": acc.Channel, "secret_changed": s.secret != ""}); err != nil {
				return err
			}
			*s.dst = acc
		}
		ep := func(acc crm.Account, addr string, auto bool, src *int64) (crm.EntryPoint, error) {
			e, err := crm.CreateEntryPoint(tx, acc.ID, addr, auto, src, owner)
			if err != nil {
				return e, fmt.Errorf("inbox: demo: entry point %s: %w", addr, err)
			}
			g.epIDs = append(g.epIDs, e.ID)
			_, err = crm.Audit(tx, owner, "entry_point.create", "entry_point", e.ID, map[string]any{"account_id": acc.ID, "address": addr, "auto_deal": auto, "ad_source_id": src})
			return e, err
		}
		var shared crm.EntryPoint
		for _, s := range g.srcs {
			src, err := crm.CreateAdSource(tx, s.name)
			if err != nil {
				return err
			}
			s.id = src.ID
			if _, err := crm.Audit(tx, owner, "ad_source.create", "ad_source", src.ID, map[string]any{"name": s.name}); err != nil {
				return err
			}
			for _, n := range s.numbers {
				e, err := ep(g.phoneAcc, n, true, &s.id)
				if err != nil {
					return err
				}
				if n == "+73832091546" {
					shared = e
				}
			}
			for _, x := range []struct {
				acc  crm.Account
				addr string
			}{{g.mailAcc, s.email}, {g.tgAcc, s.code}, {g.webAcc, s.code}} {
				if _, err := ep(x.acc, x.addr, true, &s.id); err != nil {
					return err
				}
			}
			// Spend, by period.
			for i, p := range g.periods() {
				amount := s.spend[0] + g.r.Int64N(s.spend[1]-s.spend[0]+1)
				amount = amount / 100 * 100 * 100 // whole hundreds of rubles, in kopecks
				sp := crm.Spend{AdSourceID: s.id, PeriodStart: p[0], PeriodEnd: p[1], Amount: amount, Currency: g.a.opts.Currency,
					Note: fmt.Sprintf("%s, период %d: %s", s.note, i+1, demoPeriodText(p))}
				if err := crm.AddSpend(tx, &sp); err != nil {
					return err
				}
				if _, err := crm.Audit(tx, owner, "spend.add", "ad_source", s.id, sp); err != nil {
					return err
				}
			}
		}
		// Addresses without a source: the mailbox itself (where replies to
		// our replies arrive), the purchasing alias (no deals from
		// suppliers), the WhatsApp number (printed everywhere).
		if _, err := ep(g.mailAcc, "sales@"+demoDomain, true, nil); err != nil {
			return err
		}
		if _, err := ep(g.mailAcc, "snab@"+demoDomain, false, nil); err != nil {
			return err
		}
		if _, err := ep(g.waAcc, demoWANumber, true, nil); err != nil {
			return err
		}
		// The VK number goes to 2GIS half-way through.
		b, err := crm.Bind(tx, shared.ID, &g.srcs[3].id, g.rebind, owner)
		if err != nil {
			return err
		}
		if _, err := crm.Audit(tx, owner, "entry_point.bind", "entry_point", shared.ID, b); err != nil {
			return err
		}
		return nil
	})
}

// periods splits the demo into months of 30 days (the last may be shorter),
// as dates in the company's time zone.
// demoStageNames rename the default pipeline (three open stages, won, lost).
var demoStageNames = []string{"Новая заявка", "Замер", "Коммерческое предложение", "Выиграна", "Проиграна"}

func (g *demoGen) periods() [][2]time.Time {
	day := func(t time.Time) time.Time {
		l := t.In(g.loc)
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	}
	first, last := day(g.start), day(g.end)
	var out [][2]time.Time
	for p := first; !p.After(last); p = p.AddDate(0, 0, 30) {
		e := p.AddDate(0, 0, 29)
		if e.After(last) || last.Sub(e) < 5*24*time.Hour {
			e = last
		}
		out = append(out, [2]time.Time{p, e})
		if e.Equal(last) {
			break
		}
	}
	return out
}

func demoPeriodText(p [2]time.Time) string {
	return p[0].Format("02.01.2006") + "–" + p[1].Format("02.01.2006")
}

func (g *demoGen) disableAccounts() error {
	return g.a.change(g.ctx, func(tx *gorm.DB, ev *events) error {
		off := false
		for _, acc := range []*crm.Account{&g.mailAcc, &g.tgAcc, &g.waAcc} {
			a, err := crm.SaveAccount(tx, g.a.box, acc.ID, crm.AccountInput{Enabled: &off})
			if err != nil {
				return err
			}
			*acc = a
			if _, err := crm.Audit(tx, &g.owner.ID, "account.edit", "account", a.ID, map[string]any{"name": a.Name, "channel": a.Channel, "secret_changed": false, "enabled": false}); err != nil {
				return err
			}
		}
		return nil
	})
}
