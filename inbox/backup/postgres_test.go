package backup

import "testing"

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
