package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A first line that is no header (an mbox "From " line, a byte order
// mark, blank lines, spaces) no longer makes the whole message unread
// (issue 15, item 1).
func TestParseLeadingJunk(t *testing.T) {
	files, _ := filepath.Glob("testdata/lead/*.eml")
	if len(files) < 5 {
		t.Fatalf("samples: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, err := Parse(raw, testOwn)
			if err != nil || in.ParseError != "" {
				t.Fatalf("err %v, ParseError %q", err, in.ParseError)
			}
			if in.From[0].Value != "ivan@client.ru" || in.Name != "Ivan Petrov" || in.Subject != "Заказ" ||
				!strings.HasSuffix(in.ExternalID, "@client.ru") || in.Text != "Нужен счёт на 20 штук." || in.At.IsZero() {
				t.Errorf("From %v %q, Subject %q, ExternalID %q, Text %q, At %v", in.From, in.Name, in.Subject, in.ExternalID, in.Text, in.At)
			}
		})
	}
}

// Outlook writes boundary=----=_NextPart_… without quotes, which MIME
// parsers refuse; the message used to show as raw MIME text.
func TestParseOutlookUnquotedBoundary(t *testing.T) {
	for _, tc := range []struct {
		file, text, html string
		atts             []string
	}{
		{"outlook-unquoted-boundary.eml", "Добрый день, пришлите прайс.", "<p>Добрый день, пришлите прайс.</p>", nil},
		{"outlook-unquoted-nested.eml", "Прайс во вложении.", "", []string{"price.csv"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "outlook", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			in, err := Parse(raw, testOwn)
			if err != nil || in.Text != tc.text || strings.Contains(in.Text, "NextPart") || !strings.Contains(in.HTML, tc.html) {
				t.Errorf("err %v, Text %q, HTML %q", err, in.Text, in.HTML)
			}
			var names []string
			for _, a := range in.Attachments {
				names = append(names, a.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.atts, ",") {
				t.Errorf("attachments %v, want %v", names, tc.atts)
			}
		})
	}
	for _, tc := range []struct{ in, want string }{
		{"multipart/mixed; boundary=----=_NextPart_000_0001", `multipart/mixed; boundary="----=_NextPart_000_0001"`},
		{`multipart/mixed; boundary="ok"`, `multipart/mixed; boundary="ok"`},
		{"text/plain; charset=utf-8; name=a=b.txt", `text/plain; charset="utf-8"; name="a=b.txt"`},
	} {
		if got, ok := repairContentType(tc.in); !ok || got != tc.want {
			t.Errorf("repairContentType(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}
