package httpapi

import (
	"net/http"
	"net/netip"
	"sync"
)

// LimitStreams bounds the live streams (Server-Sent Events) open at once: perAddress
// from one client address and total in all. Beyond either, a new stream is answered
// 429 with Retry-After, and those open go on. Zero means no bound.
func LimitStreams(perAddress, total int, trusted []netip.Prefix, next http.Handler) http.Handler {
	var mu sync.Mutex
	open := map[string]int{}
	all := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isStream(r) {
			next.ServeHTTP(w, r)
			return
		}
		ip := ClientIP(r, trusted)
		mu.Lock()
		if (perAddress > 0 && open[ip] >= perAddress) || (total > 0 && all >= total) {
			mu.Unlock()
			w.Header().Set("Retry-After", "10")
			writeProblem(w, r, nil, &httpError{status: http.StatusTooManyRequests,
				detail: "too many live streams open from this address, or in all; try again in 10 s"})
			return
		}
		open[ip]++
		all++
		mu.Unlock()
		defer func() {
			mu.Lock()
			if open[ip]--; open[ip] == 0 {
				delete(open, ip)
			}
			all--
			mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}
