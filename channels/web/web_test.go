package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
)

var testSecret = []byte("whsec_3f9a1c7e5b2d4f60")

// testNow is the receiver's clock in every test.
func testNow() time.Time { return time.Date(2025, 11, 24, 7, 20, 0, 0, time.UTC) }

// request builds a POST to the web hook with body signed under secret at
// ts.
func request(body []byte, secret []byte, ts time.Time) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/hooks/web/7", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	stamp := strconv.FormatInt(ts.Unix(), 10)
	r.Header.Set(HeaderTimestamp, stamp)
	r.Header.Set(HeaderSignature, Sign(secret, stamp, body))
	return r
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadAcceptsAndMaps(t *testing.T) {
	now := testNow()
	r := request(readFile(t, "tilda_callback.json"), testSecret, now.Add(-30*time.Second))
	s, err := Read(r, testSecret, now)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	got := s.Inbound(7, "site", now)
	want := channels.Inbound{
		AccountID:  7,
		ExternalID: "tilda-4817263-1732431792",
		Kind:       channels.Form,
		At:         time.Date(2025, 11, 24, 14, 3, 12, 0, time.FixedZone("", 7*3600)),
		From:       []channels.Handle{{Kind: "phone", Value: "8 (383) 234-90-96"}},
		Name:       "Иван Петров",
		EntryPoint: "yandex",
		SourceHint: "yandex",
		Subject:    "okna-nsk.ru",
		Text:       "Перезвоните, пожалуйста, после 18:00. Интересует остекление балкона.",
		Meta: map[string]string{
			"page_url":     "https://okna-nsk.ru/balkony?utm_source=yandex&utm_medium=cpc",
			"utm_source":   "yandex",
			"utm_medium":   "cpc",
			"utm_campaign": "balkony_nsk",
			"utm_content":  "banner_240x400",
			"utm_term":     "остекление балкона цена",
		},
	}
	if !got.At.Equal(want.At) {
		t.Errorf("At = %v, want %v", got.At, want.At)
	}
	got.At, want.At = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Inbound =\n%+v\nwant\n%+v", got, want)
	}
}

