package email

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// testCert is a self-signed certificate for 127.0.0.1 and the client
// config that trusts it.
func testCert(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"mail.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func TestTLSAndStartTLS(t *testing.T) {
	serverTLS, clientTLS := testCert(t)

	// IMAP over implicit TLS (993-style).
	isrv := emailtest.NewIMAPServerTLS(t, serverTLS)
	isrv.Append("INBOX", testMail("tls@client.ru", "tls@client.ru", "TLS", "over tls"), time.Now())

	// SMTP with STARTTLS (587-style); AUTH only after the upgrade.
	ssrv := emailtest.NewSMTPServerTLS(t, serverTLS)

	ihost, iport, _ := net.SplitHostPort(isrv.Addr)
	_, sport, _ := net.SplitHostPort(ssrv.Addr)
	settings := `{"address":"sales@company.ru","imap_host":"` + ihost + `","imap_port":` + iport +
		`,"smtp_host":"127.0.0.1","smtp_port":` + sport + `,"smtp_security":"starttls"}`
	a, err := NewAdapter(channels.Account{ID: 7, Settings: []byte(settings), Secret: emailtest.Password}, testLog())
	if err != nil {
		t.Fatal(err)
	}

	// An untrusted certificate is refused, and retried (not permanent).
	st := &states{}
	if err := a.Run(context.Background(), newMemSink(), st.report); err == nil || !strings.Contains(err.Error(), "email: imap tls") {
		t.Fatalf("Run with an untrusted certificate = %v", err)
	}

	a.tlsConfig = clientTLS
	sink := newMemSink()
	r := start(t, a, sink)
	waitFor(t, "mail over TLS", func() bool { _, ok := sink.get("tls@client.ru"); return ok })

	if _, err := a.Send(context.Background(), channels.Outbound{To: channels.Handle{Kind: "email", Value: "c@example.org"}, Subject: "s", Text: "over starttls"}); err != nil {
		t.Fatal(err)
	}
	if m := ssrv.Messages(); len(m) != 1 || m[0].AuthedAs != emailtest.User {
		t.Fatalf("smtp got %+v", m)
	}
	r.stop(t)
}

func TestRunConnectionLostDuringIdle(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	a := newTestAdapter(t, srv.Addr, "", nil)
	st := &states{}
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background(), newMemSink(), st.report) }()
	waitFor(t, "live", func() bool { return st.has(channels.Live) })
	srv.Close()
	select {
	case err := <-done:
		if err == nil || !st.has(channels.Failing) {
			t.Fatalf("Run after the server went away = %v, states %v", err, st.phases())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not notice the lost connection")
	}
}
