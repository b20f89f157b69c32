package inbox

import (
	"context"
	"time"

	"github.com/switchboard/switchboard/crm"
)

// TeamRow is one manager's line of the team view (UserID 0: the
// unassigned queue, which has no reply times or wins).
type TeamRow struct {
	UserID int64 `json:"user_id"`
	crm.TeamLoad
	crm.ReplyTimes
	Won []crm.TeamWon `json:"won"`
}

// Team is the team view for a period: each manager's load now, and
// their answer times and wins in the period.
type Team struct {
	Period string    `json:"period"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	// OverdueAfterS is the wait, in seconds, after which a conversation
	// counts as overdue.
	OverdueAfterS int64     `json:"overdue_after_s"`
	Rows          []TeamRow `json:"rows"`
}

// teamPeriod is today or the last 7 days (today included), in the
// company's time zone.
func (a *App) teamPeriod(period string, now time.Time) (from, to time.Time, err error) {
	local := now.In(a.opts.TimeZone)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, a.opts.TimeZone)
	switch period {
	case "", "today":
		return midnight, midnight.AddDate(0, 0, 1), nil
	case "week":
		return midnight.AddDate(0, 0, -6), midnight.AddDate(0, 0, 1), nil
	}
	return from, to, crm.Invalid("period must be today or week, not %q", period)
}

// Team is the team view (leads and the owner): a row per active manager
// and lead, and one for the unassigned queue.
func (a *App) Team(ctx context.Context, u crm.User, period string) (Team, error) {
	if !u.SeesAll() {
		return Team{}, crm.ErrForbidden
	}
	now := time.Now()
	from, to, err := a.teamPeriod(period, now)
	if err != nil {
		return Team{}, err
	}
	if period == "" {
		period = "today"
	}
	tx := a.db.WithContext(ctx)
	loads, err := crm.TeamLoads(tx, now.Add(-a.opts.OverdueAfter))
	if err != nil {
		return Team{}, err
	}
	times, err := crm.TeamReplyTimes(tx, from, to)
	if err != nil {
		return Team{}, err
	}
	wins, err := crm.TeamWins(tx, from, to)
	if err != nil {
		return Team{}, err
	}
	users, err := crm.ListUsers(tx)
	if err != nil {
		return Team{}, err
	}
	out := Team{Period: period, From: from.UTC(), To: to.UTC(), OverdueAfterS: int64(a.opts.OverdueAfter.Seconds())}
	row := func(id int64) TeamRow {
		r := TeamRow{UserID: id, ReplyTimes: times[id], Won: []crm.TeamWon{}}
		if l := loads[id]; l != nil {
			r.TeamLoad = *l
		}
		for _, w := range wins {
			if w.ResponsibleID == id {
				r.Won = append(r.Won, w)
			}
		}
		return r
	}
	for _, usr := range users {
		_, replied := times[usr.ID]
		if !usr.Active || usr.Role == crm.Owner && loads[usr.ID] == nil && !replied {
			continue
		}
		out.Rows = append(out.Rows, row(usr.ID))
	}
	out.Rows = append(out.Rows, row(0))
	return out, nil
}

// TeamConversations are the open conversations behind a figure of the
// team view: a manager's (userID; 0: the unassigned queue) open, waiting,
// overdue, or with unlinked touches (at most 200).
func (a *App) TeamConversations(ctx context.Context, u crm.User, userID int64, metric string) (ConversationList, error) {
	if !u.SeesAll() {
		return ConversationList{}, crm.ErrForbidden
	}
	f := crm.ConversationFilter{AssigneeID: userID, Unassigned: userID == 0, Status: string(crm.ConvOpen), Limit: 200}
	switch metric {
	case "open":
	case "waiting", "overdue":
		f.Waiting = true
	case "unlinked":
		f.Unlinked, f.Status = true, ""
	default:
		return ConversationList{}, crm.Invalid("metric must be open, waiting, overdue or unlinked, not %q", metric)
	}
	list, err := a.ListConversations(ctx, u, QueueAll, f)
	if err != nil || metric != "overdue" {
		return list, err
	}
	late := time.Now().Add(-a.opts.OverdueAfter)
	kept := list.Conversations[:0]
	for _, c := range list.Conversations {
		if c.WaitingSince != nil && c.WaitingSince.Before(late) {
			kept = append(kept, c)
		}
	}
	list.Conversations, list.NextCursor = kept, ""
	return list, nil
}
