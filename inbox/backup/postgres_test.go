package backup

import (
	"errors"
	"strings"
	"testing"
)

func TestHidePassword(t *testing.T) {
	for _, c := range []struct{ in, dsn, pw string }{
		{"postgres://sb:s3cr%40t@db:5432/sb?sslmode=disable", "postgres://sb@db:5432/sb?sslmode=disable", "s3cr@t"},
		{"host=db user=sb password=s3cret dbname=sb", "host=db user=sb dbname=sb", "s3cret"},
		{`password='a \'b\' c\\' host=db`, "host=db", `a 'b' c\`},
		{"host=127.0.0.1 user=postgres dbname=test", "host=127.0.0.1 user=postgres dbname=test", ""},
	} {
		dsn, env := hidePassword(c.in)
		pw := ""
		if last := env[len(env)-1]; len(last) > 11 && last[:11] == "PGPASSWORD=" {
			pw = last[11:]
		}
		if dsn != c.dsn || pw != c.pw {
			t.Errorf("hidePassword(%q) = %q, PGPASSWORD %q; want %q, %q", c.in, dsn, pw, c.dsn, c.pw)
		}
	}
}

func TestAMissingClientToolSaysWhatToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, c := range []struct{ named, def string }{{"", "pg_dump"}, {"", "pg_restore"}, {"/opt/pg/bin/pg_dump", "pg_dump"}} {
		_, err := tool(c.named, c.def)
		if !errors.Is(err, ErrNoTool) || !strings.Contains(err.Error(), "apt-get install postgresql-client") ||
			!strings.Contains(err.Error(), "pg_dump -Fc -f switchboard.pgdump") || !strings.Contains(err.Error(), "--"+strings.ReplaceAll(c.def, "_", "-")) {
			t.Errorf("tool(%q, %q): %v", c.named, c.def, err)
		}
	}
}
