package main

import "github.com/switchboard/switchboard/channels"

// adapters lists the channel adapters this build runs, by channel. The web
// channel needs none: it receives through its hook.
func adapters() map[channels.Kind]channels.Factory {
	return map[channels.Kind]channels.Factory{}
}
