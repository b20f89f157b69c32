package inbox

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestRewriteImages(t *testing.T) {
	inline := func(src string) string {
		if contentIDKey(cidOf(src)) == "logo@x" {
			return "data:image/png;base64,AA=="
		}
		return ""
	}
	for _, c := range []struct{ name, in, want, wantRemote string }{
		{"cid as sent", `<p>Hi</p><img src="cid:logo@x" alt="Logo">`, `<p>Hi</p><img src="data:image/png;base64,AA==" alt="Logo">`, ""},
		{"cid in other case, percent-encoded, in brackets", `<IMG SRC="CID:%3CLogo%40X%3E">`, `<img src="data:image/png;base64,AA==">`, ""},
		{"entity-escaped brackets", `<img src="cid:&lt;logo@x&gt;" width=1>`, `<img src="data:image/png;base64,AA==" width="1">`, ""},
		{"unknown cid", `<img src="cid:other@x" alt="x">`, `<img alt="x">`, ""},
		{"remote", `<img src="https://t.example/p.gif" width="1" srcset="https://t.example/2x.gif 2x">`, `<img width="1">`, `<img src="https://t.example/p.gif" width="1">`},
		{"protocol-relative", `<img src="//t.example/p.gif">`, `<img>`, `<img src="//t.example/p.gif">`},
		{"anything else", `<img src="javascript:alert(1)"><img src="x.png"><img src="data:text/html,<b>">`, `<img><img><img>`, ""},
		{"other markup copied as it was", `<table><tr><td style="color:red">a &amp; b &gt; c</td></tr></table><a href="https://x.example/?a=1&amp;b=2">l</a>`, "", ""},
	} {
		want, wantRemote := c.want, c.wantRemote
		if want == "" {
			want = c.in
		}
		if wantRemote == "" {
			wantRemote = want
		}
		if got := rewriteImages(c.in, false, inline); got != want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, got, want)
		}
		if got := rewriteImages(c.in, true, inline); got != wantRemote {
			t.Errorf("%s (remote): got\n%s\nwant\n%s", c.name, got, wantRemote)
		}
	}
}

// FuzzRewriteImages: whatever the markup, no image source but the inline
// picture's survives unless remote images were asked for.
func FuzzRewriteImages(f *testing.F) {
	f.Add(`<img src="cid:a@b"><p>x</p>`)
	f.Add(`<img src=https://x/y srcset="a 2x"><style>a>b{}</style>`)
	f.Add(`<svg><img src="//x/y"></svg><img src='http://x' src="cid:a">`)
	const pic = "data:image/png;base64,AA=="
	f.Fuzz(func(t *testing.T, doc string) {
		out := rewriteImages(doc, false, func(string) string { return pic })
		z := html.NewTokenizer(strings.NewReader(out))
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			tok := z.Token()
			if tok.Data != "img" {
				continue
			}
			for _, at := range tok.Attr {
				if at.Key == "srcset" || at.Key == "src" && at.Val != pic {
					t.Fatalf("%s=%q left in %q → %q", at.Key, at.Val, doc, out)
				}
			}
		}
	})
}
