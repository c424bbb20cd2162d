package server

import (
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger builds the process logger: level is debug, info, warn or error;
// format is json (one object per line, for collectors) or console (for people).
// It writes to standard error.
func NewLogger(level, format string) (*zap.Logger, error) {
	if err := validateLogging(level, format); err != nil {
		return nil, err
	}
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, invalidf("log-level %q: %v", level, err)
	}
	var cfg zap.Config
	if format == "console" {
		cfg = zap.NewDevelopmentConfig()
		cfg.Development = false
	} else {
		cfg = zap.NewProductionConfig()
		cfg.Sampling = nil
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.DisableStacktrace = lvl > zapcore.DebugLevel
	log, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("server: build logger: %w", err)
	}
	return log, nil
}

func validateLogging(level, format string) error {
	switch level {
	case "debug", "info", "warn", "error":
	default:
		return invalidf("log-level %q, want debug, info, warn or error", level)
	}
	switch format {
	case "json", "console":
	default:
		return invalidf("log-format %q, want json or console", format)
	}
	return nil
}
