package server

import (
	"testing"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
	"github.com/switchboard/switchboard/crm"
)

// The Sources page gives a bot's start code its ready t.me link once the
// running bot has told its username (issue 16, item 10).
func TestBrowserABotCodeHasItsTMeLink(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@x.ru", crm.Owner)
	fake := telegramtest.NewServer(t, tgToken)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Telegram: telegram.New})
	acc := ta.tgAccount("Бот", fake, "")
	if _, err := crm.CreateEntryPoint(ta.db, acc.ID, "ya1", true, nil, nil); err != nil {
		t.Fatal(err)
	}
	ta.startApp()
	eventually(t, "the bot live", func() bool {
		st, _ := ta.Supervisor().State(acc.ID)
		return st.Phase == channels.Live && st.Self == telegramtest.BotUsername
	})
	b := newBrowser(t, ta)
	o := b.tab("owner", "ru-RU")
	o.login("owner@x.ru")
	o.open("/owner/sources")
	o.waitText("#entries-table .tg-link", "https://t.me/"+telegramtest.BotUsername+"?start=ya1")
	o.noScriptErrors()
}
