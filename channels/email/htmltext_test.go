package email

import "testing"

// An HTML-only mail's text (the list preview and search) keeps words apart
// across tags, blocks and list items on their own lines, and a link's
// address (issue 15, item 5).
func TestHTMLTextKeepsWordsBlocksListsAndLinks(t *testing.T) {
	for _, c := range []struct{ html, want string }{
		{`<span>This</span> <em>is</em> <b>one</b> sentence.`, "This is one sentence."},
		{`<b>Угловая</b> кухня <i>из</i> массива`, "Угловая кухня из массива"},
		{`Цена:<b> 190 000 ₽</b>, срок<i> 3 недели</i>`, "Цена: 190 000 ₽, срок 3 недели"},
		{`<div>Row</div><div>Next</div><table><tr><td>a</td><td>b</td></tr></table>`, "Row\nNext\n\na b"},
		{`<p>Список:</p><ul><li>фасады</li><li>столешница</li></ul><p>Всё.</p>`, "Список:\n\n- фасады\n- столешница\n\nВсё."},
		{`see <a href="https://kuhni.example/catalog">our catalog</a> or <a href="https://kuhni.example">https://kuhni.example</a>`, "see our catalog <https://kuhni.example/catalog> or https://kuhni.example"},
		{`write to <a href="mailto:sales@kuhni.example">sales@kuhni.example</a>`, "write to sales@kuhni.example"},
		{`<a href="javascript:alert(1)">click</a> here`, "click here"},
		{`<style>p{color:red}</style><script>x()</script><p>Visible</p>`, "Visible"},
		{`Привет&nbsp;мир &amp; друзья<br>вторая строка`, "Привет мир & друзья\nвторая строка"},
	} {
		if got := htmlText(c.html); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.html, got, c.want)
		}
	}
}
