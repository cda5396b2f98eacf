package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/scf-janitor/scf-janitor/shared/config"
)

// ForFunction returns function's logger on w and its level, set from
// JANITOR_LOG_LEVEL of getenv (the process environment, in main) by
// SetLevel. The four mains build their logger with it: the cancel functions
// keep this level for the process, sweep-tasks sets it again per invocation
// (its handler calls SetLevel with the invocation's environment).
func ForFunction(w io.Writer, getenv config.Getenv, function string) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	logger := New(w, level, function)
	SetLevel(context.Background(), logger, level, getenv)
	return logger, level
}

// SetLevel sets level from JANITOR_LOG_LEVEL (config.LogLevel: debug, info,
// warn or error). An invalid value never stops a function: the level is
// info and logger gets a warning naming the variable and the value.
func SetLevel(ctx context.Context, logger *slog.Logger, level *slog.LevelVar, getenv config.Getenv) {
	l, err := config.LogLevel(getenv)
	level.Set(l)
	if err != nil {
		level.Set(slog.LevelInfo)
		logger.WarnContext(ctx, "invalid log level: logging at info", slog.String("error", err.Error()))
	}
}
