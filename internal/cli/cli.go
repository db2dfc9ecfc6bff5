// Package cli holds the small pieces redlane's commands share: flag values that check
// themselves (a choice of words, a moment, a repeatable string), flags interleaved with
// arguments, and the output of a command (indented JSON, a file named by -o).
package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/redlane/redlane/query"
)

// Choice registers a flag whose value is one of the words of; the first is the default.
func Choice(fs *flag.FlagSet, name string, of ...string) *string {
	c := &choice{value: of[0], of: of}
	fs.Var(c, name, strings.Join(of, ", ")+" (default "+of[0]+")")
	return &c.value
}

type choice struct {
	value string
	of    []string
}

func (c *choice) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

func (c *choice) Set(s string) error {
	if !slices.Contains(c.of, s) {
		return fmt.Errorf("want %s", strings.Join(c.of, " or "))
	}
	c.value = s
	return nil
}

// Moment registers a time flag: RFC 3339, or "2026-11-27 14:00" in Asia/Shanghai. Its
// value is nil until the flag is given.
func Moment(fs *flag.FlagSet, name, usage string) **time.Time {
	m := &moment{}
	fs.Var(m, name, usage+` (RFC 3339, or "2026-11-27 14:00" in Asia/Shanghai)`)
	return &m.t
}

type moment struct{ t *time.Time }

func (m *moment) String() string {
	if m == nil || m.t == nil {
		return ""
	}
	return m.t.Format(time.RFC3339)
}

func (m *moment) Set(s string) error {
	t, err := query.ParseTime(s)
	if err != nil {
		return err
	}
	m.t = &t
	return nil
}

// Strings is a repeatable string flag.
type Strings []string

func (m *Strings) String() string     { return strings.Join(*m, ",") }
func (m *Strings) Set(s string) error { *m = append(*m, s); return nil }

// ParseInterleaved parses flags that may come before or after positional arguments,
// which it returns.
func ParseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
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

// WriteJSON writes v as indented JSON, Chinese as it is.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Output is the file named by -o, or else stdout; done closes it.
func Output(path string, stdout io.Writer) (w io.Writer, done func() error, err error) {
	if path == "" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}
