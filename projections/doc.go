// Package projections turns the event log into what stewards, members, station terminals
// and reporting jobs read: lane backlogs, member service records and evaluations, the
// linkage feed and monthly reports. Each view is a pure fold of stored events; adapters
// feed it from a durable JetStream consumer and store it in NATS KV.
package projections
