package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagSet is a flag set whose -h prints what the command does, and whose
// errors the caller reports in one line (the flag package would print the
// whole usage after each).
type flagSet struct {
	*flag.FlagSet
	help func()
}

func newFlags(name, doc string, w io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{fs, func() {
		fmt.Fprintf(w, "usage: %s\n\n%s\n", name, doc)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}}
}

// parse parses args, letting flags come after positional arguments too
// ("inspect TOKEN -secret …"), and returns the positional ones. A bad flag
// is a usageError; -h prints the usage and returns flag.ErrHelp.
func parse(fs *flagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.help()
				return nil, err
			}
			return nil, usageError{fmt.Errorf("%w (see -h)", err)}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// list is a comma-separated flag value; "" is the empty list.
func list(s string) []string {
	if strings.TrimSpace(s) == "" {
		return []string{}
	}
	out := strings.Split(s, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

// setFlags reports which flags the command line set.
func setFlags(fs *flagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
