package crm

// Kinds of an account's error (channels.State.Error): what the Accounts
// page explains in the owner's language, the adapter's own words beside
// it.
const (
	AccountUnlinked       = "unlinked"        // WhatsApp: the device was removed on the phone
	AccountReplaced       = "replaced"        // WhatsApp: the session connected elsewhere
	AccountBanned         = "banned"          // WhatsApp: a temporary ban
	AccountOutdated       = "outdated"        // WhatsApp refused this client's version
	AccountPairingTimeout = "pairing_timeout" // nobody scanned the QR code or typed the code
	AccountNoAdapter      = "no_adapter"      // no adapter for the channel in this build
	AccountStoring        = "storing"         // what arrived could not be stored (the database)
	AccountSending        = "sending"         // replies through the account fail
	AccountAuth           = "auth"            // the login, token or password was refused
	AccountSettings       = "settings"        // the account's settings are wrong
	AccountNetwork        = "network"         // the server could not be reached
	AccountOther          = "other"
)

// accountHints maps words of the adapters' state errors to a kind; the
// first match wins.
var accountHints = []errorHint{
	{AccountUnlinked, []string{"unlinked on the phone"}},
	{AccountReplaced, []string{"another client took the session"}},
	{AccountBanned, []string{"temporarily banned"}},
	{AccountOutdated, []string{"outdated"}},
	{AccountPairingTimeout, []string{"scanned the qr code in time", "typed the pairing code"}},
	{AccountNoAdapter, []string{"no adapter"}},
	{AccountStoring, []string{"storing a message", "not stored"}},
	{AccountSending, []string{"sending:"}},
	{AccountAuth, []string{"refused (revoked or mistyped)", "unauthorized", "authentication", "auth", "login", "535 5.", "password", "token"}},
	{AccountSettings, []string{"settings", "is not", "must be"}},
	{AccountNetwork, []string{"timeout", "deadline exceeded", "connection refused", "connection reset", "no such host", "unreachable", "eof", "connect", "tls", "dial", "stopped answering"}},
}

// AccountErrorKind names what an account's error means ("" for none).
func AccountErrorKind(err string) string { return kindOf(err, accountHints, AccountOther) }
