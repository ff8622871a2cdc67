// Command embedsso is the command line of embedsso, for the app's operators
// and for the customers' engineers:
//
//	embedsso secret                         print a new organization secret
//	embedsso token -org ID -email E …       mint a token as the reference's Node snippet does
//	embedsso inspect TOKEN [-secret …] …    show a token and the verdict the SSO handler would give
//	embedsso org create|get|update|rotate -db DSN …
//	embedsso apikey create|revoke -db DSN …
//
// -db takes the example server's DSNs: postgres://… for PostgreSQL, else a
// SQLite file. Commands that only read (inspect, org get) open it
// read-only and never create tables; org create and apikey create create a
// missing SQLite file (0600) and missing tables, and say so; the others
// change rows of existing tables. "embedsso COMMAND -h" says what each does. A bad flag exits
// with status 2 and one line; a failure with status 1 and one line.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// env is what a command may read of the environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one subcommand: what -h says of it, and its body.
type command struct {
	summary string
	run     func(e env, args []string) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"secret":  {"print a new 256-bit organization secret", runSecret},
		"token":   {"mint an embedding token as the reference's Node snippet does", runToken},
		"inspect": {"show a token's header and claims, and the verdict the SSO handler would give", runInspect},
		"org":     {"create, get, update or rotate an organization in a database (create|get|update|rotate)", runOrg},
		"apikey":  {"create or revoke an organization API key in a database (create|revoke)", runAPIKey},
	}
}

// exitStatus ends a command with that status and no message of its own: the
// command has already said why (inspect's refused verdict).
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// usageError is a bad command line: exit status 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// run runs the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name := args[0]
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "embedsso: unknown command %q (see embedsso -h)\n", name)
		return 2
	}
	err := c.run(e, args[1:])
	var status exitStatus
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &status):
		return int(status)
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "embedsso %s: %s\n", name, oneLine(err.Error()))
		return 2
	default:
		fmt.Fprintf(stderr, "embedsso %s: %s\n", name, oneLine(err.Error()))
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: embedsso COMMAND [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nembedsso COMMAND -h describes a command and its flags.")
}

// oneLine keeps an error to one line, whatever a library put in it.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
