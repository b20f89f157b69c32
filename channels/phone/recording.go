package phone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// recordingClient fetches recordings; a fetch's deadline comes from its
// context. publicClient is the one for links a cloud PBX's events gave: it
// connects only to public addresses (checked on the address dialled, so a
// name that resolves into the LAN is refused too).
var (
	recordingClient = &http.Client{Timeout: 10 * time.Minute}
	publicClient    = &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{Timeout: 30 * time.Second, Control: publicOnly}).DialContext,
	}}
)

// errPrivate refuses a connection to a private, loopback or link-local
// address.
var errPrivate = errors.New("the recording link points into a private network")

func publicOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip) {
		return errPrivate
	}
	return nil
}

// OpenRecording opens a cloud call's recording for the background fetch: a
// provider's reference (mango-record:…, zadarma-record:…) becomes a link
// through the provider's API first (links expire, so each try asks anew).
func (c *Cloud) OpenRecording(ctx context.Context, ref string) (io.ReadCloser, string, error) {
	link, err := c.RecordingLink(ctx, ref)
	if err != nil {
		return nil, "", fmt.Errorf("asking %s for the recording's link: %w", c.s.Provider, err)
	}
	return openRecording(ctx, c.s, link)
}

// openRecording opens a call's recording link for the background fetch,
// within what the account's settings allow: an Asterisk account follows
// only links under its RecordingBaseURL, or files under its RecordingDir
// (so that nothing in an event can make us read another file of this
// host); a cloud PBX's links are http(s) URLs its signed events gave.
func openRecording(ctx context.Context, s Settings, link string) (io.ReadCloser, string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, "", channels.Permanent(fmt.Errorf("recording link %q: %w", link, err))
	}
	switch {
	case u.Scheme == "file":
		return openRecordingFile(s, u.Path)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, "", channels.Permanent(fmt.Errorf("recording link %q: only http, https and file links are fetched", link))
	case s.Provider == Asterisk && (s.RecordingBaseURL == "" || !strings.HasPrefix(link, s.RecordingBaseURL)):
		return nil, "", channels.Permanent(fmt.Errorf("recording link %q is not under the account's recording base URL", link))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, "", channels.Permanent(err)
	}
	client := recordingClient
	if s.Provider != Asterisk && !s.RecordingsOnLAN {
		client = publicClient
	}
	resp, err := client.Do(req)
	if errors.Is(err, errPrivate) {
		return nil, "", channels.Permanent(fmt.Errorf("%w (%s); allow it in the account's settings if the PBX is yours", errPrivate, u.Host))
	}
	if err != nil {
		return nil, "", fmt.Errorf("fetching the recording: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err := fmt.Errorf("fetching the recording: the server answered %s", resp.Status)
		if resp.StatusCode == http.StatusGone {
			err = channels.Permanent(err) // expired: it will not come back
		}
		return nil, "", err
	}
	return resp.Body, resp.Header.Get("Content-Type"), nil
}

// openRecordingFile opens a recording on a disk this process reads (a
// PBX's monitor directory mounted here), refusing any path that leaves the
// account's RecordingDir.
func openRecordingFile(s Settings, name string) (io.ReadCloser, string, error) {
	if s.Provider != Asterisk || s.RecordingDir == "" {
		return nil, "", channels.Permanent(errors.New("this account has no recording directory"))
	}
	root, err := filepath.EvalSymlinks(s.RecordingDir)
	if err != nil {
		return nil, "", fmt.Errorf("recording directory: %w", err)
	}
	full, err := filepath.EvalSymlinks(filepath.Clean(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("the recording %s is not there (yet)", filepath.Base(name))
	}
	if err != nil {
		return nil, "", err
	}
	if rel, err := filepath.Rel(root, full); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, "", channels.Permanent(fmt.Errorf("the recording %s is outside the account's recording directory", name))
	}
	f, err := os.Open(full)
	if err != nil {
		return nil, "", err
	}
	return f, mime.TypeByExtension(filepath.Ext(full)), nil
}

// RecordingFileURL is the link of a recording under dir (a file:// URL).
func RecordingFileURL(dir, name string) string {
	return (&url.URL{Scheme: "file", Path: filepath.Join(dir, name)}).String()
}

// OpenRecording opens an Asterisk call's recording, within the account's
// RecordingBaseURL or RecordingDir.
func (a *AMI) OpenRecording(ctx context.Context, link string) (io.ReadCloser, string, error) {
	return openRecording(ctx, a.s, link)
}
