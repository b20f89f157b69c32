package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// reusedIDLen is how much of the content hash tells apart the messages
// that share an external id.
const reusedIDLen = 12

// rekeyReused gives each item that reuses the external id of a different
// message (stored, or earlier in the batch) an id of its own: the id, "#"
// and the start of its content hash (channels.MetaContentHash). The same
// message delivered again has the same hash and stays a duplicate; items
// without a hash, and touches stored without one, are compared by id
// alone, as before.
func (s *Sink) rekeyReused(tx *gorm.DB, items []*item) error {
	byAcc := map[int64][]string{}
	for _, it := range items {
		if hashOf(it.in.Meta) != "" {
			byAcc[it.in.AccountID] = append(byAcc[it.in.AccountID], it.in.ExternalID)
		}
	}
	stored := map[touchKey]string{}
	for acc, exts := range byAcc {
		metas, err := crm.TouchMetas(tx, acc, exts)
		if err != nil {
			return err
		}
		for ext, m := range metas {
			var meta map[string]string
			_ = json.Unmarshal([]byte(m), &meta) // unreadable meta: compared by id alone
			stored[touchKey{acc, ext}] = hashOf(meta)
		}
	}
	inBatch := map[touchKey]string{}
	for _, it := range items {
		h := hashOf(it.in.Meta)
		if h == "" {
			continue
		}
		k := touchKey{it.in.AccountID, it.in.ExternalID}
		was, ok := stored[k]
		if !ok {
			was, ok = inBatch[k]
		}
		if !ok || was == "" || was == h {
			inBatch[k] = h
			continue
		}
		if it.in.ExternalID = k.ext + "#" + h[:reusedIDLen]; len(it.in.ExternalID) > maxExternalID {
			sum := sha256.Sum256([]byte(it.in.ExternalID))
			it.in.ExternalID = "sha256:" + hex.EncodeToString(sum[:])
		}
		inBatch[touchKey{k.account, it.in.ExternalID}] = h
		s.log.Info("ingest: a different message reuses a stored external id; stored as its own touch",
			"account", k.account, "external_id", crm.Clip(k.ext, 80), "new_external_id", crm.Clip(it.in.ExternalID, 100))
	}
	return nil
}

// hashOf is an event's content hash, "" when it has none worth comparing.
func hashOf(meta map[string]string) string {
	if h := meta[channels.MetaContentHash]; len(h) >= reusedIDLen {
		return h
	}
	return ""
}
