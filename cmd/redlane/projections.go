package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/all"
)

// views are the read models every redlane serve keeps up to date.
var views = all.Views()

func viewNamed(name string) (func() projections.View, bool) {
	for _, nv := range views {
		if nv().Name() == name {
			return nv, true
		}
	}
	return nil, false
}

func viewNames() []string {
	var out []string
	for _, nv := range views {
		out = append(out, nv().Name())
	}
	return out
}

// projectionsCmd runs "redlane projections rebuild|verify [VIEW…]".
func projectionsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "rebuild" && args[0] != "verify") {
		fmt.Fprintf(stderr, "usage: redlane projections rebuild|verify [VIEW…] [--nats-url URL | --data DIR]\nviews: %s\n", strings.Join(viewNames(), ", "))
		return errUsage
	}
	verb := args[0]
	fs := flag.NewFlagSet("projections "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf natsFlags
	nf.register(fs)
	dataDir := fs.String("data", "./data", "the data directory of a stopped redlane serve (when no --nats-url)")
	// Flags may come before or after the view's name.
	rest := args[1:]
	var names []string
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(names) == 0 {
		names = viewNames()
	}
	var chosen []func() projections.View
	for _, n := range names {
		nv, ok := viewNamed(n)
		if !ok {
			return fmt.Errorf("no view %q; views: %s", n, strings.Join(viewNames(), ", "))
		}
		chosen = append(chosen, nv)
	}
	lc, err := openLog(ctx, nf, *dataDir, true, stderr)
	if err != nil {
		return err
	}
	defer lc.close()
	host, _ := os.Hostname()
	vs, err := jsstore.NewViews(ctx, lc.js, lc.store, jsstore.ViewsConfig{Owner: fmt.Sprintf("%s@%s:%d", verb, host, os.Getpid()), Replicas: nf.replicas})
	if err != nil {
		return err
	}
	if verb == "verify" {
		bad := 0
		for _, nv := range chosen {
			diffs, err := vs.Diff(ctx, nv)
			if err != nil {
				return fmt.Errorf("verify %s: %w", nv().Name(), err)
			}
			for _, d := range diffs {
				fmt.Fprintln(stdout, d)
			}
			if len(diffs) == 0 {
				fmt.Fprintf(stdout, "view %s equals a rebuild from the log\n", nv().Name())
			}
			bad += len(diffs)
		}
		if bad > 0 {
			return fmt.Errorf("%d documents differ from a rebuild", bad)
		}
		return nil
	}
	for _, nv := range chosen {
		name := nv().Name()
		bar := newProgress(stderr, "rebuild "+name)
		bucket, err := vs.Rebuild(ctx, nv, bar.update)
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
		fmt.Fprintf(stdout, "view %s rebuilt into %s and switched in\n", name, bucket)
	}
	return nil
}
