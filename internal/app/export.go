package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain"
)

// ExportEvents writes the events stamped in [from, until], in log order, one JSON
// envelope a line with its stream and its position in it added as "seq" and "stream".
// When store's stream is a later period (redlane period roll), the periods before it
// come first, the earliest first, each without the copies carried into it, so that an
// event is written once, from the period it was first stored in. It returns how many it
// wrote and the positions of messages that are not events (the first 100).
func ExportEvents(ctx context.Context, store *jsstore.Store, from, until time.Time, w io.Writer, progress jsstore.Progress) (uint64, []uint64, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	var n uint64
	var skipped []uint64
	err := store.EachPeriod(ctx, func(period *jsstore.Store, start uint64, last bool) error {
		var pr jsstore.Progress
		if last {
			pr = progress
		}
		return exportPeriod(ctx, period, start, from, until, bw, &n, &skipped, pr)
	})
	if err != nil {
		return n, skipped, fmt.Errorf("export: %w", err)
	}
	return n, skipped, bw.Flush()
}

// exportPeriod writes store's events from position start on, as ExportEvents does.
func exportPeriod(ctx context.Context, store *jsstore.Store, start uint64, from, until time.Time, bw *bufio.Writer, n *uint64, skipped *[]uint64, progress jsstore.Progress) error {
	total, err := store.LastSeq(ctx)
	if err != nil {
		return err
	}
	stream, _ := json.Marshal(store.StreamName())
	var line bytes.Buffer
	tick := time.Now()
	// Only what the filter needs is decoded (a full decode of every envelope doubles the
	// time an export of a million events takes), on every core.
	type head struct {
		SpecVersion   string    `json:"specversion"`
		ID            string    `json:"id"`
		Type          string    `json:"type"`
		AggregateType string    `json:"aggregatetype"`
		AggregateID   string    `json:"aggregateid"`
		Version       uint64    `json:"aggregateversion"`
		Time          time.Time `json:"time"`
	}
	err = jsstore.ScanParallel(ctx, store, start, func(ev jsstore.RawEvent) *head {
		var h head
		if err := json.Unmarshal(ev.Data, &h); err != nil || h.SpecVersion != domain.SpecVersion || h.ID == "" ||
			h.Type == "" || h.AggregateType == "" || h.AggregateID == "" || h.Version == 0 || len(ev.Data) < 2 {
			return nil
		}
		return &h
	}, func(ev jsstore.RawEvent, h *head) error {
		if h == nil {
			if len(*skipped) < 100 {
				*skipped = append(*skipped, ev.Seq)
			}
			return nil
		}
		if progress != nil && time.Since(tick) > 200*time.Millisecond {
			progress(ev.Seq, total)
			tick = time.Now()
		}
		if h.Time.Before(from) || h.Time.After(until) {
			return nil
		}
		body := ev.Data
		if bytes.ContainsAny(body, "\r\n") { // one event a line, whatever its writer did
			line.Reset()
			if err := json.Compact(&line, body); err != nil {
				return err
			}
			body = line.Bytes()
		}
		bw.WriteString(`{"seq":`)
		bw.WriteString(strconv.FormatUint(ev.Seq, 10))
		bw.WriteString(`,"stream":`)
		bw.Write(stream)
		if len(body) > 2 {
			bw.WriteByte(',')
		}
		bw.Write(body[1:])
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
		*n++
		return nil
	})
	if err != nil {
		return err
	}
	if progress != nil {
		progress(total, total)
	}
	return nil
}
