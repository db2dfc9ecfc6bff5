// Package scale is the arithmetic behind docs/scale.md: from measured constants (what
// the NATS server keeps per distinct subject, what an order takes on disk), how long one
// event stream lasts before the server's per-subject state passes a memory budget, and
// how long a period must be for a stream per period to stay under it. Pure functions;
// the constants come from "redlane bench" (BENCHMARKS.md).
package scale

import "math"

// Measured are the constants a bench run gives.
type Measured struct {
	// ServerBytesPerSubject is the NATS server's heap per distinct order subject, held
	// for as long as the subject's stream exists (nats-server keeps per-subject state
	// for every subject ever written; one subject per order).
	ServerBytesPerSubject float64
	// DiskBytesPerEvent is what one event takes in the stream's files.
	DiskBytesPerEvent float64
	// EventsPerOrder is how many events an order's life writes.
	EventsPerOrder float64
}

// Bench20261130 are the figures of BENCHMARKS.md's run of 2026-11-30 (1 M one-message
// subjects; disk from the loads).
var Bench20261130 = Measured{ServerBytesPerSubject: 216, DiskBytesPerEvent: 943, EventsPerOrder: 5}

// Place is a deployment: how many orders it takes a year.
type Place struct {
	Name          string
	OrdersPerYear float64
}

// The places docs/scale.md weighs, by assumption, not measurement: a district (街道) of
// about 100 000 households raising five orders a household a year; a large city about
// 20 M orders a year (issue 16's figure).
var (
	District = Place{Name: "district", OrdersPerYear: 500_000}
	City     = Place{Name: "city", OrdersPerYear: 20_000_000}
)

// ServerBudget is the server memory docs/scale.md allows for per-subject state: a
// quarter of an 8 GiB node.
const ServerBudget = 2 << 30

// ServerBytes is the server's per-subject state after years of orders in one stream.
func ServerBytes(m Measured, p Place, years float64) float64 {
	return m.ServerBytesPerSubject * p.OrdersPerYear * years
}

// YearsUntil is how many years of orders one stream takes before the server's
// per-subject state passes budget bytes.
func YearsUntil(m Measured, p Place, budget float64) float64 {
	if m.ServerBytesPerSubject <= 0 || p.OrdersPerYear <= 0 {
		return math.Inf(1)
	}
	return budget / (m.ServerBytesPerSubject * p.OrdersPerYear)
}

// LivePeriodBytes is the server's per-subject state with a stream per period of
// periodDays (redlane period roll, docs/scale.md): the current period and the earlier
// ones still on the server, not yet archived (openPeriods of them besides the current
// one). Archived periods (nats stream backup, then removed) cost the server nothing.
func LivePeriodBytes(m Measured, p Place, periodDays float64, openPeriods int) float64 {
	return m.ServerBytesPerSubject * p.OrdersPerYear * periodDays / 365 * float64(1+openPeriods)
}

// LongestPeriodDays is the longest period (in days) whose live streams stay within
// budget with openPeriods unsealed periods besides the current one.
func LongestPeriodDays(m Measured, p Place, budget float64, openPeriods int) float64 {
	per := LivePeriodBytes(m, p, 1, openPeriods)
	if per <= 0 {
		return math.Inf(1)
	}
	return budget / per
}

// DiskBytesPerYear is what a year of orders takes in the stream's files.
func DiskBytesPerYear(m Measured, p Place) float64 {
	return m.DiskBytesPerEvent * m.EventsPerOrder * p.OrdersPerYear
}
