package phone

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/channels"
)

func TestOpenRecording(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/rec/a.wav":
			w.Header().Set("Content-Type", "audio/wav")
			io.WriteString(w, "RIFFwav")
		case "/rec/gone.wav":
			w.WriteHeader(http.StatusGone)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.wav"), []byte("RIFFfile"), 0o600)
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o600)
	os.Symlink(outside, filepath.Join(dir, "link.wav"))
	ast := Settings{Provider: Asterisk, RecordingBaseURL: srv.URL + "/rec/", RecordingDir: dir}
	cloud := Settings{Provider: Zadarma, RecordingsOnLAN: true} // the test server is on loopback
	public := Settings{Provider: Generic}

	read := func(s Settings, link string) (string, string, error) {
		body, ctype, err := openRecording(context.Background(), s, link)
		if err != nil {
			return "", "", err
		}
		defer body.Close()
		b, _ := io.ReadAll(body)
		return string(b), ctype, nil
	}
	if body, ctype, err := read(ast, srv.URL+"/rec/a.wav"); err != nil || body != "RIFFwav" || ctype != "audio/wav" {
		t.Fatalf("base URL: %q %q %v", body, ctype, err)
	}
	if body, _, err := read(ast, RecordingFileURL(dir, "b.wav")); err != nil || body != "RIFFfile" {
		t.Fatalf("file: %q %v", body, err)
	}
	if body, _, err := read(cloud, srv.URL+"/other/a.wav"); err == nil || body != "" {
		// a 404 from a cloud link: retried later, not permanent
		t.Fatalf("cloud 404 read %q", body)
	} else if errors.Is(err, channels.ErrPermanent) {
		t.Fatalf("a 404 must be retried (the link may appear later): %v", err)
	}
	for name, c := range map[string]struct {
		s    Settings
		link string
	}{
		"outside the base URL":      {ast, srv.URL + "/other/a.wav"},
		"a file elsewhere":          {ast, "file://" + outside},
		"dot-dot out of dir":        {ast, "file://" + dir + "/../" + filepath.Base(filepath.Dir(outside)) + "/secret.txt"},
		"a symlink out of dir":      {ast, RecordingFileURL(dir, "link.wav")},
		"a file from the cloud":     {cloud, "file://" + outside},
		"another scheme":            {cloud, "ftp://example.com/a.wav"},
		"gone":                      {cloud, srv.URL + "/rec/gone.wav"},
		"a cloud link into the LAN": {public, srv.URL + "/rec/a.wav"},
	} {
		if _, _, err := read(c.s, c.link); !errors.Is(err, channels.ErrPermanent) {
			t.Errorf("%s: want a permanent refusal, got %v", name, err)
		}
	}
	if _, _, err := read(ast, RecordingFileURL(dir, "later.wav")); err == nil || errors.Is(err, channels.ErrPermanent) {
		t.Errorf("a file not there yet must be retried: %v", err)
	}
}