func TestReadRefuses(t *testing.T) {
	now := testNow()
	valid := []byte(`{"submission_id":"f-1","phone":"+7 913 555-01-02"}`)
	tooBig := append([]byte(`{"submission_id":"f-1","phone":"+7 913 555-01-02","message":"`),
		bytes.Repeat([]byte("a"), MaxBody)...)
	tooBig = append(tooBig[:MaxBody-1], '"', '}') // exactly MaxBody+1 bytes, valid JSON
	exact := append([]byte(`{"submission_id":"f-1","phone":"+7 913 555-01-02","message":"`),
		bytes.Repeat([]byte("a"), MaxBody)...)
	exact = append(exact[:MaxBody-2], '"', '}') // exactly MaxBody bytes

	tests := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantCode   string // "" means accepted
	}{
		{"exactly MaxBody is accepted", func() *http.Request { return request(exact, testSecret, now) }, 0, ""},
		{"a phone in full-width digits is accepted", func() *http.Request {
			return request([]byte(`{"submission_id":"f-1","phone":"＋７ ９１３ ５５５-０１-０２"}`), testSecret, now)
		}, 0, ""},
		{"a phone without digits", func() *http.Request {
			return request([]byte(`{"submission_id":"f-1","phone":"позвоните мне"}`), testSecret, now)
		}, 422, CodeInvalid},
		{"5 minutes old is accepted", func() *http.Request { return request(valid, testSecret, now.Add(-MaxSkew)) }, 0, ""},
		{"wrong secret", func() *http.Request { return request(valid, []byte("another-secret"), now) }, 401, CodeBadSignature},
		{"body changed after signing", func() *http.Request {
			r := request(valid, testSecret, now)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(valid, []byte("f-1"), []byte("f-2"), 1)))
			return r
		}, 401, CodeBadSignature},
		{"signature without prefix", func() *http.Request {
			r := request(valid, testSecret, now)
			r.Header.Set(HeaderSignature, strings.TrimPrefix(r.Header.Get(HeaderSignature), SignaturePrefix))
			return r
		}, 401, CodeBadSignature},
		{"signature not hex", func() *http.Request {
			r := request(valid, testSecret, now)
			r.Header.Set(HeaderSignature, "sha256=zz")
			return r
		}, 401, CodeBadSignature},
		{"missing signature", func() *http.Request {
			r := request(valid, testSecret, now)
			r.Header.Del(HeaderSignature)
			return r
		}, 401, CodeUnauthorized},
		{"missing timestamp", func() *http.Request {
			r := request(valid, testSecret, now)
			r.Header.Del(HeaderTimestamp)
			return r
		}, 401, CodeUnauthorized},
		{"no headers at all", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/hooks/web/7", bytes.NewReader(valid))
		}, 401, CodeUnauthorized},
		{"timestamp 6 minutes old", func() *http.Request { return request(valid, testSecret, now.Add(-6*time.Minute)) }, 401, CodeStaleTimestamp},
		{"timestamp 6 minutes in the future", func() *http.Request { return request(valid, testSecret, now.Add(6*time.Minute)) }, 401, CodeStaleTimestamp},
		{"timestamp in milliseconds", func() *http.Request {
			r := request(valid, testSecret, now)
			ms := strconv.FormatInt(now.UnixMilli(), 10)
			r.Header.Set(HeaderTimestamp, ms)
			r.Header.Set(HeaderSignature, Sign(testSecret, ms, valid))
			return r
		}, 401, CodeStaleTimestamp},
		{"timestamp not a number", func() *http.Request {
			r := request(valid, testSecret, now)
			r.Header.Set(HeaderTimestamp, now.Format(time.RFC3339))
			r.Header.Set(HeaderSignature, Sign(testSecret, now.Format(time.RFC3339), valid))
			return r
		}, 401, CodeStaleTimestamp},
		{"body of 64 KiB + 1", func() *http.Request { return request(tooBig, testSecret, now) }, 413, CodeTooLarge},
		{"body of 64 KiB + 1 without Content-Length", func() *http.Request {
			r := request(tooBig, testSecret, now)
			r.ContentLength = -1
			return r
		}, 413, CodeTooLarge},
		{"malformed JSON", func() *http.Request { return request([]byte(`{"submission_id":"f-1","phone":`), testSecret, now) }, 400, CodeBadJSON},
		{"JSON array", func() *http.Request { return request([]byte(`[{"submission_id":"f-1","phone":"1"}]`), testSecret, now) }, 400, CodeBadJSON},
		{"JSON null", func() *http.Request { return request([]byte(`null`), testSecret, now) }, 400, CodeBadJSON},
		{"empty body", func() *http.Request { return request(nil, testSecret, now) }, 400, CodeBadJSON},
		{"two objects", func() *http.Request { return request(append(valid, valid...), testSecret, now) }, 400, CodeBadJSON},
		{"phone as a number", func() *http.Request {
			return request([]byte(`{"submission_id":"f-1","phone":79135550102}`), testSecret, now)
		}, 400, CodeBadJSON},
		{"no submission_id", func() *http.Request { return request([]byte(`{"phone":"+7 913 555-01-02"}`), testSecret, now) }, 422, CodeInvalid},
		{"blank submission_id", func() *http.Request {
			return request([]byte(`{"submission_id":"  ","phone":"+7 913 555-01-02"}`), testSecret, now)
		}, 422, CodeInvalid},
		{"neither phone nor email", func() *http.Request {
			return request([]byte(`{"submission_id":"f-1","name":"Anna","message":"call me"}`), testSecret, now)
		}, 422, CodeInvalid},
		{"submission_id over 200 chars", func() *http.Request {
			return request([]byte(`{"submission_id":"`+strings.Repeat("x", 201)+`","phone":"1"}`), testSecret, now)
		}, 422, CodeInvalid},
		{"name absurdly long", func() *http.Request {
			return request([]byte(`{"submission_id":"f-1","phone":"1","name":"`+strings.Repeat("я", 5000)+`"}`), testSecret, now)
		}, 422, CodeInvalid},
		{"submitted_at not RFC 3339", func() *http.Request {
			return request([]byte(`{"submission_id":"f-1","phone":"1","submitted_at":"24.11.2025 14:03"}`), testSecret, now)
		}, 422, CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.req(), testSecret, now)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Read: %v, want accepted", err)
				}
				return
			}
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("Read error = %v (%T), want *Error", err, err)
			}
			if e.Status != tt.wantStatus || e.Code != tt.wantCode {
				t.Errorf("Read = %d %s (%q), want %d %s", e.Status, e.Code, e.Message, tt.wantStatus, tt.wantCode)
			}
			if !errors.Is(err, &Error{Code: tt.wantCode}) {
				t.Errorf("errors.Is(err, &Error{Code: %q}) = false", tt.wantCode)
			}
			if !strings.HasPrefix(err.Error(), "web: ") {
				t.Errorf("Error() = %q, want the web: prefix", err.Error())
			}
			if strings.Contains(e.Message, string(testSecret)) {
				t.Errorf("message %q echoes the secret", e.Message)
			}
		})
	}
}

