package email

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Mail with no readable sender (issue 15, item 6): no From at all, only a
// display name, From: <>, garbage, a group with no members, a bounce with
// a null sender, a damaged header. Each has no sender handle (ingest keeps
// it as unreadable mail, nobody's contact), says why, and carries the
// original message whole.
func TestParseMailWithNoReadableSender(t *testing.T) {
	want := map[string]struct{ problem, subject string }{
		"no-from.eml":            {ProblemNoSender, "Счёт на оплату"},
		"display-name-only.eml":  {ProblemNoSender, "Price list"},
		"empty-angle.eml":        {ProblemNoSender, "Order"},
		"garbage-from.eml":       {ProblemNoSender, "Hello"},
		"undisclosed.eml":        {ProblemNoSender, "Newsletter"},
		"bounce-null-sender.eml": {ProblemNoSender, "Undelivered Mail Returned to Sender"},
		"broken-header.eml":      {ProblemHeader, "Broken"},
	}
	files, _ := filepath.Glob("testdata/nosender/*.eml")
	if len(files) != len(want) {
		t.Fatalf("%d fixtures, %d rows", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			w, ok := want[filepath.Base(f)]
			if !ok {
				t.Fatal("no row for this fixture")
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, perr := Parse(raw, []string{"sales@company.ru"})
			if perr == nil || len(in.From) != 0 {
				t.Fatalf("err %v, From %v: want no sender and a parse error", perr, in.From)
			}
			if in.Meta[MetaParseProblem] != w.problem || in.ParseError != problemText[w.problem]+rawAttached {
				t.Errorf("problem %q (%q), want %q", in.Meta[MetaParseProblem], in.ParseError, w.problem)
			}
			if in.Subject != w.subject {
				t.Errorf("subject %q, want %q", in.Subject, w.subject)
			}
			last := in.Attachments[len(in.Attachments)-1]
			if last.Name != RawName || last.ContentType != "message/rfc822" || !bytes.Equal(last.Data, raw) {
				t.Errorf("the original is not attached whole: %s %s %d bytes", last.Name, last.ContentType, len(last.Data))
			}
		})
	}
}
