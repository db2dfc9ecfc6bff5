package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/eventstoredb"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/projections/record"
	"github.com/redlane/redlane/projections/report"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

const auditUsage = `usage: redlane audit <command> [flags] [--nats-url URL | --data DIR]

commands:
  order ID [--as-of TIME] [--format text|json|csv] [--unmask]
                         an order's whole story: who did what, when, in which role; its state as of TIME
  replay --until TIME [--view V]... [--format text|json] [--keep]
                         every view as it stood at TIME, folded apart from the live views
  verify [--key-file F]... [--unsigned-until SEQ] [--anchor SEQ:CHAIN]... [--format text|json]
                         prove that no stored event was altered, removed, inserted or reordered
  export --from TIME --until TIME [-o FILE]
                         the events stamped in [from, until] as JSON Lines of envelopes
  seal                   seal everything stored now (the sealer in redlane serve does it by itself)
  introduce --public-key KEY [--name NAME]
                         trust another writer's signing key: a key event signed with this data directory's key

TIME is RFC 3339 (2026-11-27T06:00:00Z) or "2026-11-27 14:00" in Asia/Shanghai.
Events count only when signed by a trusted key: those in --trusted-keys, else DATA/trusted.keys,
else the root that the log's first key event introduces. verify needs no secret: a read-only
NATS user (--nats-nkey DATA/auditor.nk) is enough.
`

// auditCmd runs "redlane audit …".
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return errUsage
	}
	switch args[0] {
	case "order":
		return auditOrder(ctx, args[1:], stdout, stderr)
	case "replay":
		return auditReplay(ctx, args[1:], stdout, stderr)
	case "verify":
		return auditVerify(ctx, args[1:], stdout, stderr, getenv)
	case "export":
		return auditExport(ctx, args[1:], stdout, stderr)
	case "seal":
		return auditSeal(ctx, args[1:], stdout, stderr, getenv)
	case "introduce":
		return auditIntroduce(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, auditUsage)
		return nil
	}
	fmt.Fprint(stderr, auditUsage)
	return fmt.Errorf("unknown audit command %q", args[0])
}

// auditFlagSet is a flag set with the flags of every audit command.
func auditFlagSet(name string, stderr io.Writer, nf *natsFlags) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("audit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	nf.register(fs)
	return fs, fs.String("data", "./data", "the data directory of a stopped redlane serve (when no --nats-url), and of audit.key")
}

// parseInterleaved parses flags that may come before or after positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseTime reads RFC 3339, or a local time in Asia/Shanghai.
func parseTime(s string) (time.Time, error) { return query.ParseTime(s) }

func local(t time.Time) string { return query.LocalTime(t) }

// ---- audit order ----

// storyState is an order's state as of a moment.
type storyState struct {
	ID          string               `json:"id"`
	Number      string               `json:"number"`
	Lane        string               `json:"lane"`
	Community   string               `json:"community"`
	Street      string               `json:"street"`
	Category    string               `json:"category"`
	Title       string               `json:"title"`
	Requester   storyRequester       `json:"requester"`
	Priority    order.Priority       `json:"priority"`
	Status      order.Status         `json:"status"`
	Assignee    *string              `json:"assignee"`
	Escalation  order.Level          `json:"escalation"`
	Overdue     []order.DeadlineKind `json:"overdue"`
	Version     uint64               `json:"version"`
	Rating      *order.Rating        `json:"rating"`
	SubmittedAt time.Time            `json:"submitted_at"`
	UpdatedAt   time.Time            `json:"updated_at"`
	AcceptBy    time.Time            `json:"accept_by"`
	CompleteBy  time.Time            `json:"complete_by"`
}

type storyRequester struct {
	Name   string `json:"name"`
	Phone  string `json:"phone"`
	Erased bool   `json:"erased,omitempty"`
}

type story struct {
	Order  string             `json:"order"`
	AsOf   *time.Time         `json:"as_of"`
	Seq    uint64             `json:"seq"`
	State  *storyState        `json:"state"`
	Events []query.StoryEvent `json:"events"`
	Later  int                `json:"later"`
}

