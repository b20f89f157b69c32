package demo

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/switchboard/switchboard/crm"
)

// The demo's words and tables live in demodata/*.json: the company, its
// staff, accounts and ad sources (company.json); the names, phone codes
// and places people have (people.json); the kitchens sold (kitchen.json);
// what clients and managers say (dialogue.json); the mail from suppliers
// and mailers (mail.json).
//
// A text may hold placeholders such as {metres}, which the code fills
// (demoFill); TestDemoDataPlaceholders lists the ones each text may use.
// A list is drawn from uniformly, so a phrase that appears twice is said
// twice as often; a "weight" says the same of a kitchen option. Reordering
// or resizing a list changes the stories a seed tells.

//go:embed data/*.json
var demoFiles embed.FS

// demoData is the parsed content of demodata; nothing changes it after
// loading.
type demoData struct {
	Company  demoCompanyData
	People   demoPeopleData
	Kitchen  demoKitchenData
	Dialogue demoDialogue
	Mail     demoMailData
	Showcase demoShowcaseData
}

type demoCompanyData struct {
	Name           string            `json:"name"`
	City           string            `json:"city"`
	Domain         string            `json:"domain"`
	Site           string            `json:"site"`
	Mailbox        string            `json:"mailbox"`    // where clients write; replies to our replies arrive here
	Purchasing     string            `json:"purchasing"` // suppliers' address, opens no deals
	MainNumber     string            `json:"main_number"`
	WhatsApp       string            `json:"whatsapp_number"`
	Staff          []demoStaffData   `json:"staff"`
	Stages         []string          `json:"stages"` // the default pipeline, renamed
	Accounts       []demoAccountData `json:"accounts"`
	FirstChannels  []string          `json:"first_channels"` // what a source's "channels" weigh
	Sources        []demoSourceData  `json:"sources"`
	UnsourcedShare int               `json:"unsourced_weight"` // clients who write to WhatsApp, source unknown
	Rebind         struct {
		Number string `json:"number"`
		From   string `json:"from"` // source codes
		To     string `json:"to"`
	} `json:"rebind"` // the tracking number that moves to another source half-way
	SpendNote   string            `json:"spend_note"`
	SitePages   []string          `json:"site_pages"`
	EntryLabels map[string]string `json:"entry_labels"` // by channel, in the summary
	Reasons     map[string]string `json:"reasons"`      // by key (demoExpensive…), as the team writes them
}

type demoStaffData struct {
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Role  crm.Role `json:"role"`
	Share int      `json:"share"` // a manager's share of new clients
}

type demoAccountData struct {
	Channel  string          `json:"channel"`
	Name     string          `json:"name"`
	Settings json.RawMessage `json:"settings"`
	Secret   string          `json:"secret"` // the web account's is made per run
}

type demoSourceData struct {
	Name      string   `json:"name"`
	Code      string   `json:"code"` // Telegram start code and utm_source
	Email     string   `json:"email"`
	Numbers   []string `json:"numbers"`
	Weight    int      `json:"weight"`
	Channels  []int    `json:"channels"` // weights of the first touch's channel, as first_channels
	Spend     [2]int64 `json:"spend"`    // rubles a month, min and max
	Note      string   `json:"note"`
	Medium    string   `json:"medium"`
	Campaigns []string `json:"campaigns"`
	Where     string   `json:"where"`    // how a client says they found us
	Referral  bool     `json:"referral"` // clients come recommended by a friend
	// WinWeight is how often its leads buy, as the weight of a won
	// outcome among the outcomes' weights (0: the usual 12).
	WinWeight int `json:"win_weight"`
}

type demoPeopleData struct {
	Male         []string          `json:"male"`
	Female       []string          `json:"female"`
	Patronymics  [][2]string       `json:"patronymics"` // male, female
	Surnames     []string          `json:"surnames"`    // male forms
	Translit     map[string]string `json:"translit"`
	MobileCodes  []string          `json:"mobile_codes"`
	EmailDomains []string          `json:"email_domains"`
	Complexes    []string          `json:"complexes"` // new housing estates
	Districts    []string          `json:"districts"`
	Streets      []string          `json:"streets"`
}

type demoKitchenData struct {
	Layouts []demoLayout `json:"layouts"`
	Facades []demoFacade `json:"facades"`
	Tops    []struct {
		Name       string `json:"name"`
		ExtraPrice int64  `json:"extra_price"`
	} `json:"tops"`
	WallDM         [2]int   `json:"wall_dm"` // the wall's length in decimetres, min and max
	Price          [2]int64 `json:"price"`   // rubles, min and max
	Title          string   `json:"title"`   // the deal's title
	LeadDays       []int    `json:"lead_days"`
	OtherFurniture []struct {
		What  string `json:"what"`  // as a client asks for it
		Title string `json:"title"` // the deal's title
	} `json:"other_furniture"`

	// Drawn from: each option as often as its weight.
	layouts []demoLayout
	facades []demoFacade
}

