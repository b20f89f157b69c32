package inbox

import (
	"context"
	"fmt"
	"io"

	"github.com/switchboard/switchboard/crm"
)

// Unreadable lists, for the owner only, the mail whose sender could not be
// read (crm.UnreadableMail), newest first: no contact, no deal, no reply;
// kept whole for the owner to look at.
func (a *App) Unreadable(ctx context.Context, u crm.User) ([]crm.UnreadableMail, error) {
	if u.Role != crm.Owner {
		return nil, fmt.Errorf("%w: unreadable mail is the owner's", crm.ErrForbidden)
	}
	return crm.UnreadableList(a.db.WithContext(ctx), 500)
}

// OpenUnreadable opens the original bytes of an unreadable message, for
// the owner only.
func (a *App) OpenUnreadable(ctx context.Context, u crm.User, id int64) (crm.UnreadableMail, io.ReadCloser, error) {
	if u.Role != crm.Owner {
		return crm.UnreadableMail{}, nil, fmt.Errorf("%w: unreadable mail is the owner's", crm.ErrForbidden)
	}
	m, err := crm.GetUnreadable(a.db.WithContext(ctx), id)
	if err != nil {
		return m, nil, err
	}
	if m.RawSHA256 == "" {
		return m, nil, fmt.Errorf("%w: the original of unreadable mail %d was not kept", crm.ErrNotFound, id)
	}
	rc, err := a.opts.Blobs.Open(ctx, m.RawSHA256)
	return m, rc, err
}