func auditOrder(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var nf natsFlags
	fs, dataDir := auditFlagSet("order", stderr, &nf)
	asOfText := fs.String("as-of", "", "show the state as of this moment (RFC 3339, or \"2026-11-27 14:00\" in Asia/Shanghai)")
	format := fs.String("format", "text", "text, json or csv")
	unmask := fs.Bool("unmask", false, "show the requester's phone in full")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("audit order: give one order id")
	}
	id := pos[0]
	if *format != "text" && *format != "json" && *format != "csv" {
		return fmt.Errorf("--format %q: want text, json or csv", *format)
	}
	var asOf *time.Time
	if *asOfText != "" {
		t, err := parseTime(*asOfText)
		if err != nil {
			return fmt.Errorf("--as-of: %w", err)
		}
		asOf = &t
	}
	lc, err := openLog(ctx, nf, *dataDir, false, stderr)
	if err != nil {
		return err
	}
	defer lc.close()
	if !domain.ValidID(id) {
		return fmt.Errorf("no order %q", id)
	}
	recs, err := lc.store.History(ctx, order.AggregateType, id)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("no order %q", id)
	}
	// The resident's details are sealed with their own key (the privacy vault). An
	// auditor whose NATS account cannot reach it still gets the story, without them.
	cfg := service.Config{Store: lc.store}
	pepper, err := jsstore.SharedSecret(ctx, lc.js, "resident-pepper", func() []byte { return randomBytes(32) }, nf.replicas)
	if err == nil {
		var vault *jsstore.Vault
		if vault, err = jsstore.OpenVault(ctx, lc.js, pepper, nf.replicas); err == nil {
			cfg.Vault = vault
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "the privacy vault cannot be read (%v): the requester is shown as sealed\n", err)
	}
	st, err := buildStory(ctx, lc.store, service.New(cfg), cfg.Vault != nil, id, recs, asOf, *unmask)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	case "csv":
		return query.WriteStoryCSV(stdout, st.Events)
	}
	return writeStoryText(stdout, st)
}

