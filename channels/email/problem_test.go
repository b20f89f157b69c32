package email

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// What is wrong with a message is said in plain words, with a code for
// the UI to translate; the technical error is only returned, for the log
// (issue 15, item 12).
func TestParseProblemsInPlainWords(t *testing.T) {
	head := "From: a@client.ru\r\nTo: sales@company.ru\r\nSubject: Заказ\r\nMessage-ID: <p@client.ru>\r\nMIME-Version: 1.0\r\n"
	deep := head + "Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
	for i := 0; i <= maxDepth; i++ {
		deep += "--b" + string(rune('0'+i%10)) + strings.Repeat("x", i/10) + "\r\nContent-Type: multipart/mixed; boundary=b" + string(rune('0'+(i+1)%10)) + strings.Repeat("x", (i+1)/10) + "\r\n\r\n"
	}
	many := head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n", maxParts+1) + "--b--\r\n"
	for _, tc := range []struct {
		name, raw, code, words string
		technical              string // in the returned error
	}{
		{"a multipart cut off before its closing boundary",
			head + "Content-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nНачало письма", ProblemParts, "cut off", "EOF"},
		{"a multipart whose boundary never appears",
			head + "Content-Type: multipart/alternative; boundary=\"never\"\r\n\r\nТекст без частей\r\n", ProblemParts, "cut off", "EOF"},
		{"Outlook's multipart without a boundary",
			head + "Content-Type: multipart/mixed\r\n\r\nТекст\r\n", ProblemBoundary, "does not say where they begin", "without a boundary"},
		{"a header line that is no header",
			"From: a@client.ru\r\nthis line is not a header field\r\nSubject: x\r\n\r\nbody\r\n", ProblemHeader, "header is damaged", "malformed MIME header line"},
		{"no sender anywhere",
			"To: sales@company.ru\r\nSubject: Заказ\r\n\r\nТекст\r\n", ProblemNoSender, "cannot be answered", "no sender address"},
		{"a broken base64 attachment",
			head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nСм. файл\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--b--\r\n", ProblemEncoding, "damaged", "illegal base64"},
		{"parts nested too deep", deep, ProblemTooDeep, "nested too deeply", "deeper than"},
		{"too many parts", many, ProblemTooMany, "too many parts", "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := Parse([]byte(tc.raw), []string{"sales@company.ru"})
			if err == nil || !strings.Contains(err.Error(), tc.technical) {
				t.Errorf("error %v, want the technical %q for the log", err, tc.technical)
			}
			if in.Meta[MetaParseProblem] != tc.code || !strings.Contains(in.ParseError, tc.words) || !strings.HasSuffix(in.ParseError, "The original message is attached.") {
				t.Errorf("problem %q, ParseError %q; want %q saying %q", in.Meta[MetaParseProblem], in.ParseError, tc.code, tc.words)
			}
			for _, internal := range []string{"email:", "multipart", "NextPart", "EOF", "MIME", "base64", "%!"} {
				if strings.Contains(in.ParseError, internal) {
					t.Errorf("ParseError %q shows the internal %q", in.ParseError, internal)
				}
			}
		})
	}
}

// A broken message read over IMAP reaches the sink in plain words, and
// its technical error is logged once.
func TestRunLogsTheTechnicalErrorOnce(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	broken, _ := os.ReadFile("testdata/broken-mime.eml")
	srv.Append("INBOX", broken, time.Now())
	srv.Append("INBOX", []byte("From: a@client.ru\r\nMessage-ID: <cut@client.ru>\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\nНачало"), time.Now())
	var logs syncBuffer
	a, err := NewAdapter(channels.Account{ID: 7, Channel: channels.Email, Settings: testSettings(srv.Addr, nil), Secret: emailtest.Password},
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	sink := newMemSink()
	r := start(t, a, sink)
	waitFor(t, "live", func() bool { return r.st.has(channels.Live) })
	r.stop(t)
	for id, technical := range map[string]string{"broken-1@broken.example": "without a boundary", "cut@client.ru": "EOF"} {
		in, ok := sink.get(id)
		if !ok || in.Meta[MetaParseProblem] == "" || strings.Contains(in.ParseError, technical) {
			t.Errorf("%s: ParseError %q, problem %q", id, in.ParseError, in.Meta[MetaParseProblem])
		}
		if n := strings.Count(logs.String(), technical); n != 1 {
			t.Errorf("%s: the technical error %q logged %d times:\n%s", id, technical, n, logs.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
