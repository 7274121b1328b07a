// Package flagenv parses command-line flags that may also be set through
// environment variables, and prints a --help that names both.
//
// A flag named "kafka.brokers" may be set by WIREFEED_KAFKA_BROKERS (prefix
// WIREFEED, the name upper-cased, dots and dashes turned into underscores).
// Precedence: flag, then environment, then the default.
package flagenv

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Prefix is the prefix of every environment variable wirefeed reads.
const Prefix = "WIREFEED"

// EnvName returns the environment variable that sets the flag name.
func EnvName(name string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return Prefix + "_" + strings.ToUpper(r.Replace(name))
}

// Parse parses args into fs, then sets every flag not given on the command
// line from its environment variable, if that is set. lookup is usually
// os.LookupEnv. An invalid environment value is an error naming the variable.
func Parse(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		env := EnvName(f.Name)
		v, ok := lookup(env)
		if !ok {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("environment variable %s=%q: %w", env, v, e)
		}
	})
	return err
}

// Usage returns a flag.FlagSet Usage function that prints the synopsis, then
// every flag with its default and environment variable, sorted by name.
func Usage(fs *flag.FlagSet, synopsis string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, strings.TrimRight(synopsis, "\n"))
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags (each may also be set by the environment variable shown):")
		PrintFlags(w, fs)
	}
}

// PrintFlags writes each flag of fs with its usage, default and environment
// variable.
func PrintFlags(w io.Writer, fs *flag.FlagSet) {
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	for _, f := range flags {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n      %s\n", strings.ReplaceAll(usage, "\n", "\n      "))
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "      default %s, env %s\n", def, EnvName(f.Name))
	}
}

// Strings is a flag.Value holding a comma-separated list.
type Strings []string

func (s *Strings) String() string { return strings.Join(*s, ",") }

// Set replaces the list with the comma-separated items of v, blanks dropped.
func (s *Strings) Set(v string) error {
	*s = nil // a new array: a copy of the old list keeps its items
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*s = append(*s, item)
		}
	}
	return nil
}

// Check is one bounds check of a configuration; Validate takes a table of them.
type Check struct {
	OK  bool
	Msg string
}

// Validate returns an error listing every failed check, or nil.
func Validate(checks ...Check) error {
	var msgs []string
	for _, c := range checks {
		if !c.OK {
			msgs = append(msgs, c.Msg)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration: %s", strings.Join(msgs, "; "))
}

// Positive is a common check: d > 0.
func Positive(name string, d time.Duration) Check {
	return Check{d > 0, fmt.Sprintf("--%s must be positive, got %s", name, d)}
}