type demoFacade struct {
	Name     string `json:"name"`
	Weight   int    `json:"weight"`
	PerMetre int64  `json:"per_metre"` // rubles
}

type demoLayout struct {
	Name       string `json:"name"`
	Weight     int    `json:"weight"`
	Kind       string `json:"kind"` // in a title
	What       string `json:"what"` // in a sentence
	ExtraCM    int    `json:"extra_cm"`
	ExtraPrice int64  `json:"extra_price"`
}

type demoGendered struct {
	Male   string `json:"male"`
	Female string `json:"female"`
}

type demoTalk struct {
	Client []string `json:"client"`
	Answer string   `json:"answer"`
}

type demoDialogue struct {
	Weekdays  []string `json:"weekdays"` // after "в"
	Greetings struct {
		Morning string   `json:"morning"`
		Day     []string `json:"day"`
		Evening []string `json:"evening"`
		Any     []string `json:"any"`
	} `json:"greetings"`
	SawAd           demoGendered `json:"saw_ad"`
	Recommended     string       `json:"recommended"`
	InComplex       string       `json:"in_complex"`
	Questions       []string     `json:"questions"`
	FirstAnswers    []string     `json:"first_answers"`
	Details         []string     `json:"details"`
	DetailsAnswers  []string     `json:"details_answers"`
	MeasureQuestion string       `json:"measure_question"`
	MeasureOffers   []string     `json:"measure_offers"`
	MeasureReplies  []string     `json:"measure_replies"`
	Proposals       []string     `json:"proposals"`
	ProposalTalk    [][2]string  `json:"proposal_talk"` // the client's question, the answer
	FormMessages    []string     `json:"form_messages"`
	FirstSubjects   []string     `json:"first_subjects"`
	ComplexSubject  string       `json:"complex_subject"`
	LaterSubjects   []string     `json:"later_subjects"`
	Signature       string       `json:"signature"`
	Nudges          []string     `json:"nudges"`
	LaterQuestions  []string     `json:"later_questions"`
	StillOpen       []string     `json:"still_open"`
	Win             struct {
		Agree      []string `json:"agree"`
		Invite     string   `json:"invite"`
		Paid       string   `json:"paid"`
		PaidAnswer string   `json:"paid_answer"`
		Install    []string `json:"install"`
	} `json:"win"`
	Lose struct {
		Expensive  demoTalk `json:"expensive"`
		Competitor demoTalk `json:"competitor"`
		Other      demoTalk `json:"other"`
	} `json:"lose"`
	SecondDeal struct {
		Ask    string `json:"ask"`
		Title  string `json:"title"`
		Answer string `json:"answer"`
	} `json:"second_deal"`
	Warranty demoTalk `json:"warranty"`
	Return   struct {
		Again      string `json:"again"`
		AgainTitle string `json:"again_title"`
		More       string `json:"more"`
		MoreTitle  string `json:"more_title"`
		Answer     string `json:"answer"`
	} `json:"return"`
}

type demoSender struct {
	Company   string `json:"company"`
	First     string `json:"first"`
	Last      string `json:"last"`
	Email     string `json:"email"`
	Signature string `json:"signature"`
}

type demoLetter struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

type demoMailData struct {
	Suppliers       []demoSender `json:"suppliers"`
	SupplierLetters []demoLetter `json:"supplier_letters"`
	Signature       string       `json:"signature"` // an organization's, unless it has its own
	Mailer          demoSender   `json:"mailer"`
	MailerLetters   []demoLetter `json:"mailer_letters"`
}

