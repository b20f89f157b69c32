package whatsapp

import (
	"context"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/switchboard/switchboard/channels"
)

// historyBatch is how many history messages go to the sink at once.
const historyBatch = 100

// historyDays is how far back history is imported.
func (a *Adapter) historyDays() int {
	if d := a.settings.HistoryDays; d != nil {
		return *d
	}
	return DefaultHistoryDays
}

// history imports a history sync (the phone sends the chats' past after
// the first pairing, in several parts): the messages of the last
// HistoryDays days, converted as live ones and marked History, in
// batches. Message ids make it idempotent with what arrived live or in
// an earlier part. It reports Syncing with its progress, then Live.
func (a *Adapter) history(ctx context.Context, cli Client, sink channels.Sink, report func(channels.State), e *events.HistorySync) {
	a.phoneSeen(time.Now())
	days := a.historyDays()
	if days == 0 || e.Data == nil {
		return
	}
	since := time.Now().AddDate(0, 0, -days)
	var ins []channels.Inbound
	for _, conv := range e.Data.GetConversations() {
		chat, err := types.ParseJID(conv.GetID())
		if err != nil {
			a.log.Warn("whatsapp: history: a chat with a bad id", "id", conv.GetID(), "err", err)
			continue
		}
		for _, m := range conv.GetMessages() {
			wm := m.GetMessage()
			if wm == nil || time.Unix(int64(wm.GetMessageTimestamp()), 0).Before(since) {
				continue
			}
			evt, err := cli.ParseWebMessage(chat, wm)
			if err != nil {
				a.log.Warn("whatsapp: history: a message not read", "chat", chat.String(), "id", wm.GetKey().GetID(), "err", err)
				continue
			}
			in, ok := a.Inbound(ctx, cli, evt)
			if !ok {
				continue
			}
			in.History = true
			if !evt.Info.IsFromMe {
				a.markWrote(evt.Info.Chat)
			}
			ins = append(ins, in)
		}
	}
	if len(ins) == 0 {
		return
	}
	a.log.Info("whatsapp: importing history", "messages", len(ins), "days", days, "part", e.Data.GetChunkOrder(), "type", e.Data.GetSyncType().String())
	for done := 0; done < len(ins) && ctx.Err() == nil; done += historyBatch {
		report(channels.State{Phase: channels.Syncing, Done: done, Total: len(ins)})
		a.store(ctx, sink, report, ins[done:min(done+historyBatch, len(ins))])
	}
	if a.isLive() {
		report(a.liveState())
	}
}
