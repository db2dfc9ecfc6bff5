package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// streamChunk is how many waiting appends a streamed batch sends at a time while it
// gathers (see streamBatch). Each chunk is signed once (batchsig.go), so a chunk of 32 costs
// one signature and gives each event a proof of five hashes.
const streamChunk = 32

// streamBatch gathers after an atomic batch, as gather does, but sends the next batch to the
// server while it gathers: the first append that comes opens the batch at once, and then
// every streamChunk appends that wait go as the batch's next messages, each chunk signed
// once. When the batch's expected appends are in (or the gather's time is up) the rest
// goes with the commit. The server stages an atomic batch's messages as they arrive and
// opens its staging files with the first, work that otherwise would wait for the
// gather's end; only the last chunk and the commit are left when the callers are back.
//
// Every message still carries its own aggregate's expected position, checked by the
// server at the commit, and the batch stays atomic: refused as a whole, each of its
// appends is made again alone, as commit does. It returns how many appends the batch
// carried (0: none came) and whether it was stored as one atomic batch.
func (g *GroupStore) streamBatch(expected int) (int, bool) {
	wait := g.gatherWait()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	sb := &streamedBatch{g: g, id: uuid.NewString()}
	defer sb.release()
	expired := wait == 0
	for !expired && sb.err == nil {
		g.mu.Lock()
		waiting := len(g.pending)
		g.mu.Unlock()
		total := len(sb.reqs) + waiting
		if total >= expected || total >= g.maxBatch {
			break
		}
		if waiting > 0 && (len(sb.reqs) == 0 || waiting >= streamChunk) {
			g.mu.Lock()
			chunk := g.take(g.maxBatch - len(sb.reqs))
			g.mu.Unlock()
			sb.send(chunk)
			continue
		}
		select {
		case <-g.arrived:
		case <-timer.C:
			expired = true
		}
	}
	var last []*groupAppend
	if sb.err == nil {
		g.mu.Lock()
		last = g.take(g.maxBatch - len(sb.reqs))
		g.mu.Unlock()
	}
	if len(sb.reqs) == 0 {
		// Nothing was sent (nothing came before the last take): the usual commit.
		if len(last) == 0 {
			return 0, false
		}
		return len(last), g.commit(last)
	}
	return len(sb.reqs) + len(last), sb.commit(last)
}

// streamedBatch is an atomic batch sent while it gathers.
type streamedBatch struct {
	g     *GroupStore
	id    string
	reqs  []*groupAppend // sent so far, in order
	subj  string         // the last sent message's subject
	start time.Time      // when the first message went
	slot  bool           // holds one of the store's batch slots
	err   error          // a send failed: the batch is given up
}

// acquire takes one of the store's batch slots for the batch's life.
func (sb *streamedBatch) acquire() error {
	if sb.slot {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sb.g.apiTimeout)
	defer cancel()
	select {
	case sb.g.Store.batches <- struct{}{}:
		sb.slot = true
		return nil
	case <-ctx.Done():
		return fmt.Errorf("group commit: no batch slot: %w", ctx.Err())
	}
}

func (sb *streamedBatch) release() {
	if sb.slot {
		<-sb.g.Store.batches
		sb.slot = false
	}
}

// prepare signs chunk once and numbers its messages in the batch; the last of a commit
// carries the commit.
func (sb *streamedBatch) prepare(chunk []*groupAppend, commit bool) []*nats.Msg {
	msgs := make([]*nats.Msg, len(chunk))
	for i, req := range chunk {
		msgs[i] = req.msg
	}
	if sb.g.signer != nil {
		sb.g.signer.signBatch(msgs)
	}
	for i, m := range msgs {
		m.Header.Set(jetstreamext.BatchIDHeader, sb.id)
		m.Header.Set(jetstreamext.BatchSeqHeader, strconv.Itoa(len(sb.reqs)+i+1))
		m.Header.Del(jetstreamext.BatchCommitHeader)
	}
	if commit && len(msgs) > 0 {
		msgs[len(msgs)-1].Header.Set(jetstreamext.BatchCommitHeader, "1")
	}
	return msgs
}

