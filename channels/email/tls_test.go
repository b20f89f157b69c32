package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"

	"github.com/switchboard/switchboard/channels"
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
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	user.Create("INBOX", nil)
	mem.AddUser(user)
	isrv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		Logger: log.New(io.Discard, "", 0),
	})
	iln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	go isrv.Serve(iln)
	t.Cleanup(func() { isrv.Close() })
	user.Append("INBOX", literalOf(testMail("tls@client.ru", "tls@client.ru", "TLS", "over tls")), &imap.AppendOptions{Time: time.Now()})

	// SMTP with STARTTLS (587-style); AUTH only after the upgrade.
	ssrv := &smtpServer{}
	sm := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: ssrv}, nil }))
	sm.Domain, sm.TLSConfig = "localhost", serverTLS
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go sm.Serve(sln)
	t.Cleanup(func() { sm.Close() })

	ihost, iport, _ := net.SplitHostPort(iln.Addr().String())
	_, sport, _ := net.SplitHostPort(sln.Addr().String())
	settings := `{"address":"sales@company.ru","imap_host":"` + ihost + `","imap_port":` + iport +
		`,"smtp_host":"127.0.0.1","smtp_port":` + sport + `,"smtp_security":"starttls"}`
	a, err := NewAdapter(channels.Account{ID: 7, Settings: []byte(settings), Secret: testPassword}, testLog())
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
	if m := ssrv.messages(); len(m) != 1 || m[0].authed != testUser {
		t.Fatalf("smtp got %+v", m)
	}
	r.stop(t)
}

func TestRunConnectionLostDuringIdle(t *testing.T) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	user.Create("INBOX", nil)
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}, InsecureAuth: true,
		Logger: log.New(io.Discard, "", 0),
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	a := newTestAdapter(t, ln.Addr().String(), "", nil)
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

func literalOf(b []byte) imap.LiteralReader {
	return literal{bytes.NewReader(b), int64(len(b))}
}
