package cli

import (
	"flag"
	"io"
	"testing"
	"time"
)

func TestFlagsCheckThemselves(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := Choice(fs, "format", "text", "json")
	at := Moment(fs, "at", "a moment")
	var views Strings
	fs.Var(&views, "view", "repeatable")
	pos, err := ParseInterleaved(fs, []string{"one", "--format", "json", "two", "--at", "2026-11-27 14:00", "--view", "a", "--view", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pos) != 2 || pos[0] != "one" || pos[1] != "two" {
		t.Errorf("positional arguments %q", pos)
	}
	if *format != "json" {
		t.Errorf("format %q", *format)
	}
	if want := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC); *at == nil || !(*at).Equal(want) {
		t.Errorf("at %v, want %v", *at, want)
	}
	if len(views) != 2 || views[1] != "b" {
		t.Errorf("views %q", views)
	}
	for _, bad := range [][]string{{"--format", "xml"}, {"--at", "yesterday"}} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		Choice(fs, "format", "text", "json")
		Moment(fs, "at", "a moment")
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
}
