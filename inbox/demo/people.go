package demo

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
	what                string // the layout in a sentence: "угловая кухня"
	title               string // the deal's title
	length              int    // centimetres
	price               int64  // rubles
	jk                  string // the housing estate, if new
}

// demoFemaleSurname is the female form of a Russian surname.
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

// latin is a name in Latin letters, as people write it in addresses.
func (g *demoGen) latin(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if t, ok := g.d.People.Translit[string(r)]; ok {
			b.WriteString(t)
		} else if r < 128 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// newPerson is a new client: a name, a mobile number, perhaps an email
// address and Telegram.
func (g *demoGen) newPerson() *demoPerson {
	names := g.d.People
	p := &demoPerson{female: g.chance(0.58), known: map[string]bool{}, convs: map[demoConvKey]int64{}}
	pat := names.Patronymics[g.r.IntN(len(names.Patronymics))]
	if p.female {
		p.first, p.last, p.patr = g.pick(names.Female), demoFemaleSurname(g.pick(names.Surnames)), pat[1]
	} else {
		p.first, p.last, p.patr = g.pick(names.Male), g.pick(names.Surnames), pat[0]
	}
	for {
		n := "+7" + g.pick(names.MobileCodes) + fmt.Sprintf("%07d", g.r.IntN(10000000))
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
	domains := g.d.People.EmailDomains
	for i := 0; ; i++ {
		var local string
		switch g.r.IntN(4) {
		case 0:
			local = g.latin(p.first) + "." + g.latin(p.last)
		case 1:
			local = g.latin(p.first)[:1] + g.latin(p.last)
		case 2:
			local = g.latin(p.last) + strconv.Itoa(g.between(70, 99))
		default:
			local = g.latin(p.first) + "_" + g.latin(p.last)[:min(4, len(g.latin(p.last)))] + strconv.Itoa(g.between(1, 2005))
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
		p.tgUser = g.latin(p.first) + "_" + g.latin(p.last)[:min(5, len(g.latin(p.last)))]
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

// kitchen is the kitchen a client wants, with its price.
func (g *demoGen) kitchen() demoKitchen {
	kd := g.d.Kitchen
	l := kd.layouts[g.r.IntN(len(kd.layouts))]
	f := kd.facades[g.r.IntN(len(kd.facades))]
	top := kd.Tops[g.r.IntN(len(kd.Tops))]
	k := demoKitchen{layout: l.Name, facade: f.Name, top: top.Name, what: l.What}
	k.length = g.between(kd.WallDM[0], kd.WallDM[1])*10 + l.ExtraCM
	price := f.PerMetre*int64(k.length)/100 + top.ExtraPrice + l.ExtraPrice
	price = price / 100 * 100
	k.price = min(max(price, kd.Price[0]), kd.Price[1])
	if g.chance(0.4) {
		k.jk = g.pick(g.d.People.Complexes)
	}
	k.title = demoFill(kd.Title, "kind", l.Kind, "metres", demoMetres(k.length), "facade", k.facade)
	return k
}

// demoMetres writes centimetres as metres, the Russian way: 240 → "2,4".
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
