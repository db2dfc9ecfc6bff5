package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// WithLifetime bounds a request's life in the two ways a server needs. A request body
// must arrive within bodyTimeout (a client that trickles one byte every few seconds holds
// a connection no longer); once it has, the request runs to its end. And when closing
// ends (the server is shutting down), live streams end at once while every other
// request, a command in flight among them, finishes and is answered with its outcome.
func WithLifetime(closing context.Context, bodyTimeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isStream(r) {
			ctx, cancel := context.WithCancel(r.Context())
			stop := context.AfterFunc(closing, cancel)
			defer stop()
			defer cancel()
			r = r.WithContext(ctx)
		}
		if bodyTimeout > 0 && r.Body != nil && r.Body != http.NoBody && r.Method != http.MethodGet && r.Method != http.MethodHead {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(bodyTimeout)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isStream reports whether a request asks for a live stream (Server-Sent Events).
func isStream(r *http.Request) bool {
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return true
	}
	p := r.URL.Path
	return r.Method == http.MethodGet && (strings.HasSuffix(p, "/stream") || strings.HasSuffix(p, "/events") && !strings.HasPrefix(p, "/api/"))
}

// deadlineBody lifts the body's read deadline once the body has been read to its end,
// so that the rest of the request is not cut short by it.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		if errors.Is(err, io.EOF) {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}
