package main

import (
	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/phone"
	"github.com/switchboard/switchboard/channels/telegram"
	"github.com/switchboard/switchboard/channels/web"
)

// registry registers the channels this build speaks: adding one is a
// package under channels/ and one line here.
func registry() *channels.Registry {
	return channels.NewRegistry(
		email.Channel(),
		phone.Channel(),
		telegram.Channel(),
		web.Channel(),
	)
}
