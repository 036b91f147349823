package reqlog

import (
	"io"
	"log/slog"
	"strings"
)

// NewLogger builds the process logger the way Lambda's advanced logging controls ask:
// AWS_LAMBDA_LOG_FORMAT (JSON, the default here, or Text) and AWS_LAMBDA_LOG_LEVEL
// (DEBUG, INFO, WARN, ERROR; default INFO). getenv is os.Getenv outside tests.
func NewLogger(getenv func(string) string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: parseLevel(getenv("AWS_LAMBDA_LOG_LEVEL"))}
	if strings.EqualFold(getenv("AWS_LAMBDA_LOG_FORMAT"), "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func parseLevel(s string) slog.Level {
	switch strings.ToUpper(s) {
	case "TRACE", "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
