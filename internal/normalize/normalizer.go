package normalize

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wirefeed/wirefeed/internal/newstext"
	"github.com/wirefeed/wirefeed/internal/profile"
	"github.com/wirefeed/wirefeed/internal/textdump"
	"github.com/wirefeed/wirefeed/pkg/record"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// Error is a raw item that cannot be normalized. Reason is a short, stable
// code (a metric label and the dead letter's reason header).
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Reason returns the reason code of a normalize error, "internal" for any
// other error.
func Reason(err error) string {
	var ne *Error
	if errors.As(err, &ne) {
		return ne.Reason
	}
	return "internal"
}

// Normalizer turns raw items into articles. It holds no state between items
// and is safe for concurrent use.
type Normalizer struct {
	// DefaultZone is the time zone of times without an offset, for sources
	// without a profile.
	DefaultZone *time.Location
	// Now returns the normalization time.
	Now func() time.Time
}

// Normalize parses one raw item into its articles. ref says where the raw
// item is on the raw topic (nil offline).
func (n *Normalizer) Normalize(raw *record.Raw, ref *record.RawRef) ([]*record.Article, error) {
	text, fixes, err := textfix.Decode(raw.Body, raw.Charset)
	if err != nil {
		return nil, &Error{"undecodable", err}
	}
	format := raw.Format
	if format == "" {
		format = Sniff(text)
	}
	switch format {
	case "textdump":
		a, err := n.textDump(raw, text, fixes)
		if err != nil {
			return nil, err
		}
		a.Raw = ref
		if err := a.Validate(); err != nil {
			return nil, &Error{"invalid_record", err}
		}
		return []*record.Article{a}, nil
	case "":
		return nil, &Error{"unknown_format", fmt.Errorf("no format hint and the content matches no known format")}
	}
	return nil, &Error{"unsupported_format", fmt.Errorf("format %q is not supported", format)}
}

// Sniff names the format text looks like, or "" when none.
func Sniff(text string) string {
	if textdump.Sniff(text) {
		return "textdump"
	}
	return ""
}

// fixSet gathers repair codes.
type fixSet map[string]bool

func (f fixSet) add(codes ...string) {
	for _, c := range codes {
		f[c] = true
	}
}

func (f fixSet) list() []string {
	if len(f) == 0 {
		return nil
	}
	out := make([]string, 0, len(f))
	for c := range f {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

func (n *Normalizer) textDump(raw *record.Raw, text string, decodeFixes []string) (*record.Article, error) {
	fixes := fixSet{}
	fixes.add(decodeFixes...)
	if strings.Contains(text, "\r") {
		fixes.add("crlf")
	}
	// Repair before parsing: trimming a line would cut mojibake that ends
	// in a no-break space ("â–\u00a0" is a damaged "■").
	text, codes := textfix.FixWith(text, textfix.DefaultOptions())
	fixes.add(codes...)
	doc, err := textdump.Parse(text)
	if err != nil {
		return nil, &Error{textdump.Reason(err), err}
	}
	paras := doc.Body
	paras, ended := newstext.StripEndMark(paras)
	if ended {
		fixes.add("end-mark")
	}
	var body, captions []string
	for _, p := range paras {
		if newstext.IsCaption(p) {
			captions = append(captions, p)
		} else {
			body = append(body, p)
		}
	}
	var dateline *record.Dateline
	if len(body) > 0 {
		if d, rest, ok := newstext.SplitDateline(body[0]); ok {
			dateline = &record.Dateline{Place: d.Place, Date: d.Date, Agency: d.Agency}
			body[0] = rest
		}
	}

	prof, known := profile.Lookup(doc.URL, doc.ID)
	if !known {
		prof, known = profile.BySlug(raw.Source)
	}
	source := raw.Source
	zone := n.DefaultZone
	if known {
		source = prof.Slug
		if prof.Location != nil {
			zone = prof.Location
		}
	}
	a := &record.Article{
		SchemaVersion: record.SchemaVersion,
		ID:            record.NewID(source, doc.ID, doc.URL),
		Source:        source,
		SourceID:      doc.ID,
		URL:           doc.URL,
		Format:        "textdump",
		Title:         doc.Title,
		Dateline:      dateline,
		Language:      prof.Language,
		Body:          body,
		Captions:      captions,
		IngestedAt:    raw.FetchedAt,
		NormalizedAt:  n.Now().UTC(),
	}
	if doc.Date != "" {
		t, assumed, err := newstext.ParseTime(doc.Date, zone)
		if err != nil {
			return nil, &Error{"bad_date", err}
		}
		a.PublishedAt = t
		if assumed {
			fixes.add("tz:assumed")
		}
	}
	if a.Body == nil {
		a.Body = []string{}
	}
	a.ContentHash = record.Hash(a.Title, a.Body, a.Captions)
	a.Fixes = fixes.list()
	return a, nil
}
