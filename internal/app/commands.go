package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	jsaudit "github.com/redlane/redlane/adapters/jetstream/audit"
	"github.com/redlane/redlane/internal/cli"
	"github.com/redlane/redlane/query"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/projections/report"
	"github.com/redlane/redlane/service"
)

// The work of the commands besides serve, each on an open log (OpenLog).

// owner names this process for the leases it takes.
func owner(job string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%s:%d", job, host, os.Getpid())
}

// VerifyViews compares each stored view with a rebuild from the log, writing each
// difference to w; it fails when any differ (redlane projections verify).
func VerifyViews(ctx context.Context, lc *Log, replicas int, chosen []func() projections.View, w io.Writer) error {
	if err := viewsFollow(ctx, lc); err != nil {
		return err
	}
	vs, err := jsviews.New(ctx, lc.JS, lc.Store, jsviews.Config{Owner: owner("verify"), Replicas: replicas})
	if err != nil {
		return err
	}
	bad := 0
	for _, nv := range chosen {
		diffs, err := vs.Diff(ctx, nv)
		if err != nil {
			return fmt.Errorf("verify %s: %w", nv().Name(), err)
		}
		for _, d := range diffs {
			fmt.Fprintln(w, d)
		}
		if len(diffs) == 0 {
			fmt.Fprintf(w, "view %s equals a rebuild from the log\n", nv().Name())
		}
		bad += len(diffs)
	}
	if bad > 0 {
		return fmt.Errorf("%d documents differ from a rebuild", bad)
	}
	return nil
}

// RebuildViews rebuilds each view from the log into a new bucket and switches it in
// (redlane projections rebuild), showing progress on progress.
// A rebuild reads the current period and the periods before it (views.FoldLog).
func RebuildViews(ctx context.Context, lc *Log, replicas int, chosen []func() projections.View, w, progress io.Writer) error {
	if err := viewsFollow(ctx, lc); err != nil {
		return err
	}
	vs, err := jsviews.New(ctx, lc.JS, lc.Store, jsviews.Config{Owner: owner("rebuild"), Replicas: replicas})
	if err != nil {
		return err
	}
	for _, nv := range chosen {
		name := nv().Name()
		bucket, err := vs.Rebuild(ctx, nv, NewProgress(progress, "rebuild "+name).Update)
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
		fmt.Fprintf(w, "view %s rebuilt into %s and switched in\n", name, bucket)
	}
	return nil
}

// viewsFollow refuses to rebuild or verify the views on another stream than the current
// period's: the views follow it, and a fold of it reads the earlier periods as well.
func viewsFollow(ctx context.Context, lc *Log) error {
	cur, err := jsstore.CurrentStream(ctx, lc.JS)
	if err != nil {
		return err
	}
	if name := lc.Store.StreamName(); cur != "" && name != cur {
		return fmt.Errorf("the views follow the current period's stream %s, not %s: leave out --stream (a fold of %s reads the periods before it too)", cur, name, cur)
	}
	return nil
}

// MonthlyReport reads a community's report for a month from the views, never the log,
// with the names of its lanes.
func MonthlyReport(ctx context.Context, lc *Log, replicas int, community, period string) (report.Report, map[string]string, error) {
	rep := report.Report{Community: community, Period: period}
	vs, err := jsviews.New(ctx, lc.JS, lc.Store, jsviews.Config{Owner: "report", Replicas: replicas, ReadOnly: true})
	if err != nil {
		return rep, nil, err
	}
	raw, err := vs.Get(ctx, report.Name, "report."+community+"."+period)
	if err != nil {
		return rep, nil, err
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &rep); err != nil {
			return rep, nil, fmt.Errorf("report document: %w", err)
		}
	}
	laneNames := map[string]string{}
	for id := range rep.ByLane {
		var l backlog.Lane
		if b, err := vs.Get(ctx, backlog.Name, backlog.LaneKey(id)); err == nil && b != nil && json.Unmarshal(b, &l) == nil && l.Name != "" {
			laneNames[id] = l.Name
		}
	}
	return rep, laneNames, nil
}

// EraseResident forgets the resident with this phone (redlane privacy erase): their key
// is destroyed, so their name and phone can no longer be read from any event, while
// every other fact of the history still replays.
func EraseResident(ctx context.Context, lc *Log, replicas int, phone string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	svc, err := erasingService(ctx, lc, replicas)
	if err != nil {
		return "", err
	}
	return svc.EraseResident(ctx, service.Admin, phone)
}

