package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redlane/redlane/domain"
)

// Request and correlation ids. Every answer carries X-Request-ID (the caller's, when it
// sent a valid one, else a fresh one) and X-Correlation-ID (the caller's, else the
// request id); the commands a request makes carry the correlation id into their events,
// so a request, its log lines and its events can be found from one another.
const (
	HeaderRequestID     = "X-Request-ID"
	HeaderCorrelationID = "X-Correlation-ID"
)

type ctxKey int

const loggerKey ctxKey = iota

// Logger returns the request's logger (with its request and correlation ids), or
// fallback when the request went through no WithRequestLog.
func Logger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// WithRequestLog gives each request its ids and writes one access-log line when it
// ends: method, path, matched route, status, bytes, duration and the ids. No query
// string, address or header goes into it: they may carry personal data.
// streams, when set, counts the Server-Sent Events streams open now.
func WithRequestLog(log *slog.Logger, streams prometheus.Gauge, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := validRequestID(r.Header.Get(HeaderRequestID))
		if id == "" {
			id = newRequestID()
		}
		corr := validRequestID(r.Header.Get(HeaderCorrelationID))
		if corr == "" {
			corr = id
		}
		r.Header.Set(HeaderCorrelationID, corr)
		w.Header().Set(HeaderRequestID, id)
		w.Header().Set(HeaderCorrelationID, corr)
		l := log.With("request_id", id, "correlation_id", corr)
		rec := &statusRecorder{ResponseWriter: w, streams: streams}
		r = r.WithContext(context.WithValue(r.Context(), loggerKey, l))
		next.ServeHTTP(rec, r) // the mux sets r.Pattern
		if rec.streaming {
			streams.Dec()
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		l.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", r.Pattern),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000))
	})
}

// validRequestID returns s when it may serve as an id (1 to 64 letters, digits, '-' or
// '_'), else "".
func validRequestID(s string) string {
	if len(s) > 64 || !domain.ValidID(s) {
		return ""
	}
	return s
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