// send publishes chunk as the batch's next messages, without waiting for any answer:
// the server stages them, and answers only the commit.
func (sb *streamedBatch) send(chunk []*groupAppend) {
	if len(chunk) == 0 {
		return
	}
	if sb.err = sb.acquire(); sb.err != nil {
		sb.reqs = append(sb.reqs, chunk...)
		return
	}
	if len(sb.reqs) == 0 {
		sb.start = time.Now()
	}
	msgs := sb.prepare(chunk, false)
	sb.reqs = append(sb.reqs, chunk...)
	for _, m := range msgs {
		if err := sb.g.js.Conn().PublishMsg(m); err != nil {
			sb.err = fmt.Errorf("group commit: send batch message: %w", err)
			return
		}
	}
	sb.subj = msgs[len(msgs)-1].Subject
}

// commit sends last, the batch's remaining appends, with the commit (or, when none
// remain, an end-of-batch marker that commits what was sent), and answers every append
// of the batch as GroupStore.commit does.
func (sb *streamedBatch) commit(last []*groupAppend) (batched bool) {
	g := sb.g
	all := append(sb.reqs, last...)
	defer g.finish(all)
	var ack *jetstreamext.BatchAck
	err := sb.err
	if err == nil {
		ack, err = sb.sendCommit(last)
	}
	n := uint64(len(all))
	if err == nil && (ack.BatchSize != n || ack.Sequence < n) {
		err = fmt.Errorf("group commit: batch acknowledged %d messages ending at %d, sent %d", ack.BatchSize, ack.Sequence, n)
	}
	if err != nil {
		// Nothing of the batch is stored (a batch never committed is dropped by the
		// server), or, when only the answer was lost, all of it is: either way each
		// append made again alone gets Store.Append's answer.
		for _, req := range all {
			req.fallback = true
		}
		return false
	}
	g.costs.batch(time.Since(sb.start))
	g.batches.Add(1)
	g.streamed.Add(1)
	g.batched.Add(int64(n))
	for i, req := range all {
		req.seq = ack.Sequence - n + 1 + uint64(i)
	}
	return true
}

// sendCommit sends last with the commit and waits for the server's answer.
func (sb *streamedBatch) sendCommit(last []*groupAppend) (*jetstreamext.BatchAck, error) {
	if err := sb.acquire(); err != nil {
		return nil, err
	}
	var m *nats.Msg
	if len(last) > 0 {
		msgs := sb.prepare(last, true)
		nc := sb.g.js.Conn()
		for _, m := range msgs[:len(msgs)-1] {
			if err := nc.PublishMsg(m); err != nil {
				return nil, fmt.Errorf("group commit: send batch message: %w", err)
			}
		}
		m = msgs[len(msgs)-1]
	} else {
		m = nats.NewMsg(sb.subj)
		m.Header.Set(jetstreamext.BatchIDHeader, sb.id)
		m.Header.Set(jetstreamext.BatchSeqHeader, strconv.Itoa(len(sb.reqs)+1))
		m.Header.Set(jetstreamext.BatchCommitHeader, "eob")
	}
	ctx, cancel := context.WithTimeout(context.Background(), sb.g.apiTimeout)
	defer cancel()
	resp, err := sb.g.js.Conn().RequestMsgWithContext(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("group commit: commit batch: %w", err)
	}
	var ack struct {
		Error *jetstream.APIError `json:"error"`
		jetstreamext.BatchAck
	}
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return nil, fmt.Errorf("group commit: batch answer: %w", err)
	}
	if ack.Error != nil {
		return nil, ack.Error
	}
	if ack.BatchID != sb.id || ack.Stream == "" {
		return nil, fmt.Errorf("group commit: answer for batch %q of stream %q, sent %q", ack.BatchID, ack.Stream, sb.id)
	}
	return &ack.BatchAck, nil
}
