package inbox

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram"
	"github.com/switchboard/switchboard/crm"
)

func TestAWebhookForADisabledAccountIsRefusedSoTheSenderRetries(t *testing.T) {
	ta := newTestApp(t)
	ta.opts.Adapters = map[channels.Kind]channels.Factory{channels.Telegram: telegram.New}
	name, token, off := "bot", "123:TOKEN", false
	acc, err := crm.SaveAccount(ta.db, ta.box, 0, crm.AccountInput{Channel: "telegram", Name: &name, Secret: &token, Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	st, body := ta.anon().raw("POST", fmt.Sprintf("/hooks/telegram/%d", acc.ID), `{"update_id":1}`)
	if st != 404 || !strings.Contains(string(body), `"code":"not_found"`) {
		t.Errorf("webhook for a disabled account: %d %s, want 404 so Telegram keeps the update", st, body)
	}
	if n := ta.count("touches", ""); n != 0 {
		t.Errorf("touches = %d", n)
	}
}
