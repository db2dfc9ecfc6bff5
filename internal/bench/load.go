package bench

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// op is one worker's next operation: a command, a request or a publish.
type op func(ctx context.Context) error

// result is what one load measurement saw.
type result struct {
	ops  int
	secs float64
	cpu  time.Duration // the process's CPU time while measuring
	lat  []time.Duration
}

func (r result) rate() float64 {
	if r.secs == 0 {
		return 0
	}
	return float64(r.ops) / r.secs
}

// load runs workers closed loop, each doing its ops one after another, for warm plus
// dur; it counts and times the operations that started after the warm-up. When the
// operations are slower than that, it goes on until one is measured.
func load(ctx context.Context, workers int, warm, dur time.Duration, newOp func(w int) op) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+dur)
	// The process's CPU time is read when the warm-up ends and when the last worker is
	// done: the server's and every client's.
	cpuFrom := make(chan time.Duration, 1)
	timer := time.AfterFunc(warm, func() { cpuFrom <- cpuTime() })
	defer timer.Stop()
	lats := make([][]time.Duration, workers)
	errs := make([]error, workers)
	var measured atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		next := newOp(w)
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1024)
			for ctx.Err() == nil {
				t0 := time.Now()
				// However slow the operations, one at least is measured.
				if !t0.Before(end) && measured.Load() > 0 {
					break
				}
				if err := next(ctx); err != nil {
					if ctx.Err() == nil {
						errs[w] = fmt.Errorf("worker %d: %w", w, err)
						cancel()
					}
					break
				}
				if !t0.Before(measureFrom) {
					lat = append(lat, time.Since(t0))
					measured.Add(1)
				}
			}
			lats[w] = lat
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return result{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	r := result{secs: time.Since(measureFrom).Seconds(), lat: slices.Concat(lats...)}
	select {
	case from := <-cpuFrom:
		r.cpu = cpuTime() - from
	default:
	}
	r.ops = len(r.lat)
	return r, nil
}

// summary is the median of several measurements' rates and CPU costs, and the latency
// percentiles of all their operations together.
type summary struct {
	rate, p50, p99 float64 // per second; milliseconds
	// paired is the median of each round's rate ÷ its baseline's, measured right before
	// it in the same round (0 for a baseline): the ratio a drifting disk least disturbs.
	paired float64
	cpu    float64 // microseconds of the process's CPU per operation
}

func summarize(rs []result) summary {
	if len(rs) == 0 {
		return summary{}
	}
	rates := make([]float64, len(rs))
	cpus := make([]float64, 0, len(rs))
	var lat []time.Duration
	for i, r := range rs {
		rates[i] = r.rate()
		lat = append(lat, r.lat...)
		if r.cpu > 0 && r.ops > 0 {
			cpus = append(cpus, float64(r.cpu.Microseconds())/float64(r.ops))
		}
	}
	return summary{rate: median(rates), p50: pct(lat, 0.50), p99: pct(lat, 0.99), cpu: median(cpus)}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// pct returns the p-th quantile of lat in milliseconds (nearest rank).
func pct(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.5) - 1
	i = min(max(i, 0), len(s)-1)
	return float64(s[i]) / float64(time.Millisecond)
}
