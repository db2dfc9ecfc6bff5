package query

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redlane/redlane/domain/order"
)

// AuditState is an order's state as of a moment.
type AuditState struct {
	ID          string               `json:"id"`
	Number      string               `json:"number"`
	Lane        string               `json:"lane"`
	Community   string               `json:"community"`
	Street      string               `json:"street"`
	Category    string               `json:"category"`
	Title       string               `json:"title"`
	Requester   AuditRequester       `json:"requester"`
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

// AuditRequester is the requester as the auditor may see them.
type AuditRequester struct {
	Name   string `json:"name"`
	Phone  string `json:"phone"`
	Erased bool   `json:"erased,omitempty"`
}

// AuditStory is an order's whole story as of a moment: its events, worded, and its state.
type AuditStory struct {
	Order  string       `json:"order"`
	AsOf   *time.Time   `json:"as_of"`
	Seq    uint64       `json:"seq"`
	State  *AuditState  `json:"state"`
	Events []StoryEvent `json:"events"`
	Later  int          `json:"later"`
}

// WriteStoryText writes an order's story for a terminal: a table of its events and its state.
func WriteStoryText(w io.Writer, st *AuditStory) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "order %s\n", st.Order)
	if st.AsOf != nil {
		fmt.Fprintf(bw, "as of %s (%s UTC): %d events, %d later ones not shown\n", LocalTime(*st.AsOf), st.AsOf.UTC().Format(time.RFC3339), len(st.Events), st.Later)
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", e.Seq, e.Time.Format("2006-01-02T15:04:05.000Z"), e.TimeLocal, e.Version, TerminalSafe(e.Type), TerminalSafe(who), e.Role)
		if e.Rejected != "" {
			fmt.Fprintf(tw, "\t\t\t\t!! %s (%s)\n", e.Notice, e.Rejected)
		}
		// The last cell of a line is not aligned, so long text leaves the columns alone.
		if e.Summary != "" {
			fmt.Fprintf(tw, "\t\t\t\t%s\n", TerminalSafe(e.Summary))
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
	fmt.Fprintf(bw, "  %s  %s  「%s」  lane %s, community %s, street %s, category %s, priority %s\n", s.Number, s.ID, TerminalSafe(s.Title), s.Lane, s.Community, s.Street, s.Category, s.Priority)
	fmt.Fprintf(bw, "  status %s, assignee %s, escalation %s", s.Status, assignee, s.Escalation)
	if len(s.Overdue) > 0 {
		fmt.Fprintf(bw, ", overdue (%v)", s.Overdue)
	}
	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "  requester %s %s\n", s.Requester.Name, s.Requester.Phone)
	fmt.Fprintf(bw, "  submitted %s, accept by %s, complete by %s, last change %s (Asia/Shanghai)\n", LocalTime(s.SubmittedAt), LocalTime(s.AcceptBy), LocalTime(s.CompleteBy), LocalTime(s.UpdatedAt))
	if s.Rating != nil {
		fmt.Fprintf(bw, "  rated %d stars, solved %v, by %s at %s\n", s.Rating.Stars, s.Rating.Solved, s.Rating.Member, LocalTime(s.Rating.At))
	}
	return bw.Flush()
}

// TerminalSafe shows text for a terminal: control characters and direction overrides
// (which history from before they were refused may hold) as visible escapes, never
// obeyed by the terminal.
func TerminalSafe(s string) string {
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