// EraseMember destroys member id's key (redlane privacy erase --member): their phone can
// no longer be read from any event. It returns the key's name.
func EraseMember(ctx context.Context, lc *Log, replicas int, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	svc, err := erasingService(ctx, lc, replicas)
	if err != nil {
		return "", err
	}
	return svc.EraseMemberPhone(ctx, service.Admin, id)
}

// erasingService is a service over the log and its vault, as an erasure needs.
func erasingService(ctx context.Context, lc *Log, replicas int) (*service.Service, error) {
	if lc.Store.Signer() == nil {
		return nil, fmt.Errorf("erasure writes events, which need a signing key: run it with --data, the data directory of a redlane serve (%s)", SigningKeyFile)
	}
	pepper, err := jsvault.SharedSecret(ctx, lc.JS, "resident-pepper", func() []byte { return RandomBytes(32) }, replicas)
	if err != nil {
		return nil, err
	}
	vault, err := jsvault.Open(ctx, lc.JS, pepper, replicas)
	if err != nil {
		return nil, err
	}
	return service.New(service.Config{Store: lc.Store, Vault: vault, Clock: domain.ClockFunc(time.Now), NewID: NewEventID}), nil
}

// Seal seals everything stored now (redlane audit seal); nil when nothing is new.
func Seal(ctx context.Context, lc *Log, replicas int, progress jsstore.Progress) (*jsaudit.Seal, error) {
	if lc.Store.Signer() == nil {
		return nil, fmt.Errorf("sealing needs a signing key: run it with --data, the data directory of a redlane serve (%s)", SigningKeyFile)
	}
	s, err := jsaudit.NewSealer(ctx, lc.JS, lc.Store, jsaudit.SealerConfig{Signer: lc.Store.Signer(), Owner: owner("audit-seal"), Replicas: replicas})
	if err != nil {
		return nil, err
	}
	return s.SealNow(ctx, progress)
}

// Introduce trusts another writer's public key (redlane audit introduce): it appends a
// key event that this data directory's key signs, so that every reader who trusts this
// key trusts that one. It returns the event's position, 0 when the key is trusted already.
func Introduce(ctx context.Context, lc *Log, pub []byte, name string) (uint64, error) {
	if lc.Store.Signer() == nil || !lc.Store.Keys().Trusts(lc.Store.Signer().PublicKey()) {
		return 0, fmt.Errorf("introducing a key needs a trusted signing key: --data must be the data directory of a trusted redlane serve (%s, %s)", SigningKeyFile, TrustedKeysFile)
	}
	if lc.Store.Keys().Trusts(pub) {
		return 0, nil
	}
	env, err := jsstore.Introduction(pub, name, NewEventID(), time.Now())
	if err != nil {
		return 0, err
	}
	seqs, err := lc.Store.Append(ctx, jsstore.SignerAggregate, jsstore.KeyID(pub), 0, []domain.Envelope{env})
	if err != nil {
		return 0, fmt.Errorf("introduce key %s: %w", jsstore.KeyID(pub), err)
	}
	return seqs[0], nil
}

// Health asks a running serve's /readyz at url: its status and the start of its answer.
func Health(ctx context.Context, url string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, body, nil
}

// AuditExport runs redlane audit export: the events stamped in [from, until] (nil: the
// beginning, now) as JSON Lines of envelopes, to the file out or else stdout.
func AuditExport(ctx context.Context, lc *Log, fromFlag, untilFlag *time.Time, out string, stdout, stderr io.Writer) error {
	from, until := time.Time{}, time.Now()
	if fromFlag != nil {
		from = *fromFlag
	}
	if untilFlag != nil {
		until = *untilFlag
	}
	if until.Before(from) {
		return errors.New("--until is before --from")
	}
	w, done, err := cli.Output(out, stdout)
	if err != nil {
		return err
	}
	defer done() //nolint:errcheck // a failed write has said so already
	n, skipped, err := ExportEvents(ctx, lc.Store, from, until, w, NewProgress(stderr, "export").Update)
	if err != nil {
		return err
	}
	since := "the beginning"
	if !from.IsZero() {
		since = query.LocalTime(from)
	}
	fmt.Fprintf(stderr, "exported %d events stamped from %s to %s (Asia/Shanghai)\n", n, since, query.LocalTime(until))
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "left out %d messages that are not Redlane events, at stream sequences %v (see redlane audit verify)\n", len(skipped), skipped)
	}
	return done()
}
