// Package phone is the adapter of the "phone" channel: calls to and from
// the company's numbers, from a PBX the company runs (Asterisk or FreePBX,
// through the Asterisk Manager Interface) or from a cloud PBX that reports
// calls to a webhook (a generic signed JSON event, Mango Office,
// Zadarma/Novofon, UIS/CoMagic).
//
// Every call becomes one Inbound of kind Call, whatever the PBX did with
// it (ring groups, queues, transfers): the caller's number in From, the
// called number (the tracking number, the entry point) in EntryPoint, the
// outcome in CallInfo. A call placed from a company extension is Outgoing.
// Internal calls between extensions are not touches.
//
// An account's Settings choose the provider (see Settings); its Secret is
// the AMI password, or the provider's signing secret.
package phone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/switchboard/switchboard/channels"
)

// Providers (Settings.Provider).
const (
	Asterisk = "asterisk" // AMI: plain Asterisk or FreePBX, versions 13 to 22
	Generic  = "generic"  // our documented signed JSON call events
	Mango    = "mango"    // Mango Office VPBX API events
	Zadarma  = "zadarma"  // Zadarma and Novofon PBX notifications
	UIS      = "uis"      // UIS / CoMagic notifications
)

// Settings is a phone account's configuration (Account.Settings).
type Settings struct {
	// Provider is one of the provider constants; Asterisk when empty.
	Provider string `json:"provider,omitempty"`

	// Host and Port of the Asterisk Manager Interface (port 5038 when
	// zero); User is the manager user (manager_custom.conf), its password
	// is the account's secret.
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
	User string `json:"user,omitempty"`
	// OriginateContext is the dialplan context click-to-call dials the
	// contact in ("from-internal" when empty, as on FreePBX).
	OriginateContext string `json:"originate_context,omitempty"`
	// RecordingBaseURL, when set, is prefixed to a recording's file name
	// (MIXMONITOR_FILENAME relative to the monitor directory) to fetch it
	// over http(s); RecordingDir is the directory where this process can
	// read the recordings instead (a shared mount).
	RecordingBaseURL string `json:"recording_base_url,omitempty"`
	RecordingDir     string `json:"recording_dir,omitempty"`

	// APIKey is a cloud provider's public key (Mango's vpbx_api_key,
	// Zadarma's key); its secret is the account's secret.
	APIKey string `json:"api_key,omitempty"`
	// APIURL overrides the provider's API address (click-to-call), for a
	// regional endpoint or a test server.
	APIURL string `json:"api_url,omitempty"`
	// RecordingsOnLAN lets a cloud PBX's recording links point into a
	// private network (a PBX in the office that a generic hook reports
	// for). Off, such links are refused: a signed event must not make
	// Switchboard fetch from the machines around it.
	RecordingsOnLAN bool `json:"recordings_on_lan,omitempty"`
}

// Channel registers the phone channel.
func Channel() channels.Channel {
	return channels.Channel{Kind: channels.Phone, New: New, Check: func(raw json.RawMessage) error {
		_, err := ParseSettings(raw)
		return err
	}}
}

// ParseSettings reads and checks an account's settings.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields() // a typo is refused, not ignored
		if err := dec.Decode(&s); err != nil {
			return s, fmt.Errorf("phone: settings: %w", err)
		}
	}
	s.Provider = strings.ToLower(strings.TrimSpace(s.Provider))
	if s.Provider == "" {
		s.Provider = Asterisk
	}
	switch s.Provider {
	case Asterisk:
		if s.Host == "" || s.User == "" {
			return s, fmt.Errorf("phone: an Asterisk account needs host and user")
		}
		if s.Port == 0 {
			s.Port = 5038
		}
		if s.OriginateContext == "" {
			s.OriginateContext = "from-internal"
		}
	case Generic, Mango, Zadarma, UIS:
	default:
		return s, fmt.Errorf("phone: unknown provider %q (asterisk, generic, mango, zadarma, uis)", s.Provider)
	}
	return s, nil
}

// New builds a phone account's adapter: an AMI client for Asterisk, a
// webhook receiver for a cloud PBX.
func New(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
	s, err := ParseSettings(acc.Settings)
	if err != nil {
		return nil, err
	}
	log = log.With("account", acc.ID, "channel", string(channels.Phone), "provider", s.Provider)
	if s.Provider == Asterisk {
		return newAMI(acc, s, log)
	}
	return newCloud(acc, s, log)
}
