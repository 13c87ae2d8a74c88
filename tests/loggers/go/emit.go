// Writes records through a real Go logger to stdout, one line each, as an application would:
//
//	pj-emit-go logrus-json|logrus-fieldmap|logrus-text|zerolog|zap \
//	    '[{"level": "error", "msg": "...", "fields": {...}}]'
//
// Built at test time in GOPATH mode against Debian's packaged sources (GO111MODULE=off
// GOPATH=/usr/share/gocode; golang-github-sirupsen-logrus-dev, golang-github-rs-zerolog-dev,
// golang-go.uber-zap-dev). Levels that end the program (fatal, panic) are written without
// ending it: logrus's ExitFunc, zerolog's WithLevel, zap's WithFatalHook, a recover() for panics.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/rs/zerolog"
	"github.com/sirupsen/logrus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type record struct {
	Level  string                 `json:"level"`
	Msg    string                 `json:"msg"`
	Fields map[string]interface{} `json:"fields"`
	// Ordered keys of Fields (Go maps have no order; loggers sort or keep insertion order).
	Keys []string `json:"keys"`
}

func logrusLogger(kind string) *logrus.Logger {
	logger := logrus.New()
	logger.Out = os.Stdout
	logger.Level = logrus.TraceLevel
	logger.ExitFunc = func(int) {}
	switch kind {
	case "logrus-json":
		logger.Formatter = &logrus.JSONFormatter{}
	case "logrus-fieldmap":
		// The usual set-up for ELK: Logstash's @-keys.
		logger.Formatter = &logrus.JSONFormatter{FieldMap: logrus.FieldMap{
			logrus.FieldKeyTime:  "@timestamp",
			logrus.FieldKeyLevel: "@level",
			logrus.FieldKeyMsg:   "@message",
		}}
	case "logrus-text":
		// Not a terminal: key=value pairs, values quoted with Go's %q where they need it.
		logger.Formatter = &logrus.TextFormatter{DisableColors: true, FullTimestamp: true}
	}
	return logger
}

func emitLogrus(kind string, records []record) {
	logger := logrusLogger(kind)
	for _, r := range records {
		level, err := logrus.ParseLevel(r.Level)
		if err != nil {
			fail(err)
		}
		entry := logger.WithFields(logrus.Fields(r.Fields))
		func() {
			defer func() { recover() }() // PanicLevel panics after writing
			entry.Log(level, r.Msg)
		}()
	}
}

func emitZerolog(records []record) {
	logger := zerolog.New(os.Stdout).Level(zerolog.TraceLevel).With().Timestamp().Logger()
	for _, r := range records {
		level, err := zerolog.ParseLevel(r.Level)
		if err != nil {
			fail(err)
		}
		// WithLevel writes fatal and panic without exiting or panicking.
		event := logger.WithLevel(level)
		for _, key := range r.Keys {
			event = event.Interface(key, r.Fields[key])
		}
		event.Msg(r.Msg)
	}
}

// A fatal hook that returns: zap replaces WriteThenNoop by WriteThenFatal, this one it keeps.
type keepRunning struct{}

func (keepRunning) OnWrite(*zapcore.CheckedEntry, []zapcore.Field) {}

func emitZap(records []record) {
	config := zap.NewProductionConfig()
	config.Level = zap.NewAtomicLevelAt(zapcore.DebugLevel)
	config.OutputPaths = []string{"stdout"}
	config.Sampling = nil
	logger, err := config.Build(zap.WithFatalHook(keepRunning{}))
	if err != nil {
		fail(err)
	}
	for _, r := range records {
		var level zapcore.Level
		if err := level.UnmarshalText([]byte(r.Level)); err != nil {
			fail(err)
		}
		fields := []zap.Field{}
		for _, key := range r.Keys {
			fields = append(fields, zap.Any(key, r.Fields[key]))
		}
		func() {
			defer func() { recover() }() // PanicLevel and DPanicLevel (development) panic
			if ce := logger.Check(level, r.Msg); ce != nil {
				ce.Write(fields...)
			}
		}()
	}
	logger.Sync()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pj-emit-go:", err)
	os.Exit(2)
}

func main() {
	if len(os.Args) != 3 {
		fail(fmt.Errorf("usage: pj-emit-go KIND RECORDS"))
	}
	var records []record
	if err := json.Unmarshal([]byte(os.Args[2]), &records); err != nil {
		fail(err)
	}
	switch kind := os.Args[1]; kind {
	case "logrus-json", "logrus-fieldmap", "logrus-text":
		emitLogrus(kind, records)
	case "zerolog":
		emitZerolog(records)
	case "zap":
		emitZap(records)
	default:
		fail(fmt.Errorf("unknown logger %s", kind))
	}
}
