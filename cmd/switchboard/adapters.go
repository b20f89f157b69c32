package main

import (
	"database/sql"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/phone"
	"github.com/switchboard/switchboard/channels/telegram"
	"github.com/switchboard/switchboard/channels/web"
	"github.com/switchboard/switchboard/channels/whatsapp"
)

// registry registers the channels this build speaks: adding one is a
// package under channels/ and one line here. db (of dialect "sqlite" or
// "postgres") is the application's database, where WhatsApp keeps its
// sessions.
func registry(db *sql.DB, dialect string) *channels.Registry {
	return channels.NewRegistry(
		email.Channel(),
		phone.Channel(),
		telegram.Channel(),
		web.Channel(),
		whatsapp.Channel(db, dialect),
	)
}
