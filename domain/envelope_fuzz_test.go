package domain_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/redlane/redlane/domain"
)

// FuzzDecodeEnvelope checks that DecodeEnvelope never panics and that whatever it accepts
// encodes and decodes again to an equal envelope: a reader may store what it read.
func FuzzDecodeEnvelope(f *testing.F) {
	envs, err := domain.Seal("order", "o-1", 6, []domain.Event{pinged{N: 1, Text: "你好"}, ponged{At: t0}},
		[]string{"e7", "e8"}, domain.Meta{Actor: steward, Time: t0.In(shanghai), CorrelationID: "c1"})
	if err != nil {
		f.Fatal(err)
	}
	for _, env := range envs {
		b, err := json.Marshal(env)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"t","aggregatetype":"a","aggregateid":"b","aggregateversion":1}`))
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"t","aggregatetype":"a","aggregateid":"b","aggregateversion":0}`))
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"t","aggregatetype":"a","aggregateid":"b","aggregateversion":1,` +
		`"time":"2025-03-01T17:00:00.123456789+08:00","data": { "a" : [1, 2.50, "<&>"] } }`))
	f.Add([]byte(`not json`))

	f.Fuzz(func(t *testing.T, b []byte) {
		first, err := domain.DecodeEnvelope(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(first)
		if err != nil {
			t.Fatalf("encode decoded envelope %+v: %v", first, err)
		}
		second, err := domain.DecodeEnvelope(again)
		if err != nil {
			t.Fatalf("decode re-encoded envelope %s: %v", again, err)
		}
		assertSameEnvelope(t, first, second)
	})
}

// assertSameEnvelope compares envelopes as a reader would: times by instant, and data as
// JSON (whitespace and escaping aside; a missing data is null).
func assertSameEnvelope(tb testing.TB, a, b domain.Envelope) {
	tb.Helper()
	if !a.Time.Equal(b.Time) {
		tb.Errorf("time %v became %v", a.Time, b.Time)
	}
	ja, jb := jsonValue(tb, a.Data), jsonValue(tb, b.Data)
	if !reflect.DeepEqual(ja, jb) {
		tb.Errorf("data %s became %s", a.Data, b.Data)
	}
	a.Time, a.Data, b.Data = b.Time, nil, nil
	if !reflect.DeepEqual(a, b) {
		tb.Errorf("envelope\n%+v\nbecame\n%+v", a, b)
	}
}

func jsonValue(tb testing.TB, raw json.RawMessage) any {
	tb.Helper()
	if raw == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("data %q is not JSON: %v", raw, err)
	}
	return v
}
