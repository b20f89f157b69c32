package phone

import (
	"errors"
	"log/slog"

	"github.com/switchboard/switchboard/channels"
)

// newAMI builds the Asterisk adapter. (Placeholder until the AMI client lands.)
func newAMI(acc channels.Account, s Settings, log *slog.Logger) (channels.Adapter, error) {
	return nil, errors.New("phone: Asterisk is not built yet")
}
