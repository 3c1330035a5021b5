// Package clilog makes the logger of popkit's commands (popkit and
// popkit-edge), so both binaries log in the same format.
package clilog

import (
	"io"
	"log/slog"
	"os"
)

// New returns a text logger when w is a terminal and a JSON logger
// otherwise, so that log shippers get structured lines;
// POPKIT_LOG_FORMAT=text forces text.
func New(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, opts))
		}
	}
	if v, ok := os.LookupEnv("POPKIT_LOG_FORMAT"); ok && v == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
