package channels

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// The signature of Switchboard's own hooks (web forms, the generic phone
// hook): the sender signs timestamp + "." + body with HMAC-SHA256 under
// the account's secret.
const (
	// HeaderTimestamp carries the signing time in unix seconds.
	HeaderTimestamp = "X-Switchboard-Timestamp"
	// HeaderSignature carries SignaturePrefix followed by the lowercase
	// hex HMAC-SHA256 of timestamp + "." + body.
	HeaderSignature = "X-Switchboard-Signature"
	// SignaturePrefix starts every HeaderSignature value.
	SignaturePrefix = "sha256="
)

// Sign returns the HeaderSignature value of body sent at timestamp.
func Sign(secret []byte, timestamp string, body []byte) string {
	return SignaturePrefix + hex.EncodeToString(hookMAC(secret, timestamp, body))
}

// SignatureMatches reports whether sig (a HeaderSignature value) signs
// body sent at timestamp under secret, in constant time. wellFormed is
// false when sig is not "sha256=<hex>" at all.
func SignatureMatches(secret []byte, timestamp string, body []byte, sig string) (ok, wellFormed bool) {
	got, prefixed := strings.CutPrefix(sig, SignaturePrefix)
	mac, err := hex.DecodeString(got)
	if !prefixed || err != nil {
		return false, false
	}
	return hmac.Equal(mac, hookMAC(secret, timestamp, body)), true
}

func hookMAC(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