// demoShowcaseData is what the showcase stories say (showcase.go): a
// client's colleague answering in the client's thread, a supplier's mail
// with its logo inline, a newsletter with remote images, mail with no
// readable sender, and clients from Belarus.
type demoShowcaseData struct {
	Colleagues []struct {
		Client          demoSender `json:"client"`
		Colleague       demoSender `json:"colleague"`
		Subject         string     `json:"subject"`
		Question        string     `json:"question"`
		Answer          string     `json:"answer"`
		ColleagueText   string     `json:"colleague_text"`
		ColleagueAnswer string     `json:"colleague_answer"`
	} `json:"colleagues"`
	LogoMail struct {
		Sender  demoSender `json:"sender"`
		Subject string     `json:"subject"`
		Body    string     `json:"body"`
		Logo    string     `json:"logo"` // the inline picture's file name
	} `json:"logo_mail"`
	RemoteMail struct {
		Sender      demoSender `json:"sender"`
		Subject     string     `json:"subject"`
		Body        string     `json:"body"`
		Banner      string     `json:"banner"` // a remote image's URL
		Unsubscribe string     `json:"unsubscribe"`
	} `json:"remote_mail"`
	Unreadable []struct {
		Kind    string `json:"kind"` // bounce (null sender), garbage (a From with no address), none (no From)
		From    string `json:"from"` // garbage's From header
		Subject string `json:"subject"`
		Body    string `json:"body"`
	} `json:"unreadable"`
	Foreign struct {
		Entry  string `json:"entry"`  // the web entry point of the company's Belarusian page
		Region string `json:"region"` // its phone region
		Page   string `json:"page"`
		Leads  []struct {
			First   string `json:"first"`
			Last    string `json:"last"`
			Phone   string `json:"phone"`   // as typed, the national way
			Country string `json:"country"` // what the form sends; "": the page's entry point tells
			Message string `json:"message"`
			Title   string `json:"title"` // the deal's
		} `json:"leads"`
	} `json:"foreign"`
}

// demoTexts is the demo data, read on first use. The files are compiled
// in, so an error is a bug in them (TestDemoDataLoads) and panics.
var demoTexts = sync.OnceValue(func() *demoData {
	d, err := loadDemoData()
	if err != nil {
		panic(err)
	}
	return d
})

func loadDemoData() (*demoData, error) {
	d := &demoData{}
	for _, f := range []struct {
		name string
		dst  any
	}{
		{"company.json", &d.Company}, {"people.json", &d.People}, {"kitchen.json", &d.Kitchen},
		{"dialogue.json", &d.Dialogue}, {"mail.json", &d.Mail}, {"showcase.json", &d.Showcase},
	} {
		b, err := demoFiles.ReadFile("data/" + f.name)
		if err != nil {
			return nil, fmt.Errorf("inbox: demo data: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f.dst); err != nil {
			return nil, fmt.Errorf("inbox: demo data: %s: %w", f.name, err)
		}
	}
	// Settings are stored as the handlers store them: compact.
	for i, a := range d.Company.Accounts {
		var buf bytes.Buffer
		if err := json.Compact(&buf, a.Settings); err != nil {
			return nil, fmt.Errorf("inbox: demo data: account %s: %w", a.Name, err)
		}
		d.Company.Accounts[i].Settings = buf.Bytes()
	}
	k := &d.Kitchen
	k.layouts = demoWeighted(k.Layouts, func(l demoLayout) int { return l.Weight })
	k.facades = demoWeighted(k.Facades, func(f demoFacade) int { return f.Weight })
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("inbox: demo data: %w", err)
	}
	return d, nil
}

// check refuses data the code cannot use: an empty list to draw from, a
// missing reason or account, weights that do not fit.
func (d *demoData) check() error {
	var errs []error
	for name, n := range map[string]int{
		"male": len(d.People.Male), "female": len(d.People.Female), "patronymics": len(d.People.Patronymics),
		"surnames": len(d.People.Surnames), "mobile_codes": len(d.People.MobileCodes), "email_domains": len(d.People.EmailDomains),
		"complexes": len(d.People.Complexes), "districts": len(d.People.Districts), "streets": len(d.People.Streets),
		"layouts": len(d.Kitchen.layouts), "facades": len(d.Kitchen.facades), "tops": len(d.Kitchen.Tops),
		"lead_days": len(d.Kitchen.LeadDays), "other_furniture": len(d.Kitchen.OtherFurniture),
		"site_pages": len(d.Company.SitePages), "weekdays": len(d.Dialogue.Weekdays),
		"suppliers": len(d.Mail.Suppliers), "supplier_letters": len(d.Mail.SupplierLetters), "mailer_letters": len(d.Mail.MailerLetters),
	} {
		if n == 0 {
			errs = append(errs, fmt.Errorf("%s: empty", name))
		}
	}
	dl := d.Dialogue
	for name, list := range map[string][]string{
		"greetings.day": dl.Greetings.Day, "greetings.evening": dl.Greetings.Evening, "greetings.any": dl.Greetings.Any,
		"questions": dl.Questions, "first_answers": dl.FirstAnswers, "details": dl.Details, "details_answers": dl.DetailsAnswers,
		"measure_offers": dl.MeasureOffers, "measure_replies": dl.MeasureReplies, "proposals": dl.Proposals,
		"form_messages": dl.FormMessages, "first_subjects": dl.FirstSubjects, "later_subjects": dl.LaterSubjects,
		"nudges": dl.Nudges, "later_questions": dl.LaterQuestions, "still_open": dl.StillOpen, "win.agree": dl.Win.Agree,
		"win.install": dl.Win.Install, "lose.expensive": dl.Lose.Expensive.Client, "lose.competitor": dl.Lose.Competitor.Client,
		"lose.other": dl.Lose.Other.Client, "warranty": dl.Warranty.Client,
	} {
		if len(list) == 0 {
			errs = append(errs, fmt.Errorf("dialogue %s: empty", name))
		}
	}
	if len(dl.ProposalTalk) == 0 {
		errs = append(errs, errors.New("dialogue proposal_talk: empty"))
	}
	for _, k := range []string{demoExpensive, demoCompetitor, demoNoAnswer, demoChanged, demoSpam, demoSupplier, demoService} {
		if d.Company.Reasons[k] == "" {
			errs = append(errs, fmt.Errorf("reasons: no %q", k))
		}
	}
	errs = append(errs, d.checkCompany()...)
	errs = append(errs, d.checkShowcase()...)
	return errors.Join(errs...)
}

