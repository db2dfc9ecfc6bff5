// Package domain holds what every aggregate shares: the event envelope, the error kinds,
// the actor who issues a command, the EventStore port and the command runner.
//
// It imports only value packages of the standard library. Nothing here reads a clock,
// makes an id or does I/O of its own: time, ids and the store are passed in.
package domain
