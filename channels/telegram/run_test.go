package telegram

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
)

// push queues recorded samples on the fake Bot API.
func push(t testing.TB, fake *telegramtest.Server, files ...string) {
	t.Helper()
	for _, f := range files {
		if err := fake.Push(sample(t, f)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRunDeliversEveryKind: every sample flows through Run into the sink
// once; skipped updates move the offset but reach no sink.
func TestRunDeliversEveryKind(t *testing.T) {
	fake := fakeWithFiles(t)
	push(t, fake, "start_plain.json", "start_yandex.json", "text.json", "photo_caption.json", "document.json", "voice.json",
		"video_note.json", "audio.json", "video.json", "contact.json", "contact_other.json", "edited.json", "group.json",
		"channel_post.json", "big_document.json", "undecodable.json")
	sink := newSink()
	r := start(newAdapter(t, fake, "", ""), sink)
	fake.WaitOffset(t, 815400115, 0)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	if n := sink.count(); n != 14 {
		t.Errorf("stored %d touches, want 14 (16 updates, a group message and a channel post skipped)", n)
	}
	for _, ext := range []string{annaID + ":210", annaID + ":212", annaID + ":218", annaID + ":211:edit:1732431845", annaID + ":221"} {
		if _, ok := sink.get(ext); !ok {
			t.Errorf("%s not stored", ext)
		}
	}
	in, _ := sink.get(annaID + ":210")
	if in.EntryPoint != "yandex" || in.Cursor != "815400101" {
		t.Errorf("/start yandex: entry point %q, cursor %q", in.EntryPoint, in.Cursor)
	}
	in, _ = sink.get(annaID + ":212")
	if len(in.Attachments) != 1 || string(in.Attachments[0].Data) != string(sampleFiles["AgACAgIAAxkBAAPUZ0MLarge"].data) {
		t.Errorf("photo attachment = %+v", in.Attachments)
	}
	// The edit is followed by a group message and a channel post: its
	// cursor moves past both, so they are confirmed with it.
	in, _ = sink.get(annaID + ":211:edit:1732431845")
	if in.Cursor != "815400113" {
		t.Errorf("cursor of the edit before two skipped updates = %q, want 815400113", in.Cursor)
	}
	cur, offered := sink.snapshot()
	if cur != "815400115" {
		t.Errorf("stored cursor = %q, want 815400115", cur)
	}
	for ext, n := range offered {
		if n != 1 {
			t.Errorf("%s offered %d times", ext, n)
		}
	}
	if !slices.Contains(r.rep.phases(), channels.Live) {
		t.Errorf("reported %v, want Live", r.rep.phases())
	}
	if fake.Calls("deleteWebhook") != 1 {
		t.Errorf("deleteWebhook called %d times, want 1 (polling mode)", fake.Calls("deleteWebhook"))
	}
}

// TestRunRestartFromStoredCursor: Run stopped between updates and started
// again from the cursor the sink stored neither skips nor repeats one.
func TestRunRestartFromStoredCursor(t *testing.T) {
	fake := fakeWithFiles(t)
	sink := newSink()

	push(t, fake, "start_yandex.json", "text.json", "photo_caption.json")
	r := start(newAdapter(t, fake, "", ""), sink)
	fake.WaitOffset(t, 815400103, 0)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	first := fake.Offsets()
	cur, _ := sink.snapshot()
	if cur != "815400103" || sink.count() != 3 {
		t.Fatalf("after the first run: cursor %q, %d touches", cur, sink.count())
	}

	// New updates arrive while nothing runs; the last one is a group
	// message, skipped, whose offset rides on the voice message's cursor.
	push(t, fake, "document.json", "voice.json", "group.json")
	r = start(newAdapter(t, fake, "", cur), sink)
	fake.WaitOffset(t, 815400112, 0)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	second := fake.Offsets()[len(first):]
	if second[0] != 815400103 {
		t.Errorf("the restarted Run asked for offset %d, want the stored cursor 815400103", second[0])
	}
	cur, offered := sink.snapshot()
	if cur != "815400112" || sink.count() != 5 {
		t.Errorf("after the restart: cursor %q, %d touches; want 815400112, 5", cur, sink.count())
	}
	for ext, n := range offered {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", ext, n)
		}
	}

	// A third start with nothing new delivers nothing.
	calls := sink.callCount()
	r = start(newAdapter(t, fake, "", cur), sink)
	fake.WaitOffset(t, 815400112, 0)
	waitFor(t, "a long poll from the stored cursor", func() bool { return len(fake.Offsets()) > len(first)+len(second) })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if n := sink.callCount(); n != calls {
		t.Errorf("the sink was called %d more times with nothing new", n-calls)
	}
	for _, off := range fake.Offsets() {
		if off != 0 && off != 815400103 && off != 815400112 {
			t.Errorf("unexpected getUpdates offset %d (offsets %v)", off, fake.Offsets())
		}
	}
	if p := fake.Pending(); len(p) != 0 {
		t.Errorf("updates never confirmed: %v", p)
	}
}

// TestRunSinkErrorRedelivers: when the sink fails, the offset stays and
// the same updates come again on the next attempt.
func TestRunSinkErrorRedelivers(t *testing.T) {
	fake := fakeWithFiles(t)
	push(t, fake, "text.json", "photo_caption.json")
	sink := newSink()
	sink.failNext = 1
	r := start(newAdapter(t, fake, "", "815400101"), sink)
	fake.WaitOffset(t, 815400103, 0)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if offs := fake.Offsets(); len(offs) < 3 || offs[0] != 815400101 || offs[1] != 815400101 || offs[2] != 815400103 {
		t.Errorf("getUpdates offsets = %v, want 815400101 twice (the failed batch is read again), then 815400103", offs)
	}
	_, offered := sink.snapshot()
	for _, ext := range []string{annaID + ":211", annaID + ":212"} {
		if offered[ext] != 2 {
			t.Errorf("%s offered %d times, want 2 (failed, then stored)", ext, offered[ext])
		}
	}
	var failing *channels.State
	for _, s := range r.rep.all() {
		if s.Phase == channels.Failing {
			failing = &s
			break
		}
	}
	if failing == nil || !strings.Contains(failing.Error, "database is down") || failing.RetryAt.IsZero() {
		t.Errorf("reports = %+v, want Failing with the sink's error and a retry time", r.rep.all())
	}
	if ps := r.rep.phases(); ps[len(ps)-1] != channels.Live {
		t.Errorf("phases = %v, want Live again after the retry", ps)
	}
}

// TestRunRetriesFloodControl: 429 and 5xx from getUpdates are waited out,
// not returned.
func TestRunRetriesFloodControl(t *testing.T) {
	fake := fakeWithFiles(t)
	fake.Fail("getUpdates", 429, "Too Many Requests: retry after 1", 1)
	fake.Fail("getUpdates", 502, "Bad Gateway", 0)
	push(t, fake, "text.json")
	sink := newSink()
	r := start(newAdapter(t, fake, "", ""), sink)
	fake.WaitOffset(t, 815400102, 0)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if sink.count() != 1 {
		t.Errorf("stored %d, want 1", sink.count())
	}
}

// TestRunWrongToken: getMe's 401 is reported Failing with Telegram's
// description and returned; Live is never reported.
func TestRunWrongToken(t *testing.T) {
	fake := telegramtest.NewServer(t, "7000000001:another-token")
	sink := newSink()
	r := start(newAdapter(t, fake, "", ""), sink)
	var err error
	select {
	case err = <-r.done:
	case <-timeAfter():
		t.Fatal("Run did not return on a refused token")
	}
	r.cancel()
	if err == nil || !strings.Contains(err.Error(), "Unauthorized") || !strings.HasPrefix(err.Error(), "telegram: ") {
		t.Fatalf("Run = %v, want a telegram: error with Unauthorized", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Error("the error shows the token")
	}
	st := r.rep.all()
	if len(st) != 1 || st[0].Phase != channels.Failing || !strings.Contains(st[0].Error, "Unauthorized") {
		t.Errorf("reports = %+v, want one Failing with Unauthorized", st)
	}
	if fake.Calls("getUpdates") != 0 {
		t.Error("polled with a refused token")
	}
}

// TestRunConflictIsReturned: 409 (another poller, a webhook set behind our
// back) goes to the supervisor.
func TestRunConflictIsReturned(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	fake.Fail("getUpdates", 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", 0)
	r := start(newAdapter(t, fake, "", ""), newSink())
	var err error
	select {
	case err = <-r.done:
	case <-timeAfter():
		t.Fatal("Run did not return on 409")
	}
	r.cancel()
	if err == nil || !strings.Contains(err.Error(), "409 Conflict") {
		t.Fatalf("Run = %v", err)
	}
	if ps := r.rep.phases(); ps[len(ps)-1] != channels.Failing {
		t.Errorf("phases = %v, want Failing last", ps)
	}
}

// TestRunWebhookMode: Run registers the webhook with the derived secret
// and waits.
func TestRunWebhookMode(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	a := newAdapter(t, fake, `{"mode":"webhook","webhook_url":"https://crm.example.ru/hooks/telegram/7"}`, "")
	r := start(a, newSink())
	waitFor(t, "Live", func() bool { return slices.Contains(r.rep.phases(), channels.Live) })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	wh := fake.Webhook()
	if wh["url"] != "https://crm.example.ru/hooks/telegram/7" || wh["secret_token"] != webhookSecret(testToken) || len(wh["secret_token"]) != 32 {
		t.Errorf("setWebhook = %v", wh)
	}
	if !strings.Contains(wh["allowed_updates"], "edited_message") {
		t.Errorf("allowed_updates = %q", wh["allowed_updates"])
	}
	if fake.Calls("getUpdates") != 0 || fake.Calls("deleteWebhook") != 0 {
		t.Error("webhook mode polled or deleted the webhook")
	}
}

// TestRedact: the token, part of every Bot API URL, never shows in an
// error.
func TestRedact(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	a := newAdapter(t, fake, "", "")
	err := a.redact(&url.Error{Op: "Post", URL: "https://api.telegram.org/bot" + testToken + "/getUpdates", Err: io.ErrUnexpectedEOF})
	if strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), "/bot<token>/getUpdates") || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("redact = %q", err)
	}
}

// TestRunUnaskedUpdatesLogNoError: updates the bot never asked for (an
// inline query, a button press, a reaction of a type the library does not
// know yet) are skipped without an error in the log: nothing is wrong.
func TestRunUnaskedUpdatesLogNoError(t *testing.T) {
	fake := fakeWithFiles(t)
	push(t, fake, "inline_query.json", "callback_query.json", "reaction_new_type.json", "text.json")
	a := newAdapter(t, fake, "", "")
	logs := &records{}
	a.log = slog.New(logs)
	sink := newSink()
	r := start(a, sink)
	fake.WaitOffset(t, 815400133, 0)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	if n := sink.count(); n != 1 {
		t.Errorf("stored %d touches, want 1 (the text message)", n)
	}
	for _, rec := range logs.all() {
		if rec.Level >= slog.LevelWarn {
			t.Errorf("logged at %s: %q", rec.Level, rec.Message)
		}
	}
}

// records is a slog handler that keeps every record.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *records) WithGroup(string) slog.Handler            { return h }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

func (h *records) all() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.recs)
}
