package phone

import (
	"errors"
	"log/slog"

	"github.com/switchboard/switchboard/channels"
)

// newCloud builds a cloud PBX's webhook adapter. (Placeholder until the
// cloud receivers land.)
func newCloud(acc channels.Account, s Settings, log *slog.Logger) (channels.Adapter, error) {
	return nil, errors.New("phone: cloud PBXs are not built yet")
}