func TestReadEmptySecret(t *testing.T) {
	now := testNow()
	body := []byte(`{"submission_id":"f-1","phone":"1"}`)
	_, err := Read(request(body, nil, now), nil, now)
	if e, ok := errors.AsType[*Error](err); !ok || e.Status != http.StatusUnauthorized {
		t.Fatalf("Read with no secret = %v, want a 401", err)
	}
}

func TestInbound(t *testing.T) {
	received := testNow()
	tests := []struct {
		name          string
		s             Submission
		defaultSource string
		want          channels.Inbound
	}{
		{
			name:          "utm_source absent: entry point from the account default",
			s:             Submission{SubmissionID: " c-1 ", Email: " maria@example.com ", PageURL: "https://www.acme-tools.com:8443/contact"},
			defaultSource: "site",
			want: channels.Inbound{
				AccountID: 3, ExternalID: "c-1", Kind: channels.Form, At: received,
				From:       []channels.Handle{{Kind: "email", Value: "maria@example.com"}},
				EntryPoint: "site", SourceHint: "site",
				Subject: "www.acme-tools.com",
				Meta:    map[string]string{"page_url": "https://www.acme-tools.com:8443/contact"},
			},
		},
		{
			name: "utm_source and default absent: direct, no source hint",
			s:    Submission{SubmissionID: "c-2", Phone: "+7 999 123-45-67", Email: "x@example.com", Name: " Anna ", Message: "\n call me \n"},
			want: channels.Inbound{
				AccountID: 3, ExternalID: "c-2", Kind: channels.Form, At: received,
				From: []channels.Handle{
					{Kind: "phone", Value: "+7 999 123-45-67"},
					{Kind: "email", Value: "x@example.com"},
				},
				Name: "Anna", Text: "call me",
				EntryPoint: DirectEntryPoint, SourceHint: "",
				Subject: "",
			},
		},
		{
			name:          "utm_source wins over the default",
			s:             Submission{SubmissionID: "c-3", Phone: "1", UTMSource: "vk", UTMCampaign: "autumn", PageURL: "okna-nsk.ru/promo"},
			defaultSource: "site",
			want: channels.Inbound{
				AccountID: 3, ExternalID: "c-3", Kind: channels.Form, At: received,
				From:       []channels.Handle{{Kind: "phone", Value: "1"}},
				EntryPoint: "vk", SourceHint: "vk",
				Subject: "okna-nsk.ru",
				Meta:    map[string]string{"page_url": "okna-nsk.ru/promo", "utm_source": "vk", "utm_campaign": "autumn"},
			},
		},
		{
			name: "submitted_at in the past is kept",
			s:    Submission{SubmissionID: "c-4", Phone: "1", SubmittedAt: received.Add(-2 * time.Hour)},
			want: channels.Inbound{
				AccountID: 3, ExternalID: "c-4", Kind: channels.Form, At: received.Add(-2 * time.Hour),
				From:       []channels.Handle{{Kind: "phone", Value: "1"}},
				EntryPoint: DirectEntryPoint, Subject: "",
			},
		},
		{
			name: "submitted_at under a minute ahead is kept",
			s:    Submission{SubmissionID: "c-5", Phone: "1", SubmittedAt: received.Add(40 * time.Second)},
			want: channels.Inbound{
				AccountID: 3, ExternalID: "c-5", Kind: channels.Form, At: received.Add(40 * time.Second),
				From:       []channels.Handle{{Kind: "phone", Value: "1"}},
				EntryPoint: DirectEntryPoint, Subject: "",
			},
		},
		{
			name: "submitted_at far in the future falls back to received, kept in meta",
			s:    Submission{SubmissionID: "c-6", Phone: "1", SubmittedAt: received.Add(3 * time.Hour)},
			want: channels.Inbound{
				AccountID: 3, ExternalID: "c-6", Kind: channels.Form, At: received,
				From:       []channels.Handle{{Kind: "phone", Value: "1"}},
				EntryPoint: DirectEntryPoint, Subject: "",
				Meta: map[string]string{"submitted_at": received.Add(3 * time.Hour).UTC().Format(time.RFC3339)},
			},
		},
		{
			name: "submitted_at in year 1 falls back to received, kept in meta",
			s:    Submission{SubmissionID: "c-7", Phone: "1", SubmittedAt: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)},
			want: channels.Inbound{
				AccountID: 3, ExternalID: "c-7", Kind: channels.Form, At: received,
				From:       []channels.Handle{{Kind: "phone", Value: "1"}},
				EntryPoint: DirectEntryPoint, Subject: "",
				Meta: map[string]string{"submitted_at": "0001-01-01T00:00:01Z"},
			},
		},
		{
			name: "submitted_at six days back is kept (a site that held its leads)",
			s:    Submission{SubmissionID: "c-8", Phone: "1", SubmittedAt: received.Add(-6 * 24 * time.Hour)},
			want: channels.Inbound{
				AccountID: 3, ExternalID: "c-8", Kind: channels.Form, At: received.Add(-6 * 24 * time.Hour),
				From:       []channels.Handle{{Kind: "phone", Value: "1"}},
				EntryPoint: DirectEntryPoint, Subject: "",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.s.Inbound(3, tt.defaultSource, received)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Inbound =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestTestdata reads every sample body through Read and checks the parts
// of the mapping that differ between them.
func TestTestdata(t *testing.T) {
	now := testNow()
	tests := []struct {
		file       string
		from       []channels.Handle
		entryPoint string
		subject    string
		at         time.Time
		region     string
	}{
		{"tilda_callback.json", []channels.Handle{{Kind: "phone", Value: "8 (383) 234-90-96"}}, "yandex", "okna-nsk.ru", time.Date(2025, 11, 24, 7, 3, 12, 0, time.UTC), ""},
		{"contact_email_only.json", []channels.Handle{{Kind: "email", Value: "maria.lopez@example.com"}}, "site", "www.acme-tools.com", now, ""},
		{"crm_lead.json", []channels.Handle{{Kind: "phone", Value: "+7 913 555-01-02"}, {Kind: "email", Value: "a.smirnov@sibstroy.ru"}}, "partner_crm", "", now, ""},
		// submitted_at is 7:15Z, before now (7:20Z).
		{"landing_phone_only.json", []channels.Handle{{Kind: "phone", Value: "+7 (999) 123-45-67"}}, "google", "promo.okna-nsk.ru", time.Date(2025, 11, 24, 7, 15, 0, 0, time.UTC), ""},
		{"callback_belarus.json", []channels.Handle{{Kind: "phone", Value: "8 029 123-45-67"}}, "yandex_by", "okna.example.by", now, "BY"},
		{"contact_germany_name.json", []channels.Handle{{Kind: "phone", Value: "030 1234567"}, {Kind: "email", Value: "j.becker@example.de"}}, "site", "example.de", now, "DE"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, err := Read(request(readFile(t, tt.file), testSecret, now), testSecret, now)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			in := s.Inbound(1, "site", now)
			if !reflect.DeepEqual(in.From, tt.from) || in.EntryPoint != tt.entryPoint || in.Subject != tt.subject || !in.At.Equal(tt.at) || in.Region != tt.region {
				t.Errorf("From=%v EntryPoint=%q Subject=%q At=%v Region=%q, want %v %q %q %v %q",
					in.From, in.EntryPoint, in.Subject, in.At, in.Region, tt.from, tt.entryPoint, tt.subject, tt.at, tt.region)
			}
			if in.ExternalID == "" || in.Kind != channels.Form {
				t.Errorf("ExternalID=%q Kind=%q", in.ExternalID, in.Kind)
			}
		})
	}
}

func TestSignKnownVector(t *testing.T) {
	// Independently computed: printf '%s' '1732431792.{"a":1}' | openssl dgst -sha256 -hmac secret
	got := Sign([]byte("secret"), "1732431792", []byte(`{"a":1}`))
	want := "sha256=2d56e4d636bf1e7897bba0443f1cc357a1a266d470aa6f496ca98ab2d7e5201f"
	if got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

// TestSignMatchesOpenSSL runs the shell recipe from docs/web-channel.md and
// checks that it computes the same signature as Sign.
func TestSignMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	body := readFile(t, "tilda_callback.json") // multi-line, non-ASCII, trailing newline
	secret := "whsec_3f9a1c7e5b2d4f60"
	ts := "1732431792"
	script := `SIG=$(printf '%s' "$TS.$BODY" | openssl dgst -sha256 -hmac "$SECRET" | awk '{print $NF}')
printf 'sha256=%s' "$SIG"`
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "SECRET="+secret, "TS="+ts, "BODY="+string(body))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl recipe: %v", err)
	}
	if got, want := string(out), Sign([]byte(secret), ts, body); got != want {
		t.Errorf("openssl recipe = %q, Sign = %q", got, want)
	}
}

