package crm_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

func TestSecretBox(t *testing.T) {
	box := newBox(t)
	const plain = "imap-p@ssw0rd-Пароль"

	t.Run("what is sealed opens to the same text", func(t *testing.T) {
		sealed, err := box.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := box.Open(sealed)
		if err != nil {
			t.Fatal(err)
		}
		if got != plain {
			t.Errorf("Open(Seal(%q)) = %q", plain, got)
		}
	})

	t.Run("the sealed text does not contain the plain text", func(t *testing.T) {
		sealed, _ := box.Seal(plain)
		if strings.Contains(sealed, plain) || strings.Contains(sealed, "p@ssw0rd") {
			t.Errorf("sealed %q contains the secret", sealed)
		}
		if strings.Contains(sealed, base64.StdEncoding.EncodeToString([]byte(plain))) {
			t.Errorf("sealed %q is merely base64 of the secret", sealed)
		}
	})

	t.Run("sealing twice gives different texts", func(t *testing.T) {
		a, _ := box.Seal(plain)
		b, _ := box.Seal(plain)
		if a == b {
			t.Errorf("two seals of the same secret are identical: %q", a)
		}
	})

	t.Run("the empty secret stays empty", func(t *testing.T) {
		sealed, err := box.Seal("")
		if err != nil || sealed != "" {
			t.Errorf("Seal(\"\") = %q, %v", sealed, err)
		}
		if got, err := box.Open(""); err != nil || got != "" {
			t.Errorf("Open(\"\") = %q, %v", got, err)
		}
	})

	t.Run("opening with another key fails with a clear error", func(t *testing.T) {
		sealed, _ := box.Seal(plain)
		other, err := crm.NewSecretBox(bytes.Repeat([]byte{8}, 32))
		if err != nil {
			t.Fatal(err)
		}
		got, err := other.Open(sealed)
		if err == nil {
			t.Fatalf("Open with another key = %q, want an error", got)
		}
		if got != "" || !strings.Contains(err.Error(), "key") {
			t.Errorf("Open with another key = %q, %v; want no text and an error naming the key", got, err)
		}
	})

	t.Run("a tampered sealed text does not open", func(t *testing.T) {
		sealed, _ := box.Seal(plain)
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
		raw[len(raw)-1] ^= 1
		if got, err := box.Open("v1:" + base64.StdEncoding.EncodeToString(raw)); err == nil {
			t.Errorf("tampered text opened to %q", got)
		}
	})

	t.Run("garbage does not open", func(t *testing.T) {
		for _, s := range []string{"v1:!!!", "v1:AAAA", "plain text"} {
			if got, err := box.Open(s); err == nil {
				t.Errorf("Open(%q) = %q, want an error", s, got)
			}
		}
	})
}

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab, 0x01}, 16)
	accepted := []struct {
		name string
		in   string
	}{
		{"64 hex digits are a key", hex.EncodeToString(key)},
		{"64 upper-case hex digits with spaces around are a key", "  " + strings.ToUpper(hex.EncodeToString(key)) + "\n"},
		{"standard base64 of 32 bytes is a key", base64.StdEncoding.EncodeToString(key)},
		{"unpadded base64 of 32 bytes is a key", base64.RawStdEncoding.EncodeToString(key)},
		{"URL-safe base64 of 32 bytes is a key", base64.URLEncoding.EncodeToString(key)},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crm.ParseKey(tt.in)
			if err != nil {
				t.Fatalf("ParseKey(%q): %v", tt.in, err)
			}
			if !bytes.Equal(got, key) {
				t.Errorf("ParseKey(%q) = %x, want %x", tt.in, got, key)
			}
		})
	}
	rejected := []struct {
		name string
		in   string
	}{
		{"an empty key is rejected", ""},
		{"62 hex digits are rejected", hex.EncodeToString(key)[:62]},
		{"base64 of 16 bytes is rejected", base64.StdEncoding.EncodeToString(key[:16])},
		{"base64 of 33 bytes is rejected", base64.StdEncoding.EncodeToString(append(key, 1))},
		{"a passphrase is rejected", "correct horse battery staple"},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := crm.ParseKey(tt.in); err == nil {
				t.Errorf("ParseKey(%q) = %x, want an error", tt.in, got)
			}
		})
	}
}

func TestAccountSecretIsNeverExposed(t *testing.T) {
	db := crmtest.Open(t)
	box := newBox(t)
	name, secret := "Mailbox", "hunter2-imap-password"
	a, err := crm.SaveAccount(db, box, 0, crm.AccountInput{
		Channel: "email", Name: &name, Secret: &secret,
		Settings: json.RawMessage(`{"host":"imap.example.com"}`),
	})
	if err != nil {
		t.Fatal(err)
	}

	stored, err := crm.GetAccount(db, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the database holds the sealed secret, which opens to the plain one", func(t *testing.T) {
		if stored.Secret == "" || strings.Contains(stored.Secret, secret) {
			t.Fatalf("stored secret = %q, want it sealed", stored.Secret)
		}
		if got, err := box.Open(stored.Secret); err != nil || got != secret {
			t.Errorf("Open(stored) = %q, %v", got, err)
		}
	})

	for _, tc := range []struct {
		name string
		acct crm.Account
	}{
		{"the saved account's JSON has no secret", a},
		{"a loaded account's JSON has no secret", stored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.acct)
			if err != nil {
				t.Fatal(err)
			}
			out := string(raw)
			if strings.Contains(out, secret) {
				t.Errorf("JSON %s contains the plain secret", out)
			}
			if strings.Contains(out, stored.Secret) || strings.Contains(out, strings.TrimPrefix(stored.Secret, "v1:")) {
				t.Errorf("JSON %s contains the sealed secret", out)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if m["has_secret"] != true {
				t.Errorf("has_secret = %v, want true", m["has_secret"])
			}
			if _, ok := m["secret"]; ok {
				t.Errorf("JSON has a secret field: %s", out)
			}
		})
	}

	t.Run("editing other fields keeps the secret", func(t *testing.T) {
		newName := "Mailbox 2"
		b, err := crm.SaveAccount(db, box, a.ID, crm.AccountInput{Name: &newName})
		if err != nil {
			t.Fatal(err)
		}
		if !b.HasSecret {
			t.Error("has_secret = false after a rename")
		}
		if got, _ := crm.GetAccount(db, a.ID); got.Secret != stored.Secret {
			t.Error("the sealed secret changed on a rename")
		}
	})

	t.Run("an account without a secret says so", func(t *testing.T) {
		n := "Web form"
		b, err := crm.SaveAccount(db, box, 0, crm.AccountInput{Channel: "web", Name: &n})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(b)
		if !strings.Contains(string(raw), `"has_secret":false`) {
			t.Errorf("JSON %s, want has_secret false", raw)
		}
	})
}
