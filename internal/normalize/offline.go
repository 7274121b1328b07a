package normalize

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wirefeed/wirefeed/internal/textdump"
	"github.com/wirefeed/wirefeed/pkg/record"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// ParseOptions configure ParseFiles.
type ParseOptions struct {
	Source  string // envelope source of the files; profiles refine it
	Format  string // format hint, "auto" or "" to sniff
	Charset string // declared charset, "" when unknown
}

// ParseFiles normalizes each file (or standard input for "-", or when paths
// is empty) and writes one JSON record per line to out. A file that cannot be
// normalized is reported on errOut with its reason, and the others go on;
// the returned count says how many failed.
func (n *Normalizer) ParseFiles(paths []string, opts ParseOptions, stdin io.Reader, out, errOut io.Writer) (failed int) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	format := opts.Format
	if format == "auto" {
		format = ""
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for _, p := range paths {
		body, err := readInput(p, stdin)
		if err != nil {
			fmt.Fprintf(errOut, "%s: %v\n", p, err)
			failed++
			continue
		}
		raw := &record.Raw{Source: opts.Source, Format: format, Origin: "file:" + p, FetchedAt: time.Now().UTC(), Charset: opts.Charset, Body: body}
		arts, err := n.Normalize(raw, nil)
		if Skipped(err) {
			fmt.Fprintf(errOut, "%s: skipped (%s): no text story\n", p, Reason(err))
			continue
		}
		if err != nil {
			fmt.Fprintf(errOut, "%s: cannot normalize (%s): %v\n", p, Reason(err), err)
			failed++
			continue
		}
		for _, a := range arts {
			if err := enc.Encode(a); err != nil {
				fmt.Fprintf(errOut, "%s: write: %v\n", p, err)
				return failed + 1
			}
		}
	}
	return failed
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, textdump.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > textdump.MaxSize {
		return nil, fmt.Errorf("larger than %d bytes", textdump.MaxSize)
	}
	return b, nil
}

// FixText reads lines from in and writes each repaired line to out, one for
// one and in order. Line ends (LF or CR LF) are written as LF; a last line
// without one is written without one.
func FixText(in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriterSize(out, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if len(line) > 0 {
			text, nl := strings.CutSuffix(line, "\n")
			text = strings.TrimSuffix(text, "\r")
			// A lone CR inside a line becomes a line break when repaired;
			// keep the output one line for one.
			w.WriteString(strings.ReplaceAll(textfix.Fix(text), "\n", " "))
			if nl {
				w.WriteByte('\n')
			}
		}
		if err == io.EOF {
			return w.Flush()
		}
		if err != nil {
			return err
		}
	}
}
