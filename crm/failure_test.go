package crm_test

import (
	"testing"

	"github.com/switchboard/switchboard/crm"
)

// The adapters' errors read as kinds the UI can say in the user's language.
func TestFailureKinds(t *testing.T) {
	for err, want := range map[string]string{
		"": "",
		"interrupted 3 times before its result was recorded; it may have been delivered, so it is not sent again":   crm.FailInterrupted,
		"permanent failure: phone: a call cannot be answered with a message; call back or reply on another channel": crm.FailCannotSend,
		"permanent failure: web: a form cannot be answered; reply by phone, email or a messenger":                   crm.FailCannotSend,
		"permanent failure: whatsapp: this chat never wrote to the account: a first message is refused":             crm.FailFirstMessage,
		"permanent failure: telegram: sendMessage to 42: forbidden, Forbidden: bot was blocked by the user":         crm.FailBlocked,
		"permanent failure: email: smtp auth at smtp.example.ru:465: 535 5.7.8 Error: authentication failed":        crm.FailAuth,
		"permanent failure: email: recipient \"x\" is not an email address":                                         crm.FailRecipient,
		"email: smtp connect smtp.example.ru:465: dial tcp: lookup smtp.example.ru: no such host":                   crm.FailNetwork,
		"whatsapp: send to 79131234567@s.whatsapp.net: context deadline exceeded":                                   crm.FailNetwork,
		"whatsapp: upload price.pdf: server said 413":                                                               crm.FailAttachment,
		"something nobody foresaw": crm.FailOther,
	} {
		if got := crm.FailureKind(err); got != want {
			t.Errorf("FailureKind(%q) = %q, want %q", err, got, want)
		}
	}
}
