package whatsapp

import (
	"context"
	"time"

	"go.mau.fi/whatsmeow/types"

	"github.com/switchboard/switchboard/channels"
)

// A linked device works only while the phone it is linked to comes
// online now and then: WhatsApp ends the link after about 14 days
// without it. The adapter notes when the phone was last seen (it sent a
// message, read or acknowledged one, sent history, or linked the device)
// and warns once it has been offline for PhoneOfflineAfter.
const (
	PhoneOfflineAfter = 3 * 24 * time.Hour
	// phoneCheckEvery is how often a running account looks again.
	phoneCheckEvery = time.Hour
	// phoneSaveEvery bounds the writes of the last-seen time.
	phoneSaveEvery = time.Hour
)

// SeenLog keeps when each account's phone was last seen, across restarts
// (Store does, in the application's database).
type SeenLog interface {
	// PhoneSeen is when the phone was last seen (zero: never recorded).
	PhoneSeen(ctx context.Context, account int64) (time.Time, error)
	SetPhoneSeen(ctx context.Context, account int64, at time.Time) error
}

// SetSeenLog keeps the phone's last sighting in l (Channel uses the
// session Store), so a restart neither forgets nor resets it. Call it
// before Run.
func (a *Adapter) SetSeenLog(l SeenLog) { a.seenLog = l }

// loadPhoneSeen starts a run from the recorded last sighting; a device
// with none yet counts as seen now.
func (a *Adapter) loadPhoneSeen(ctx context.Context) {
	var at time.Time
	if a.seenLog != nil {
		var err error
		if at, err = a.seenLog.PhoneSeen(ctx, a.account); err != nil {
			a.log.Warn("whatsapp: when the phone was last seen is unknown", "err", err)
		}
	}
	a.mu.Lock()
	a.seen, a.seenSaved, a.warned = at, at, false
	a.mu.Unlock()
	if at.IsZero() {
		a.phoneSeen(time.Now())
	}
}

// fromPhone reports whether sender is the account's phone (device 0 of
// its own number) rather than another linked device.
func fromPhone(sender types.JID) bool { return sender.Device == 0 }

// phoneSeen notes a sign of life of the phone at at.
func (a *Adapter) phoneSeen(at time.Time) {
	a.mu.Lock()
	if !at.After(a.seen) {
		a.mu.Unlock()
		return
	}
	a.seen = at
	save := a.seenLog != nil && at.Sub(a.seenSaved) >= phoneSaveEvery
	if save {
		a.seenSaved = at
	}
	a.mu.Unlock()
	if save {
		if err := a.seenLog.SetPhoneSeen(context.Background(), a.account, at); err != nil {
			a.log.Warn("whatsapp: when the phone was last seen not recorded", "err", err)
		}
	}
}

// checkPhone reports Live again when the phone-offline warning starts or
// ends.
func (a *Adapter) checkPhone(report func(channels.State)) {
	a.mu.Lock()
	offline := a.live && time.Since(a.seen) > PhoneOfflineAfter
	changed := offline != a.warned
	a.warned = offline
	a.mu.Unlock()
	if changed {
		if offline {
			a.log.Warn("whatsapp: the phone has not been online for days", "last_seen", a.lastSeen())
		}
		report(a.liveState())
	}
}

func (a *Adapter) lastSeen() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen
}

// liveState is Live, with the phone-offline warning when it stands.
func (a *Adapter) liveState() channels.State {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := channels.State{Phase: channels.Live}
	if a.live && time.Since(a.seen) > PhoneOfflineAfter {
		st.Warning, st.WarningSince = channels.WarnPhoneOffline, a.seen.UTC()
	}
	return st
}

// watchPhone checks the phone every phoneCheckEvery until ctx ends.
func (a *Adapter) watchPhone(ctx context.Context, report func(channels.State)) {
	t := time.NewTicker(phoneCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.checkPhone(report)
		}
	}
}