func (d *demoData) checkCompany() []error {
	var errs []error
	c := d.Company
	roles := map[crm.Role]int{}
	for _, s := range c.Staff {
		roles[s.Role]++
		if s.Role == crm.Manager && s.Share <= 0 {
			errs = append(errs, fmt.Errorf("staff %s: a manager needs a share", s.Email))
		}
	}
	if roles[crm.Owner] != 1 || roles[crm.Lead] != 1 || roles[crm.Manager] == 0 {
		errs = append(errs, fmt.Errorf("staff: want one owner, one lead and managers, have %v", roles))
	}
	channels := map[string]int{}
	for _, a := range c.Accounts {
		channels[a.Channel]++
	}
	for _, ch := range []string{"phone", "email", "telegram", "whatsapp", "web"} {
		if channels[ch] != 1 {
			errs = append(errs, fmt.Errorf("accounts: %d on %s, want one", channels[ch], ch))
		}
	}
	codes := map[string]bool{}
	for _, s := range c.Sources {
		codes[s.Code] = true
		if len(s.Numbers) == 0 || len(s.Channels) != len(c.FirstChannels) || s.Spend[0] > s.Spend[1] {
			errs = append(errs, fmt.Errorf("source %s: needs numbers, %d channel weights and spend min <= max", s.Code, len(c.FirstChannels)))
		}
	}
	if !codes[c.Rebind.From] || !codes[c.Rebind.To] {
		errs = append(errs, fmt.Errorf("rebind: unknown source %q or %q", c.Rebind.From, c.Rebind.To))
	}
	return errs
}

func (d *demoData) checkShowcase() []error {
	var errs []error
	sc := d.Showcase
	if len(sc.Colleagues) == 0 || len(sc.Unreadable) == 0 || len(sc.Foreign.Leads) == 0 {
		errs = append(errs, errors.New("showcase: colleagues, unreadable and foreign leads must not be empty"))
	}
	for _, c := range sc.Colleagues {
		_, domain, _ := strings.Cut(c.Client.Email, "@")
		if domain == "" || !strings.HasSuffix(c.Colleague.Email, "@"+domain) || c.Colleague.Email == c.Client.Email {
			errs = append(errs, fmt.Errorf("showcase colleague %s: not another address of %s's domain", c.Colleague.Email, c.Client.Email))
		}
	}
	for _, u := range sc.Unreadable {
		if u.Kind != "bounce" && u.Kind != "garbage" && u.Kind != "none" {
			errs = append(errs, fmt.Errorf("showcase unreadable: unknown kind %q", u.Kind))
		}
	}
	if _, err := crm.CheckRegion(sc.Foreign.Region); err != nil || sc.Foreign.Region == "" || sc.Foreign.Entry == "" {
		errs = append(errs, fmt.Errorf("showcase foreign: entry %q, region %q: %v", sc.Foreign.Entry, sc.Foreign.Region, err))
	}
	if !strings.HasPrefix(sc.RemoteMail.Banner, "https://") || sc.LogoMail.Logo == "" {
		errs = append(errs, errors.New("showcase: the remote image needs an https URL and the logo a file name"))
	}
	return errs
}

// demoFill puts values into a text's placeholders: demoFill("{n} м",
// "n", "3") is "3 м".
func demoFill(text string, kv ...string) string {
	pairs := make([]string, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs[i], pairs[i+1] = "{"+kv[i]+"}", kv[i+1]
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// demoWeighted repeats each item as often as its weight says, for a
// uniform draw.
func demoWeighted[T any](items []T, weight func(T) int) []T {
	var out []T
	for _, it := range items {
		for range weight(it) {
			out = append(out, it)
		}
	}
	return out
}
