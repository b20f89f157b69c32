// Package ui is Switchboard's single-page inbox, embedded into the binary.
// It imports nothing of ours; inbox mounts FS.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// FS returns the built UI files, rooted at index.html's folder.
func FS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}
