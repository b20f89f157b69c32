package ingest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
)

// Unreadable mail: a message whose sender could not be read at all
// (channels.Inbound with ParseError and no From) has nobody to be a touch
// of. It opens no contact, conversation or deal, leaves nobody waiting and
// cannot be answered; it is kept whole for the owner's "Unreadable mail"
// list, in the batch's transaction with the account's cursor, once per
// (account, external id).

// metaParseProblem and metaFolder are the email channel's meta keys of the
// parse problem's code and the folder a message was read from.
const (
	metaParseProblem = "parse_problem"
	metaFolder       = "folder"
)

// unreadable reports an inbound whose sender could not be read.
func unreadable(in *channels.Inbound) bool {
	return len(in.From) == 0 && strings.TrimSpace(in.ParseError) != ""
}

// prepareUnreadable validates an unreadable message and writes its
// original bytes (the raw attachment the parser adds) into the blob store.
func (s *Sink) prepareUnreadable(ctx context.Context, in *channels.Inbound) (*item, error) {
	if err := checkKey(in); err != nil {
		return nil, err
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	m := &crm.UnreadableMail{AccountID: in.AccountID, ExternalID: cleanKey(in.ExternalID),
		Folder: cleanKey(in.Meta[metaFolder]), Subject: crm.StripNUL(strings.ToValidUTF8(in.Subject, "\uFFFD")),
		Problem: cleanKey(in.Meta[metaParseProblem]), Detail: crm.StripNUL(strings.ToValidUTF8(in.ParseError, "\uFFFD")),
		ReceivedAt: at.UTC().Truncate(time.Microsecond)}
	// The original message is the last raw attachment; with none (an
	// adapter that kept no bytes) the list shows what it has.
	for i := len(in.Attachments) - 1; i >= 0; i-- {
		if f := in.Attachments[i]; f.ContentType == "message/rfc822" && len(f.Data) > 0 {
			key, err := blobs.PutBytes(ctx, s.blobs, f.Data)
			if err != nil {
				return nil, fmt.Errorf("ingest: original message: %w", err)
			}
			m.RawSHA256, m.RawSize = key, int64(len(f.Data))
			break
		}
	}
	return &item{in: in, at: m.ReceivedAt, mail: m}, nil
}

// keepUnreadable stores a batch's unreadable messages: a message stored
// before (a re-import) is a duplicate.
func keepUnreadable(tx *gorm.DB, items []*item, out []channels.Result) error {
	now := time.Now().UTC()
	for i, it := range items {
		m := *it.mail
		m.CreatedAt = now
		added, err := crm.KeepUnreadable(tx, &m)
		if err != nil {
			return err
		}
		out[i] = channels.Result{Duplicate: !added}
	}
	return nil
}