func buildStory(ctx context.Context, store *jsstore.Store, svc *service.Service, vault bool, id string, recs []domain.Recorded, asOf *time.Time, unmask bool) (*story, error) {
	upto := query.StoryUpTo(recs, asOf)
	st := &story{Order: id, AsOf: asOf, Later: len(recs) - upto}
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
		st.State = &storyState{
			ID: s.ID, Number: s.Number, Lane: s.Lane, Community: s.Community, Street: s.Street, Category: s.Category, Title: s.Title,
			Requester: storyRequester{Name: req.Name, Phone: req.Phone, Erased: erased}, Priority: s.Priority,
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

func writeStoryText(w io.Writer, st *story) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "order %s\n", st.Order)
	if st.AsOf != nil {
		fmt.Fprintf(bw, "as of %s (%s UTC): %d events, %d later ones not shown\n", local(*st.AsOf), st.AsOf.UTC().Format(time.RFC3339), len(st.Events), st.Later)
	} else {
		fmt.Fprintf(bw, "%d events\n", len(st.Events))
	}
	fmt.Fprintln(bw)
	tw := tabwriter.NewWriter(bw, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME (UTC)\tTIME (ASIA/SHANGHAI)\tV\tTYPE\tACTOR\tROLE")
	for _, e := range st.Events {
		who := e.ActorName
		if who == "" {
			who = e.Actor
		} else if e.Actor != "" && e.Actor != e.ActorName {
			who += " (" + e.Actor + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", e.Seq, e.Time.Format("2006-01-02T15:04:05.000Z"), e.TimeLocal, e.Version, terminalSafe(e.Type), terminalSafe(who), e.Role)
		if e.Rejected != "" {
			fmt.Fprintf(tw, "\t\t\t\t!! %s (%s)\n", e.Notice, e.Rejected)
		}
		// The last cell of a line is not aligned, so long text leaves the columns alone.
		if e.Summary != "" {
			fmt.Fprintf(tw, "\t\t\t\t%s\n", terminalSafe(e.Summary))
		}
		fmt.Fprintf(tw, "\t\t\t\t%s\n", e.Data)
	}
	tw.Flush()
	fmt.Fprintln(bw)
	if st.State == nil {
		fmt.Fprintln(bw, "state: the order did not exist yet")
		return bw.Flush()
	}
	s := st.State
	assignee := "nobody"
	if s.Assignee != nil {
		assignee = *s.Assignee
	}
	fmt.Fprintf(bw, "state (version %d, stream sequence %d):\n", s.Version, st.Seq)
	fmt.Fprintf(bw, "  %s  %s  「%s」  lane %s, community %s, street %s, category %s, priority %s\n", s.Number, s.ID, terminalSafe(s.Title), s.Lane, s.Community, s.Street, s.Category, s.Priority)
	fmt.Fprintf(bw, "  status %s, assignee %s, escalation %s", s.Status, assignee, s.Escalation)
	if len(s.Overdue) > 0 {
		fmt.Fprintf(bw, ", overdue (%v)", s.Overdue)
	}
	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "  requester %s %s\n", s.Requester.Name, s.Requester.Phone)
	fmt.Fprintf(bw, "  submitted %s, accept by %s, complete by %s, last change %s (Asia/Shanghai)\n", local(s.SubmittedAt), local(s.AcceptBy), local(s.CompleteBy), local(s.UpdatedAt))
	if s.Rating != nil {
		fmt.Fprintf(bw, "  rated %d stars, solved %v, by %s at %s\n", s.Rating.Stars, s.Rating.Solved, s.Rating.Member, local(s.Rating.At))
	}
	return bw.Flush()
}

// ---- audit replay ----

type replayOut struct {
	Until     time.Time         `json:"until"`
	Seq       uint64            `json:"seq"`        // the last event folded in
	EventTime *time.Time        `json:"event_time"` // its time
	Events    uint64            `json:"events"`
	Period    string            `json:"period"`
	Backlogs  []replayLane      `json:"backlogs"`
	Rankings  []record.Ranking  `json:"rankings"`
	Reports   []report.Report   `json:"reports"`
	Buckets   map[string]string `json:"buckets,omitempty"`
}

type replayLane struct {
	backlog.Lane
	Items []replayItem `json:"items"`
}

type replayItem struct {
	backlog.Item
	AgeSeconds int64 `json:"age_seconds"` // at the moment replayed to
}

func auditReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var nf natsFlags
	fs, dataDir := auditFlagSet("replay", stderr, &nf)
	untilText := fs.String("until", "", "the moment (RFC 3339, or \"2026-11-27 14:00\" in Asia/Shanghai); required")
	var only multiFlag
	fs.Var(&only, "view", "fold only this view (repeatable); default all: "+strings.Join(viewNames(), ", "))
	format := fs.String("format", "text", "text or json")
	keep := fs.Bool("keep", false, "also write each view to a bucket of its own, REDLANE_REPLAY_<VIEW>_<unix seconds>")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *untilText == "" {
		return errors.New("--until is required")
	}
	until, err := parseTime(*untilText)
	if err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("--format %q: want text or json", *format)
	}
	chosen := views
	if len(only) > 0 {
		chosen = nil
		for _, n := range only {
			nv, ok := viewNamed(n)
			if !ok {
				return fmt.Errorf("no view %q; views: %s", n, strings.Join(viewNames(), ", "))
			}
			chosen = append(chosen, nv)
		}
	}
	lc, err := openLog(ctx, nf, *dataDir, *keep, stderr)
	if err != nil {
		return err
	}
	defer lc.close()
	host, _ := os.Hostname()
	vs, err := jsstore.NewViews(ctx, lc.js, lc.store, jsstore.ViewsConfig{Owner: fmt.Sprintf("audit-replay@%s:%d", host, os.Getpid()), Replicas: nf.replicas, ReadOnly: !*keep})
	if err != nil {
		return err
	}
	bar := newProgress(stderr, "replay to "+local(until))
	r, err := vs.Replay(ctx, until, chosen, *keep, bar.update)
	if err != nil {
		return err
	}
	out := replayOut{Until: until.UTC(), Seq: r.Seq, Events: r.Events, Period: projections.Period(until), Buckets: r.Buckets,
		Backlogs: []replayLane{}, Rankings: []record.Ranking{}, Reports: []report.Report{}}
	if r.Seq > 0 {
		t := r.Time.UTC()
		out.EventTime = &t
	}
	live := map[string][]replayItem{} // a lane's live orders, from the orders' documents
	for _, k := range r.Keys[backlog.Name] {
		if !strings.HasPrefix(k, "order.") {
			continue
		}
		var o backlog.Order
		if err := json.Unmarshal(r.Doc(backlog.Name, k), &o); err != nil {
			return fmt.Errorf("backlog %s: %w", k, err)
		}
		if backlog.Live(o.Status) {
			live[o.Lane] = append(live[o.Lane], replayItem{Item: o.Item, AgeSeconds: int64(until.Sub(o.SubmittedAt).Seconds())})
		}
	}
	for _, k := range r.Keys[backlog.Name] {
		if !strings.HasPrefix(k, "lane.") {
			continue
		}
		var l backlog.Lane
		if err := json.Unmarshal(r.Doc(backlog.Name, k), &l); err != nil {
			return fmt.Errorf("backlog %s: %w", k, err)
		}
		items := live[l.Lane]
		slices.SortFunc(items, func(a, b replayItem) int {
			return cmp.Or(a.SubmittedAt.Compare(b.SubmittedAt), strings.Compare(a.ID, b.ID))
		})
		out.Backlogs = append(out.Backlogs, replayLane{Lane: l, Items: append([]replayItem{}, items...)})
	}
	suffix := "." + out.Period
	for _, k := range r.Keys[record.Name] {
		if !strings.HasPrefix(k, "ranking.") || !strings.HasSuffix(k, suffix) {
			continue
		}
		var rk record.Ranking
		if err := json.Unmarshal(r.Doc(record.Name, k), &rk); err != nil {
			return fmt.Errorf("ranking %s: %w", k, err)
		}
		out.Rankings = append(out.Rankings, rk)
	}
	for _, k := range r.Keys[report.Name] {
		if !strings.HasPrefix(k, "report.") || !strings.HasSuffix(k, suffix) {
			continue
		}
		var rep report.Report
		if err := json.Unmarshal(r.Doc(report.Name, k), &rep); err != nil {
			return fmt.Errorf("report %s: %w", k, err)
		}
		out.Reports = append(out.Reports, rep)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return writeReplayText(stdout, out, chosen)
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func folded(chosen []func() projections.View, name string) bool {
	return slices.ContainsFunc(chosen, func(nv func() projections.View) bool { return nv().Name() == name })
}

func writeReplayText(w io.Writer, out replayOut, chosen []func() projections.View) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "as of %s (Asia/Shanghai), %s UTC\n", local(out.Until), out.Until.Format(time.RFC3339))
	if out.EventTime != nil {
		fmt.Fprintf(bw, "%d events folded, the last at stream sequence %d (%s)\n", out.Events, out.Seq, local(*out.EventTime))
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

func rateOrDash(r *float64) string {
	if r == nil {
		return "-"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + "%"
}

// auditFlags are serve's flags for tamper evidence and the EventStoreDB mirror.
type auditFlags struct {
	esdbURL      string
	sealEvery    int
	sealInterval time.Duration
}

func (f *auditFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.esdbURL, "esdb-url", "", "mirror every event into EventStoreDB / KurrentDB at this connection string (esdb://host:2113?tls=false); empty: off")
	fs.IntVar(&f.sealEvery, "seal-every", 1000, "seal the event stream every this many events")
	fs.DurationVar(&f.sealInterval, "seal-interval", 10*time.Second, "and at least this often while events come in")
}

// runAudit starts the sealer and, with --esdb-url, the EventStoreDB mirror, in the
// background until ctx ends or the returned func is called, which stops them and waits.
func runAudit(ctx context.Context, js jetstream.JetStream, store *jsstore.Store, signer *jsstore.Signer, f auditFlags, replicas int, log *slog.Logger) (func(), error) {
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s:%d", host, os.Getpid())
	sealer, err := jsstore.NewSealer(ctx, js, store, jsstore.SealerConfig{
		Signer: signer, Owner: owner, Every: f.sealEvery, Interval: f.sealInterval, Replicas: replicas, Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	var mirror *eventstoredb.Mirror
	var client *eventstoredb.Client
	if f.esdbURL != "" {
		if client, err = eventstoredb.Dial(f.esdbURL, log); err != nil {
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
	log.Info("events are signed and sealed", "key", signer.KeyID(), "seal_every", f.sealEvery, "seal_interval", f.sealInterval.String())
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

// ---- audit verify and seal ----

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var nf natsFlags
	fs, dataDir := auditFlagSet("verify", stderr, &nf)
	var anchorTexts multiFlag
	fs.Var(&anchorTexts, "anchor", "SEQ:CHAIN, a chain value recorded from an earlier verification, to check again (repeatable)")
	unsignedUntil := fs.Uint64("unsigned-until", 0, "accept unsigned events at or below this stream sequence (written before signing was switched on)")
	format := fs.String("format", "text", "text or json")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("--format %q: want text or json", *format)
	}
	var anchors []jsstore.Anchor
	for _, a := range anchorTexts {
		an, err := jsstore.ParseAnchor(a)
		if err != nil {
			return fmt.Errorf("--anchor: %w", err)
		}
		anchors = append(anchors, an)
	}
	lc, err := openLog(ctx, nf, *dataDir, false, stderr)
	if err != nil {
		return err
	}
	defer lc.close()
	bar := newProgress(stderr, "verify")
	rep, err := jsstore.Verify(ctx, lc.js, lc.store, jsstore.VerifyConfig{Keys: lc.store.Keys(), UnsignedUntil: *unsignedUntil, Anchors: anchors, Progress: bar.update})
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeVerifyText(stdout, rep)
	}
	if !rep.OK() {
		return fmt.Errorf("verify: %d problems; the first bad event is at stream sequence %d", rep.ProblemsFound, rep.FirstBad)
	}
	return nil
}

func writeVerifyText(w io.Writer, r *jsstore.VerifyReport) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "stream %s: positions %d to %d, %d events read\n", r.Stream, r.FirstSeq, r.LastSeq, r.Events)
	fmt.Fprintf(bw, "signatures: %d valid (keys %s)\n", r.Signed, strings.Join(r.Keys, ", "))
	if r.Seals == 0 {
		fmt.Fprintln(bw, "seals: none yet (is a redlane serve running its sealer?)")
	} else {
		fmt.Fprintf(bw, "seals: %d read, %d match the events; the last covers up to %d, made %s (Asia/Shanghai)\n", r.Seals, r.SealsMatched, r.SealedUpto, local(r.SealedAt))
	}
	fmt.Fprintf(bw, "signed but not yet sealed: %d events\n", r.Unsealed)
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

func auditSeal(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var nf natsFlags
	fs, dataDir := auditFlagSet("seal", stderr, &nf)
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	lc, err := openLog(ctx, nf, *dataDir, true, stderr)
	if err != nil {
		return err
	}
	defer lc.close()
	if lc.store.Signer() == nil {
		return fmt.Errorf("sealing needs a signing key: run it with --data, the data directory of a redlane serve (%s)", signingKeyFile)
	}
	host, _ := os.Hostname()
	s, err := jsstore.NewSealer(ctx, lc.js, lc.store, jsstore.SealerConfig{Signer: lc.store.Signer(), Owner: fmt.Sprintf("audit-seal@%s:%d", host, os.Getpid()), Replicas: nf.replicas})
	if err != nil {
		return err
	}
	seal, err := s.SealNow(ctx, newProgress(stderr, "seal").update)
	if err != nil {
		return err
	}
	if seal == nil {
		fmt.Fprintln(stdout, "nothing new to seal")
		return nil
	}
	fmt.Fprintf(stdout, "sealed up to %d (%d events): chain %s\n", seal.Upto, seal.Count, seal.Chain)
	return nil
}

// ---- audit export ----

func auditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var nf natsFlags
	fs, dataDir := auditFlagSet("export", stderr, &nf)
	fromText := fs.String("from", "", "the first moment (RFC 3339, or \"2026-11-27 14:00\" in Asia/Shanghai); default: the beginning")
	untilText := fs.String("until", "", "the last moment; default: now")
	out := fs.String("o", "", "write to this file instead of standard output")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	from, until := time.Time{}, time.Now()
	var err error
	if *fromText != "" {
		if from, err = parseTime(*fromText); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	}
	if *untilText != "" {
		if until, err = parseTime(*untilText); err != nil {
			return fmt.Errorf("--until: %w", err)
		}
	}
	if until.Before(from) {
		return errors.New("--until is before --from")
	}
	lc, err := openLog(ctx, nf, *dataDir, false, stderr)
	if err != nil {
		return err
	}
	defer lc.close()
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, skipped, err := exportEvents(ctx, lc.store, from, until, w, newProgress(stderr, "export").update)
	if err != nil {
		return err
	}
	since := "the beginning"
	if !from.IsZero() {
		since = local(from)
	}
	fmt.Fprintf(stderr, "exported %d events stamped from %s to %s (Asia/Shanghai)\n", n, since, local(until))
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "left out %d messages that are not Redlane events, at stream sequences %v (see redlane audit verify)\n", len(skipped), skipped)
	}
	return nil
}