func FuzzRead(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(0), true)
	}
	f.Add([]byte(`{"submission_id":"x","phone":"1"}`), int64(-301), true)
	f.Add([]byte(`{"submission_id":"x","email":"a@b"}`), int64(0), false)
	f.Add([]byte(`[]`), int64(0), true)
	f.Add([]byte(`{"submission_id":"x","phone":"1","submitted_at":""}`), int64(299), true)

	now := testNow()
	f.Fuzz(func(t *testing.T, body []byte, skew int64, signed bool) {
		ts := strconv.FormatInt(now.Unix()+skew, 10)
		r := httptest.NewRequest(http.MethodPost, "/hooks/web/1", bytes.NewReader(body))
		r.Header.Set(HeaderTimestamp, ts)
		if signed {
			r.Header.Set(HeaderSignature, Sign(testSecret, ts, body))
		} else {
			r.Header.Set(HeaderSignature, Sign([]byte("wrong"), ts, body))
		}
		s, err := Read(r, testSecret, now)
		if err != nil {
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("Read error %v (%T) is not an *Error", err, err)
			}
			if e.Status < 400 || e.Status > 499 || e.Code == "" || e.Message == "" {
				t.Fatalf("Read error %+v is incomplete", e)
			}
			if signed && skew >= -300 && skew <= 300 && len(body) > MaxBody && e.Code != CodeTooLarge {
				t.Fatalf("body of %d bytes: %s, want %s", len(body), e.Code, CodeTooLarge)
			}
			return
		}
		if !signed {
			t.Fatal("Read accepted a request signed with the wrong secret")
		}
		if skew < -300 || skew > 300 {
			t.Fatalf("Read accepted a timestamp %d seconds off", skew)
		}
		if strings.TrimSpace(s.SubmissionID) == "" {
			t.Fatal("accepted a submission without submission_id")
		}
		if strings.TrimSpace(s.Phone) == "" && strings.TrimSpace(s.Email) == "" {
			t.Fatal("accepted a submission without phone or email")
		}
		in := s.Inbound(1, "", now)
		if in.ExternalID == "" || len(in.From) == 0 || in.EntryPoint == "" || in.Kind != channels.Form {
			t.Fatalf("accepted submission maps to an unusable Inbound: %+v", in)
		}
		for _, h := range in.From {
			if h.Value == "" {
				t.Fatalf("empty handle in %+v", in.From)
			}
		}
	})
}
