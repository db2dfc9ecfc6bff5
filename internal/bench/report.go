package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Report is what a run measured.
type Report struct {
	Date       time.Time `json:"date"`
	Quick      bool      `json:"quick"`
	CPUs       int       `json:"cpus"`
	Go         string    `json:"go"`
	NATSServer string    `json:"nats_server"`
	// LoadStart and LoadEnd are the machine's load averages (1, 5, 15 minutes) when the
	// run began and ended: other work on the machine shows in every figure.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
	// Events is how many events the rebuild read; BodyBytes the mean JSON body of an
	// event of an order's life, as the command and publish measurements write them.
	Events    uint64 `json:"events"`
	BodyBytes int    `json:"body_bytes"`
	Rounds    int    `json:"rounds"`
	// Seconds is how long each load measurement ran, after its warm-up.
	Seconds float64 `json:"seconds"`
	Rows    []Row   `json:"rows"`
	Elapsed float64 `json:"elapsed_seconds"`
}

// Row is one line of the table: a Redlane figure beside its raw JetStream baseline.
type Row struct {
	Key     string  `json:"key"`
	Name    string  `json:"name"`
	Sync    string  `json:"sync,omitempty"` // the server's durability: always (fsync before ack) or interval
	Unit    string  `json:"unit"`
	Redlane float64 `json:"redlane"`
	Raw     float64 `json:"raw,omitempty"`
	// RawLabel names what the baseline column holds when it is not raw JetStream.
	RawLabel string `json:"raw_label,omitempty"`
	// Ratio is Redlane ÷ baseline, or for rows whose target is on the value, the value.
	Ratio float64 `json:"redlane_raw_ratio,omitempty"`
	// Latencies of one command (Redlane) and one publish (raw), in milliseconds.
	P50    float64 `json:"p50_ms,omitempty"`
	P99    float64 `json:"p99_ms,omitempty"`
	RawP50 float64 `json:"raw_p50_ms,omitempty"`
	RawP99 float64 `json:"raw_p99_ms,omitempty"`
	// CPU is the process's CPU time (server and clients) per operation, in µs; CPURatio
	// the baseline's ÷ Redlane's. On a shared machine it is steadier than throughput.
	CPU      float64 `json:"cpu_us,omitempty"`
	RawCPU   float64 `json:"raw_cpu_us,omitempty"`
	CPURatio float64 `json:"cpu_cost_ratio,omitempty"`
	// Target is the goal as text ("≥ 0.50"); Met whether the figure reached it.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
	Note   string `json:"note,omitempty"`
}

// goal sets the row's target on its ratio: at least (op ">=") or at most ("<=") want.
func (r *Row) goal(op string, want float64) { r.goalOn(r.Ratio, op, want, "") }

// goalOn sets the row's target on v, shown with unit.
func (r *Row) goalOn(v float64, op string, want float64, unit string) {
	met := v >= want
	sym := "≥"
	if op == "<=" {
		met, sym = v <= want, "≤"
	}
	r.Target = strings.TrimSpace(fmt.Sprintf("%s %s %s", sym, trim(want), unit))
	r.Met = &met
}

// latencies fills in the row's latencies and CPU costs from Redlane's and the
// baseline's summaries.
func (r *Row) latencies(s, base summary) {
	r.P50, r.P99, r.RawP50, r.RawP99 = s.p50, s.p99, base.p50, base.p99
	r.CPU, r.RawCPU = s.cpu, base.cpu
	if s.cpu > 0 {
		r.CPURatio = div(base.cpu, s.cpu)
	}
}

// ratioRow makes a row comparing a Redlane figure with a baseline.
func ratioRow(key, name, sync, unit string, redlane, raw float64) Row {
	r := Row{Key: key, Name: name, Sync: sync, Unit: unit, Redlane: redlane, Raw: raw}
	r.Ratio = div(redlane, raw)
	return r
}

// WriteJSON writes the report as one JSON object. Besides rows, every row's ratio is a
// field of its own named <key>_ratio, and whether it met its target <key>_met.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if row.Ratio != 0 {
			obj[row.Key+"_ratio"] = round(row.Ratio, 3)
		}
		if row.Met != nil {
			obj[row.Key+"_met"] = *row.Met
		}
		if row.CPURatio != 0 {
			obj[row.Key+"_cpu_cost_ratio"] = round(row.CPURatio, 3)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(obj)
}

// WriteTable writes the report as a Markdown table.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Redlane bench, %s; quick=%v; %d CPUs; %s; nats-server %s embedded\n",
		r.Date.UTC().Format("2006-01-02 15:04 MST"), r.Quick, r.CPUs, r.Go, r.NATSServer)
	fmt.Fprintf(&b, "load average at start %s, at end %s; event body %d bytes; %d round(s) of %.1f s per load figure (medians); run took %.0f s\n",
		r.LoadStart, r.LoadEnd, r.BodyBytes, r.Rounds, r.Seconds, r.Elapsed)
	b.WriteString("ratio: Redlane ÷ raw throughput, the median over the rounds of each round's figure ÷ the baseline measured right before it (the throughput columns are each side's median). CPU ratio: raw ÷ Redlane CPU time per operation (the whole process: server and clients), the ratio a CPU-bound machine gives, steadier than throughput when the machine is shared.\n\n")
	b.WriteString("| measurement | sync | redlane | raw baseline | ratio | target | met | CPU ratio |\n")
	b.WriteString("|---|---|---:|---:|---:|---|---|---:|\n")
	for _, row := range r.Rows {
		met := ""
		if row.Met != nil {
			met = "no"
			if *row.Met {
				met = "yes"
			}
		}
		ratio := ""
		if row.Ratio != 0 {
			ratio = fmt.Sprintf("%.2f", row.Ratio)
		}
		target := row.Target
		if target == "" {
			target = "—"
		}
		sync := row.Sync
		if sync == "" {
			sync = "—"
		}
		cpu := ""
		if row.CPURatio != 0 {
			cpu = fmt.Sprintf("%.2f", row.CPURatio)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", row.Name, sync,
			cell(row.Redlane, row.Unit, row.P50, row.P99, row.CPU), rawCell(row), ratio, target, met, cpu)
	}
	notes := false
	for _, row := range r.Rows {
		if row.Note == "" {
			continue
		}
		if !notes {
			b.WriteString("\n")
			notes = true
		}
		fmt.Fprintf(&b, "- %s: %s\n", row.Name, row.Note)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func rawCell(row Row) string {
	if row.Raw == 0 {
		return "—"
	}
	c := cell(row.Raw, row.Unit, row.RawP50, row.RawP99, row.RawCPU)
	if row.RawLabel != "" {
		c = row.RawLabel + " " + c
	}
	return c
}

func cell(v float64, unit string, p50, p99, cpu float64) string {
	s := number(v)
	if unit != "" {
		s += " " + unit
	}
	if p50 > 0 {
		s += fmt.Sprintf(" (p50 %s, p99 %s ms", trim(round(p50, 2)), trim(round(p99, 2)))
		if cpu > 0 {
			s += fmt.Sprintf("; CPU %s µs", number(cpu))
		}
		s += ")"
	}
	return s
}

// number formats a figure with three significant digits and thin thousands spacing.
func number(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 1000:
		s := fmt.Sprintf("%.0f", v)
		var out []byte
		for i, c := range []byte(s) {
			if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
				out = append(out, ' ')
			}
			out = append(out, c)
		}
		return string(out)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}

func trim(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
