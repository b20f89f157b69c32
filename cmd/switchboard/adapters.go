package main

import (
	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/telegram"
)

// adapters lists the channel adapters this build runs, by channel. The web
// channel needs none: it receives through its hook.
func adapters() map[channels.Kind]channels.Factory {
	return map[channels.Kind]channels.Factory{
		channels.Email:    email.New,
		channels.Telegram: telegram.New,
	}
}
