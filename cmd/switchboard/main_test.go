package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

// dataEnv points the commands at a fresh database: a SQLite data dir, or a
// fresh PostgreSQL database when the suite runs against one.
func dataEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("SWITCHBOARD_DATA", dir)
	t.Setenv("SWITCHBOARD_SECRET_KEY", strings.Repeat("ab", 32))
	if crmtest.Postgres() {
		_, dsn := crmtest.OpenDSN(t)
		t.Setenv("DATABASE_URL", dsn)
	} else {
		t.Setenv("DATABASE_URL", "")
	}
	return dir
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestServeStartsCreatesTheOwnerAndStopsOnSignal(t *testing.T) {
	dataEnv(t)
	addr := freeAddr(t)
	t.Setenv("SWITCHBOARD_ADDR", addr)
	t.Setenv("SWITCHBOARD_OWNER_EMAIL", "boss@example.ru")
	t.Setenv("SWITCHBOARD_OWNER_PASSWORD", "correct-horse")
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
	t.Setenv("SWITCHBOARD_METRICS_TOKEN", "prom-token")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}) }()

	base := "http://" + addr
	var up bool
	for i := 0; i < 100 && !up; i++ {
		if r, err := http.Get(base + "/readyz"); err == nil {
			up = r.StatusCode == 200
			r.Body.Close()
		}
		if !up {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !up {
		t.Fatal("server did not become ready")
	}
	r, err := http.Post(base+"/api/v1/login", "application/json", strings.NewReader(`{"email":"boss@example.ru","password":"correct-horse"}`))
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		User struct{ Role string }
	}
	json.NewDecoder(r.Body).Decode(&me)
	r.Body.Close()
	if r.StatusCode != 200 || me.User.Role != "owner" {
		t.Fatalf("owner login: %d %+v", r.StatusCode, me)
	}
	if r, err := http.Get(base + "/"); err != nil || r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("UI at /: %v %v", r, err)
	}
	if err := run(context.Background(), []string{"healthcheck"}); err != nil {
		t.Errorf("healthcheck of a ready server: %v", err)
	}
	// SWITCHBOARD_METRICS_TOKEN turns /metrics on, for that token only.
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer prom-token")
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("/metrics with the token: %v %v", r, err)
	} else {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if !strings.Contains(string(b), `switchboard_http_requests_total{code="200",route="GET /readyz"}`) {
			t.Errorf("/metrics lacks the readiness probes: %.500s", b)
		}
	}
	if r, err := http.Get(base + "/metrics"); err != nil || r.StatusCode != 401 {
		t.Fatalf("/metrics without the token: %v %v", r, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after the signal", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if err := run(context.Background(), []string{"healthcheck"}); err == nil {
		t.Error("healthcheck passed with the server stopped")
	}
}

func TestUserAddPasswdAndAuditVerify(t *testing.T) {
	dataEnv(t)
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
	ctx := context.Background()
	if err := run(ctx, []string{"migrate"}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"user", "add", "--email", "lead@example.ru", "--role", "lead", "--password", "long-enough"}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"user", "add", "--email", "lead@example.ru", "--role", "lead", "--password", "long-enough"}); err == nil {
		t.Error("adding the same email twice must fail")
	}
	if err := run(ctx, []string{"user", "add", "--email", "x@example.ru", "--role", "boss"}); err == nil || !strings.Contains(err.Error(), "role") {
		t.Errorf("bad role: %v", err)
	}
	if err := run(ctx, []string{"user", "passwd", "--email", "lead@example.ru", "--password", "another-one"}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"user", "passwd", "--email", "nobody@example.ru", "--password", "another-one"}); err == nil {
		t.Error("passwd of an unknown user must fail")
	}
	if err := run(ctx, []string{"audit", "verify"}); err != nil {
		t.Fatalf("audit verify on an intact chain: %v", err)
	}

	// Tamper with the first row behind the triggers' back.
	db, err := crm.Open(os.Getenv("DATABASE_URL"), os.Getenv("SWITCHBOARD_DATA"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	var ids []int64
	db.Table("audit_log").Order("id").Pluck("id", &ids)
	if len(ids) != 2 {
		t.Fatalf("audit rows = %d, want user.create and user.password", len(ids))
	}
	if crm.Dialect(db) == "postgres" {
		db.Exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
	} else {
		db.Exec("DROP TRIGGER audit_log_no_update")
	}
	if err := db.Exec("UPDATE audit_log SET data = ? WHERE id = ?", `{"email":"forged@example.ru"}`, ids[0]).Error; err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"audit", "verify"})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("row %d", ids[0])) {
		t.Fatalf("audit verify after tampering: %v, want it to name row %d", err, ids[0])
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, cmd := range [][]string{{"serve"}, {"migrate"}, {"user", "add"}, {"user", "passwd"}, {"audit", "verify"}} {
		err := run(context.Background(), append(cmd, "--help"))
		if err == nil || !strings.Contains(err.Error(), "help requested") {
			t.Errorf("%v --help: %v", cmd, err)
		}
	}
	if err := run(context.Background(), []string{"version"}); err != nil {
		t.Error(err)
	}
	if err := run(context.Background(), []string{"frobnicate"}); err == nil {
		t.Error("an unknown command must fail")
	}
}

func TestSecretKeyIsGeneratedOnceIntoTheDataDir(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{DataDir: dir}
	log := cfg.logger()
	if _, err := secretBox(cfg, log); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secretBox(cfg, log); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(dir, "secret.key"))
	if string(first) != string(second) {
		t.Error("the key file changed on the second start: sealed secrets would be lost")
	}
	if st, _ := os.Stat(filepath.Join(dir, "secret.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestTrustedProxiesMustBeAddressesOrCIDRs(t *testing.T) {
	dataEnv(t)
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // should a bad value pass, serve stops at once instead of hanging
	for _, c := range []struct{ env, flag, bad string }{
		{flag: "10.0.0.1,10.0.0.300", bad: `"10.0.0.300"`},
		{flag: "172.16.0.0/33", bad: `"172.16.0.0/33"`},
		{env: "10.0.0.1, proxy.local", bad: `"proxy.local"`},
		{env: "fd00::/8,10.0.0.0/8/8", bad: `"10.0.0.0/8/8"`},
	} {
		t.Setenv("SWITCHBOARD_TRUSTED_PROXIES", c.env)
		args := []string{"serve"}
		if c.flag != "" {
			args = append(args, "--trusted-proxies", c.flag)
		}
		err := run(ctx, args)
		if err == nil || !strings.Contains(err.Error(), "trusted-proxies") || !strings.Contains(err.Error(), c.bad) {
			t.Errorf("%v with SWITCHBOARD_TRUSTED_PROXIES=%q: %v, want an error naming %s", args, c.env, err, c.bad)
		}
	}

	cfg := Config{Region: "RU", Currency: "RUB", TrustedProxies: " 10.0.0.5, 172.16.0.0/12,fd00::/8,::ffff:192.0.2.1,10.1.2.3/8, "}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	if !slices.Equal(cfg.trustedProxies, want) {
		t.Errorf("parsed %v, want %v", cfg.trustedProxies, want)
	}
}
