package email

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// A Date header that cannot be true gives way to the time the server got
// the message (IMAP INTERNALDATE); its raw value stays in meta (issue 15,
// item 8).
func TestRunDateFromArrivalWhenHeaderIsImpossible(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	arrival := time.Now().Add(-time.Hour).Truncate(time.Second)
	mail := func(id, dateLine string) []byte {
		return []byte("From: Client <c@client.ru>\r\nTo: sales@company.ru\r\nSubject: Вопрос\r\n" + dateLine +
			"Message-ID: <" + id + ">\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nЗдравствуйте\r\n")
	}
	plausible := arrival.Add(-3 * time.Hour)
	fewDaysAhead := arrival.Add(5 * 24 * time.Hour)
	cases := []struct {
		id, header string // header: the raw Date ("" for none)
		want       time.Time
		kept       bool // the raw header stays in meta
	}{
		{"year-3609@client.ru", "Mon, 1 Dec 3609 10:00:00 +0300", arrival, true},
		{"next-month@client.ru", arrival.AddDate(0, 1, 0).Format(time.RFC1123Z), arrival, true},
		{"year-1999@client.ru", "Fri, 31 Dec 1999 23:59:59 +0000", arrival, true},
		{"epoch@client.ru", "Thu, 1 Jan 1970 00:00:00 +0000", arrival, true},
		{"garbage@client.ru", "вчера вечером", arrival, true},
		{"no-date@client.ru", "", arrival, false},
		{"clock-skew@client.ru", plausible.Format(time.RFC1123Z), plausible, false},
		{"days-ahead@client.ru", fewDaysAhead.Format(time.RFC1123Z), fewDaysAhead, false},
	}
	for _, tc := range cases {
		dateLine := ""
		if tc.header != "" {
			dateLine = "Date: " + tc.header + "\r\n"
		}
		srv.Append("INBOX", mail(tc.id, dateLine), arrival)
	}
	sink := newMemSink()
	r := start(t, newTestAdapter(t, srv.Addr, "", nil), sink)
	waitFor(t, "live", func() bool { return r.st.has(channels.Live) })

	for _, tc := range cases {
		in, ok := sink.get(tc.id)
		if !ok {
			t.Errorf("%s: not imported", tc.id)
			continue
		}
		if !in.At.Equal(tc.want) {
			t.Errorf("%s: At %v, want %v", tc.id, in.At, tc.want)
		}
		want := ""
		if tc.kept {
			want = tc.header
		}
		if got := in.Meta[MetaDateHeader]; got != want {
			t.Errorf("%s: meta date_header %q, want %q", tc.id, got, want)
		}
	}
	if in, _ := sink.get("year-3609@client.ru"); !strings.Contains(in.Meta[MetaDateHeader], "3609") {
		t.Errorf("the year-3609 header is lost: %v", in.Meta)
	}
}
