package crm

import "testing"

func TestAccountErrorKind(t *testing.T) {
	for err, want := range map[string]string{
		"": "",
		"unlinked on the phone (WhatsApp → Linked devices), pair again: disable and enable the account to show a new QR code": AccountUnlinked,
		"telegram: getMe: the bot token was refused (revoked or mistyped): unauthorized":                                      AccountAuth,
		"imap: dial tcp 10.0.0.1:993: i/o timeout":                                                                            AccountNetwork,
		"no adapter for this channel in this build yet":                                                                       AccountNoAdapter,
		"sending: smtp: 554 5.7.1 message refused":                                                                            AccountSending,
		"storing a message: the database is locked":                                                                           AccountStoring,
		"temporarily banned by WhatsApp (code 101) until 2026-12-04T10:00:00Z; sending is paused":                             AccountBanned,
		"something nobody foresaw":                                                                                            AccountOther,
	} {
		if got := AccountErrorKind(err); got != want {
			t.Errorf("%q: %q, want %q", err, got, want)
		}
	}
}
