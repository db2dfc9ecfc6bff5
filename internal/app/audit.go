package app

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	jsaudit "github.com/redlane/redlane/adapters/jetstream/audit"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	jsstore "github.com/redlane/redlane/adapters/jetstream"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/eventstoredb"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/internal/cli"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/projections/record"
	"github.com/redlane/redlane/projections/report"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// AuditConfig is the tamper evidence and the EventStoreDB mirror a serving process runs.
type AuditConfig struct {
	ESDBURL      string        // mirror every event into EventStoreDB at this connection string; empty: off
	SealEvery    int           // seal every this many events
	SealInterval time.Duration // and at least this often while events come in
}

// runAudit starts the sealer and, with --esdb-url, the EventStoreDB mirror, in the
// background until ctx ends or the returned func is called, which stops them and waits.
func runAudit(ctx context.Context, js jetstream.JetStream, store *jsstore.Store, signer *jsstore.Signer, f AuditConfig, replicas int, log *slog.Logger) (func(), error) {
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s:%d", host, os.Getpid())
	sealer, err := jsaudit.NewSealer(ctx, js, store, jsaudit.SealerConfig{
		Signer: signer, Owner: owner, Every: f.SealEvery, Interval: f.SealInterval, Replicas: replicas, Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	var mirror *eventstoredb.Mirror
	var client *eventstoredb.Client
	if f.ESDBURL != "" {
		if client, err = eventstoredb.Dial(f.ESDBURL, log); err != nil {
			return nil, err
		}
		mirror, err = eventstoredb.NewMirror(ctx, js, eventstoredb.MirrorConfig{
			Stream: store.StreamName(), Target: client, Owner: owner, Replicas: replicas, Log: log,
			Obeys: store.Obeys,
		})
		if err != nil {
			client.Close()
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	n := 1
	go func() { _ = sealer.Run(ctx); done <- struct{}{} }()
	if mirror != nil {
		n++
		go func() { _ = mirror.Run(ctx); done <- struct{}{} }()
		log.Info("mirroring events into EventStoreDB")
	}
	log.Info("events are signed and sealed", "key", signer.KeyID(), "seal_every", f.SealEvery, "seal_interval", f.SealInterval.String())
	return func() {
		cancel()
		for range n {
			<-done
		}
		if client != nil {
			client.Close()
		}
	}, nil
}

// OrderStory is an order's whole story (redlane audit order): its events worded, with
// the lane's and members' names, and its state as of asOf (nil: now). The requester's
// phone is masked unless unmask; when the privacy vault cannot be read (an auditor's
// NATS account), the story is told without the requester, and warn says so.
func OrderStory(ctx context.Context, lc *Log, replicas int, id string, asOf *time.Time, unmask bool, warn io.Writer) (*query.AuditStory, error) {
	store, id, recs, err := findOrder(ctx, lc.Store, id)
	if err != nil {
		return nil, err
	}
	if store != lc.Store {
		fmt.Fprintf(warn, "order %s is read from the ended period %s\n", id, store.StreamName())
	}
	// The resident's details are sealed with their own key (the privacy vault). An
	// auditor whose NATS account cannot reach it still gets the story, without them.
	cfg := service.Config{Store: store}
	if !readsSecrets(lc.JS.Conn()) {
		fmt.Fprintln(warn, "this NATS user may not read the privacy vault (a reader's): the requester is shown as sealed")
	} else {
		pepper, err := jsvault.SharedSecret(ctx, lc.JS, "resident-pepper", func() []byte { return RandomBytes(32) }, replicas)
		if err == nil {
			var vault *jsvault.Vault
			if vault, err = jsvault.Open(ctx, lc.JS, pepper, replicas); err == nil {
				cfg.Vault = vault
			}
		}
		if err != nil {
			fmt.Fprintf(warn, "the privacy vault cannot be read (%v): the requester is shown as sealed\n", err)
		}
	}
	return buildStory(ctx, store, service.New(cfg), cfg.Vault != nil, id, recs, asOf, unmask)
}

// findOrder finds the order id (or numbered id) in the store's period, else in the
// periods before it, the latest first (an order left behind when its period ended):
// it returns the period's store, the order's id and its events.
func findOrder(ctx context.Context, current *jsstore.Store, id string) (*jsstore.Store, string, []domain.Recorded, error) {
	number := strings.ToUpper(id)
	if !order.IsNumber(number) {
		number = ""
		if !domain.ValidID(id) {
			return nil, "", nil, fmt.Errorf("no order %q", id)
		}
	}
	chain, _, err := current.Periods(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	store := current
	for i := len(chain) - 1; i >= 0; i-- {
		if i < len(chain)-1 {
			if store, err = current.OpenPeriod(ctx, chain[i].Stream); err != nil {
				return nil, "", nil, err
			}
		}
		found := id
		if number != "" {
			if found, err = orderNumbered(ctx, store, number); err != nil {
				return nil, "", nil, err
			}
			if found == "" {
				continue
			}
		}
		recs, err := store.History(ctx, order.AggregateType, found)
		if err != nil {
			return nil, "", nil, err
		}
		if len(recs) > 0 {
			return store, found, recs, nil
		}
	}
	if number != "" {
		return nil, "", nil, fmt.Errorf("no order is numbered %s", number)
	}
	return nil, "", nil, fmt.Errorf("no order %q", id)
}

// readsSecrets reports whether nc's user may read the secrets bucket. A reader's may not
// even subscribe to its subjects (natsserver.ReaderPermissions), which the server refuses
// at once, where a request to the bucket would go unanswered until it timed out. The
// refusal is expected here and not printed.
func readsSecrets(nc *nats.Conn) bool {
	subj := "$KV." + jsvault.SecretsBucket + ".probe"
	prev := nc.ErrorHandler()
	nc.SetErrorHandler(func(c *nats.Conn, sub *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), subj) {
			return
		}
		if prev != nil {
			prev(c, sub, err)
		}
	})
	defer nc.SetErrorHandler(prev)
	sub, err := nc.SubscribeSync(subj)
	if err != nil {
		return false
	}
	defer func() { _ = sub.Unsubscribe() }()
	// The server answers a subscription it refuses before the flush's pong.
	if err := nc.FlushTimeout(5 * time.Second); err != nil {
		return false
	}
	last := nc.LastError()
	return !errors.Is(last, nats.ErrPermissionViolation) || !strings.Contains(last.Error(), subj)
}

// orderNumbered finds the id of the order numbered number by reading the log for its
// submission (an auditor's question, answered from the log alone).
func orderNumbered(ctx context.Context, store *jsstore.Store, number string) (string, error) {
	needle := []byte(`"number":"` + number + `"`)
	errFound := errors.New("found")
	var id string
	err := jsstore.ScanParallel(ctx, store, 1, func(ev jsstore.RawEvent) string {
		if !bytes.Contains(ev.Data, needle) {
			return ""
		}
		env, err := domain.DecodeEnvelope(ev.Data)
		if err != nil || env.AggregateType != order.AggregateType || env.Type != order.TypeSubmitted || store.Check(ev.Seq, ev.Subject, ev.Header, ev.Data) != nil {
			return ""
		}
		return env.AggregateID
	}, func(_ jsstore.RawEvent, found string) error {
		if found == "" {
			return nil
		}
		id = found
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		return "", err
	}
	return id, nil
}

func buildStory(ctx context.Context, store *jsstore.Store, svc *service.Service, vault bool, id string, recs []domain.Recorded, asOf *time.Time, unmask bool) (*query.AuditStory, error) {
	upto := query.StoryUpTo(recs, asOf)
	st := &query.AuditStory{Order: id, AsOf: asOf, Later: len(recs) - upto}
	then, err := svc.Orders.Fold(domain.Snapshot[order.State]{ID: id}, recs[:upto])
	if err != nil {
		return nil, err
	}
	if then.Exists() {
		s := then.State
		req, erased, err := svc.Requester(ctx, s)
		switch {
		case err != nil:
			return nil, err
		case s.Sealed != nil && !vault:
			req, erased = order.Requester{Name: "（已加密）", Phone: "（已加密）"}, false
		case !unmask && !erased:
			req.Phone = order.MaskPhone(req.Phone)
		}
		st.Seq = then.Seq
		st.State = &query.AuditState{
			ID: s.ID, Number: s.Number, Lane: s.Lane, Community: s.Community, Street: s.Street, Category: s.Category, Title: s.Title,
			Requester: query.AuditRequester{Name: req.Name, Phone: req.Phone, Erased: erased}, Priority: s.Priority,
			Status: s.Status, Escalation: s.Escalation, Overdue: s.OverdueOn, Version: then.Version, Rating: s.Rating,
			SubmittedAt: s.SubmittedAt, UpdatedAt: s.UpdatedAt, AcceptBy: s.AcceptBy, CompleteBy: s.CompleteBy,
		}
		if s.Assignee != "" {
			st.State.Assignee = &s.Assignee
		}
	}
	names, err := storyNames(ctx, store, recs[:upto])
	if err != nil {
		return nil, err
	}
	st.Events = query.Story(recs[:upto], names, unmask)
	return st, nil
}

// storyNames learns the lane's and the members' names from their own events in the log.
func storyNames(ctx context.Context, store *jsstore.Store, recs []domain.Recorded) (query.StoryNames, error) {
	names := query.StoryNames{Members: map[string]member.Profile{}}
	if len(recs) == 0 {
		return names, nil
	}
	var sub struct{ Lane string }
	_ = json.Unmarshal(recs[0].Data, &sub)
	ok := func(id string) bool { return id != "" && domain.ValidID(id) }
	if ok(sub.Lane) {
		evs, err := store.Load(ctx, lane.AggregateType, sub.Lane, 0)
		if err != nil {
			return names, err
		}
		for _, rec := range evs {
			switch e, _ := projections.Events.Decode(rec.Envelope); e := e.(type) {
			case lane.Registered:
				names.Lane, names.Place = sub.Lane, e
			case lane.Updated:
				names.Lane, names.Place = sub.Lane, lane.Registered(e)
			}
		}
	}
	if names.Lane != "" {
		var err error
		if names.CommunityName, err = placeName(ctx, store, community.AggregateType, names.Place.Community); err != nil {
			return names, err
		}
		if names.StreetName, err = placeName(ctx, store, street.AggregateType, names.Place.Street); err != nil {
			return names, err
		}
	}
	for _, id := range query.StoryMembers(recs) {
		if !ok(id) {
			continue
		}
		evs, err := store.Load(ctx, member.AggregateType, id, 0)
		if err != nil {
			return names, err
		}
		for _, rec := range evs {
			switch e, _ := projections.Events.Decode(rec.Envelope); e := e.(type) {
			case member.Registered:
				names.Members[id] = member.Profile(e)
			case member.Updated:
				names.Members[id] = member.Profile(e)
			}
		}
	}
	return names, nil
}

// placeName is a street's or a community's name as its own events in the log last gave
// it, or "" when it was never registered.
func placeName(ctx context.Context, store *jsstore.Store, aggType, id string) (string, error) {
	if !domain.ValidID(id) {
		return "", nil
	}
	evs, err := store.Load(ctx, aggType, id, 0)
	if err != nil {
		return "", err
	}
	name := ""
	for _, rec := range evs {
		switch e, _ := projections.Events.Decode(rec.Envelope); e := e.(type) {
		case street.Registered:
			name = e.Name
		case street.Renamed:
			name = e.Name
		case community.Registered:
			name = e.Name
		case community.Renamed:
			name = e.Name
		}
	}
	return name, nil
}

// ReplayOut is the views as they stood at a moment.
type ReplayOut struct {
	Until     time.Time         `json:"until"`
	Seq       uint64            `json:"seq"`        // the last event folded in
	Stream    string            `json:"stream"`     // its stream (a period's)
	EventTime *time.Time        `json:"event_time"` // its time
	Events    uint64            `json:"events"`
	Period    string            `json:"period"`
	Backlogs  []ReplayLane      `json:"backlogs"`
	Rankings  []record.Ranking  `json:"rankings"`
	Reports   []report.Report   `json:"reports"`
	Buckets   map[string]string `json:"buckets,omitempty"`
}

// ReplayLane is a lane's backlog with its live orders.
type ReplayLane struct {
	backlog.Lane
	Items []ReplayItem `json:"items"`
}

// ReplayItem is a live order and its age.
type ReplayItem struct {
	backlog.Item
	AgeSeconds int64 `json:"age_seconds"` // at the moment replayed to
}

// Replay folds the log up to until into the chosen views, apart from the live ones
// (redlane audit replay): the lanes' backlogs with their live orders, the period's
// rankings and reports. keep also writes each view to a bucket of its own.
func Replay(ctx context.Context, lc *Log, replicas int, until time.Time, chosen []func() projections.View, keep bool, progress jsstore.Progress) (ReplayOut, error) {
	var out ReplayOut
	host, _ := os.Hostname()
	vs, err := jsviews.New(ctx, lc.JS, lc.Store, jsviews.Config{Owner: fmt.Sprintf("audit-replay@%s:%d", host, os.Getpid()), Replicas: replicas, ReadOnly: !keep})
	if err != nil {
		return out, err
	}
	r, err := vs.Replay(ctx, until, chosen, keep, progress)
	if err != nil {
		return out, err
	}
	out = ReplayOut{Until: until.UTC(), Seq: r.Seq, Stream: r.Stream, Events: r.Events, Period: projections.Period(until), Buckets: r.Buckets,
		Backlogs: []ReplayLane{}, Rankings: []record.Ranking{}, Reports: []report.Report{}}
	if r.Seq > 0 {
		t := r.Time.UTC()
		out.EventTime = &t
	}
	live := map[string][]ReplayItem{} // a lane's live orders, from the orders' documents
	for _, k := range r.Keys[backlog.Name] {
		if !strings.HasPrefix(k, "order.") {
			continue
		}
		var o backlog.Order
		if err := json.Unmarshal(r.Doc(backlog.Name, k), &o); err != nil {
			return out, fmt.Errorf("backlog %s: %w", k, err)
		}
		if backlog.Live(o.Status) {
			live[o.Lane] = append(live[o.Lane], ReplayItem{Item: o.Item, AgeSeconds: int64(until.Sub(o.SubmittedAt).Seconds())})
		}
	}
	for _, k := range r.Keys[backlog.Name] {
		if !strings.HasPrefix(k, "lane.") {
			continue
		}
		var l backlog.Lane
		if err := json.Unmarshal(r.Doc(backlog.Name, k), &l); err != nil {
			return out, fmt.Errorf("backlog %s: %w", k, err)
		}
		items := live[l.Lane]
		slices.SortFunc(items, func(a, b ReplayItem) int {
			return cmp.Or(a.SubmittedAt.Compare(b.SubmittedAt), strings.Compare(a.ID, b.ID))
		})
		out.Backlogs = append(out.Backlogs, ReplayLane{Lane: l, Items: append([]ReplayItem{}, items...)})
	}
	suffix := "." + out.Period
	for _, k := range r.Keys[record.Name] {
		if !strings.HasPrefix(k, "ranking.") || !strings.HasSuffix(k, suffix) {
			continue
		}
		var rk record.Ranking
		if err := json.Unmarshal(r.Doc(record.Name, k), &rk); err != nil {
			return out, fmt.Errorf("ranking %s: %w", k, err)
		}
		out.Rankings = append(out.Rankings, rk)
	}
	for _, k := range r.Keys[report.Name] {
		if !strings.HasPrefix(k, "report.") || !strings.HasSuffix(k, suffix) {
			continue
		}
		var rep report.Report
		if err := json.Unmarshal(r.Doc(report.Name, k), &rep); err != nil {
			return out, fmt.Errorf("report %s: %w", k, err)
		}
		out.Reports = append(out.Reports, rep)
	}
	return out, nil
}

func folded(chosen []func() projections.View, name string) bool {
	return slices.ContainsFunc(chosen, func(nv func() projections.View) bool { return nv().Name() == name })
}

// WriteReplayText writes a replay for a terminal.
func WriteReplayText(w io.Writer, out ReplayOut, chosen []func() projections.View) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "as of %s (Asia/Shanghai), %s UTC\n", query.LocalTime(out.Until), out.Until.Format(time.RFC3339))
	if out.EventTime != nil {
		fmt.Fprintf(bw, "%d events folded, the last at stream sequence %d (%s)\n", out.Events, out.Seq, query.LocalTime(*out.EventTime))
	} else {
		fmt.Fprintln(bw, "no event had been stored yet")
	}
	for view, b := range out.Buckets {
		fmt.Fprintf(bw, "view %s kept in bucket %s\n", view, b)
	}
	if folded(chosen, backlog.Name) {
		fmt.Fprintf(bw, "\nLANE BACKLOGS (%d lanes)\n", len(out.Backlogs))
		for _, l := range out.Backlogs {
			name := l.Name
			if name == "" {
				name = l.Lane.Lane
			}
			c := l.Counts
			fmt.Fprintf(bw, "\n%s (%s, community %s): open %d, dispatched %d, accepted %d, completed %d, overdue %d\n",
				name, l.Lane.Lane, l.Community, c.Open, c.Dispatched, c.Accepted, c.Completed, c.Overdue)
			tw := tabwriter.NewWriter(bw, 0, 2, 2, ' ', 0)
			for _, it := range l.Items {
				over := ""
				if it.Overdue {
					over = "overdue"
				}
				assignee := it.Assignee
				if assignee == "" {
					assignee = "-"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\tage %s\t%s\t「%s」\n", it.Number, it.Status, assignee, it.Priority, (time.Duration(it.AgeSeconds) * time.Second).String(), over, it.Title)
			}
			tw.Flush()
		}
	}
	if folded(chosen, record.Name) {
		fmt.Fprintf(bw, "\nEVALUATION RANKINGS (评先评优), %s\n", out.Period)
		for _, rk := range out.Rankings {
			fmt.Fprintf(bw, "\ncommunity %s\n", rk.Community)
			tw := tabwriter.NewWriter(bw, 0, 2, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "RANK\tMEMBER\tNAME\tPOINTS\tCOMPLETED\tRATINGS\tMEAN STARS\tSAMPLE\t")
			for i, it := range rk.Items {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%.2f\t%d\t\n", i+1, it.Member, it.Name, it.Points, it.Completed, it.Ratings, it.MeanStars, it.Sample)
			}
			tw.Flush()
		}
	}
	if folded(chosen, report.Name) {
		fmt.Fprintf(bw, "\nMONTHLY REPORTS, %s\n", out.Period)
		for _, rep := range out.Reports {
			fmt.Fprintf(bw, "community %s: %d orders, 响应率 %s, 解决率 %s, 满意率 %s\n", rep.Community, rep.Orders,
				rateOrDash(rep.ResponseRate), rateOrDash(rep.ResolutionRate), rateOrDash(rep.SatisfactionRate))
		}
	}
	return bw.Flush()
}

// AuditVerify runs redlane audit verify: it checks the log against its signatures,
// seals and the anchors given ("SEQ:CHAIN"), writes the report (JSON, or text for a
// terminal) and fails when anything was found.
func AuditVerify(ctx context.Context, lc *Log, anchorTexts []string, unsignedUntil uint64, asJSON bool, stdout, stderr io.Writer) error {
	var anchors []jsaudit.Anchor
	for _, a := range anchorTexts {
		an, err := jsaudit.ParseAnchor(a)
		if err != nil {
			return fmt.Errorf("--anchor: %w", err)
		}
		anchors = append(anchors, an)
	}
	rep, err := jsaudit.Verify(ctx, lc.JS, lc.Store, jsaudit.VerifyConfig{Keys: lc.Store.Keys(), UnsignedUntil: unsignedUntil,
		Anchors: anchors, Progress: NewProgress(stderr, "verify").Update})
	if err != nil {
		return err
	}
	if asJSON {
		if err := cli.WriteJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		WriteVerifyText(stdout, rep)
	}
	if !rep.OK() {
		return fmt.Errorf("verify: %d problems; the first bad event is at stream sequence %d", rep.ProblemsFound, rep.FirstBad)
	}
	return nil
}

// WriteVerifyText writes a verification's report for a terminal.
func WriteVerifyText(w io.Writer, r *jsaudit.VerifyReport) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "stream %s: positions %d to %d, %d events read\n", r.Stream, r.FirstSeq, r.LastSeq, r.Events)
	fmt.Fprintf(bw, "signatures: %d valid (keys %s)\n", r.Signed, strings.Join(r.Keys, ", "))
	if r.Seals == 0 {
		fmt.Fprintln(bw, "seals: none yet (is a redlane serve running its sealer?)")
	} else {
		fmt.Fprintf(bw, "seals: %d read, %d match the events; the last covers up to %d, made %s (Asia/Shanghai)\n", r.Seals, r.SealsMatched, r.SealedUpto, query.LocalTime(r.SealedAt))
	}
	fmt.Fprintf(bw, "signed but not yet sealed: %d events\n", r.Unsealed)
	if l := r.Link; l != nil {
		switch l.Status {
		case "ok":
			fmt.Fprintf(bw, "period: follows %s; its final seal (up to %d, chain %.16s…) is the one this period's first seal names\n", l.Prev, l.PrevUpto, l.PrevChain)
		case "archived":
			fmt.Fprintf(bw, "period: follows %s, which is not on this server (archived): the link to its final seal (up to %d, chain %.16s…) is not checked; restore it to check\n", l.Prev, l.PrevUpto, l.PrevChain)
		case "unsealed":
			fmt.Fprintf(bw, "period: follows %s; no seal yet names its final seal\n", l.Prev)
		default:
			fmt.Fprintf(bw, "period: follows %s; the link to its final seal is BROKEN (see below)\n", l.Prev)
		}
	}
	fmt.Fprintf(bw, "chain after %d: %s\n", r.ChainSeq, r.Chain)
	fmt.Fprintf(bw, "  (keep it outside NATS; a later \"redlane audit verify --anchor %d:%s\" proves nothing up to there changed)\n", r.ChainSeq, r.Chain)
	if r.OK() {
		fmt.Fprintln(bw, "\nOK: no stored event has been altered, removed, inserted or reordered since it was written")
		return
	}
	fmt.Fprintf(bw, "\nPROBLEMS (%d", r.ProblemsFound)
	if len(r.Problems) < r.ProblemsFound {
		fmt.Fprintf(bw, ", the first %d listed", len(r.Problems))
	}
	fmt.Fprintln(bw, "):")
	for _, p := range r.Problems {
		where := strconv.FormatUint(p.Seq, 10)
		if p.Until != p.Seq {
			where += "-" + strconv.FormatUint(p.Until, 10)
		}
		fmt.Fprintf(bw, "  seq %-12s %-14s %s\n", where, p.Kind, p.Detail)
	}
	fmt.Fprintf(bw, "\nFAILED: the record has been tampered with; the first bad event is at stream sequence %d\n", r.FirstBad)
}

func rateOrDash(r *float64) string {
	if r == nil {
		return "-"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + "%"
}