// exportEvents writes the events stamped in [from, until], in log order, one JSON
// envelope a line with its stream sequence added as "seq". It returns how many it wrote
// and the positions of messages that are not events (the first 100).
func exportEvents(ctx context.Context, store *jsstore.Store, from, until time.Time, w io.Writer, progress jsstore.Progress) (uint64, []uint64, error) {
	total, err := store.LastSeq(ctx)
	if err != nil {
		return 0, nil, err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var n uint64
	var skipped []uint64
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
	err = jsstore.ScanParallel(ctx, store, 1, func(ev jsstore.RawEvent) *head {
		var h head
		if err := json.Unmarshal(ev.Data, &h); err != nil || h.SpecVersion != domain.SpecVersion || h.ID == "" ||
			h.Type == "" || h.AggregateType == "" || h.AggregateID == "" || h.Version == 0 || len(ev.Data) < 2 {
			return nil
		}
		return &h
	}, func(ev jsstore.RawEvent, h *head) error {
		if h == nil {
			if len(skipped) < 100 {
				skipped = append(skipped, ev.Seq)
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
		if len(body) > 2 {
			bw.WriteByte(',')
		}
		bw.Write(body[1:])
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, skipped, err
	}
	if progress != nil {
		progress(total, total)
	}
	return n, skipped, bw.Flush()
}

// ---- audit introduce ----

// auditIntroduce trusts another writer's public key: it appends a key event that this
// data directory's key signs, so that every reader who trusts this key trusts that one.
func auditIntroduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var nf natsFlags
	fs, dataDir := auditFlagSet("introduce", stderr, &nf)
	pubText := fs.String("public-key", "", "the new writer's public key, base64 (its serve prints it, and it is the first field of its trusted.keys)")
	name := fs.String("name", "", "who holds the key: a host and data directory, say")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	pub, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*pubText))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return errors.New("--public-key: want a base64 Ed25519 public key (44 characters)")
	}
	lc, err := openLog(ctx, nf, *dataDir, true, stderr)
	if err != nil {
		return err
	}
	defer lc.close()
	if lc.store.Signer() == nil || !lc.store.Keys().Trusts(lc.store.Signer().PublicKey()) {
		return fmt.Errorf("introducing a key needs a trusted signing key: --data must be the data directory of a trusted redlane serve (%s, %s)", signingKeyFile, trustedKeysFile)
	}
	if lc.store.Keys().Trusts(pub) {
		fmt.Fprintf(stdout, "key %s is trusted already\n", jsstore.KeyID(pub))
		return nil
	}
	env, err := jsstore.Introduction(pub, *name, newEventID(), time.Now())
	if err != nil {
		return err
	}
	seqs, err := lc.store.Append(ctx, jsstore.SignerAggregate, jsstore.KeyID(pub), 0, []domain.Envelope{env})
	if err != nil {
		return fmt.Errorf("introduce key %s: %w", jsstore.KeyID(pub), err)
	}
	fmt.Fprintf(stdout, "key %s introduced by %s at %d\n", jsstore.KeyID(pub), lc.store.Signer().KeyID(), seqs[0])
	return nil
}

// terminalSafe shows text for a terminal: control characters and direction overrides
// (which history from before they were refused may hold) as visible escapes, never
// obeyed by the terminal.
func terminalSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
