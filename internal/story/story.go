// Package story is the form every wire-format parser produces and the
// normalize stage turns into a record: what the format said, as plain text,
// before source profiles, dateline and caption extraction and IDs are
// applied.
package story

import (
	"errors"
	"fmt"
)

// Story is one news item as a format parser read it.
type Story struct {
	// Format names the wire format: "textdump", "rss", "atom",
	// "newsml-g2", "ninjs", "iptc7901".
	Format string
	// SourceID is the item's identifier in its source (guid, uri, ID).
	SourceID string
	// Version is the item's version number when the format carries one
	// (0 when it does not).
	Version int
	URL     string
	Title   string
	// Date is the publication (or first-creation) time as written; the
	// normalizer parses it with the source's zone when it has no offset.
	Date string
	// Updated is the version's time as written, if the format has one.
	Updated string
	Byline  string
	// Language is a BCP 47 tag when the format declares one.
	Language string
	// Provider is the agency or provider the format names, if any.
	Provider string
	// Body holds the paragraphs as plain text, markup removed. Captions and
	// datelines may still be in it; the normalizer splits them out.
	Body []string
	// Captions the format gives apart from the body (media captions).
	Captions []string
	// Dateline the format gives explicitly, if any.
	Dateline *Dateline
	// Subjects are subject codes or category names.
	Subjects []string
	// PubStatus is "usable", "withheld" or "canceled" ("" when not said).
	PubStatus string
	// Signals are life-cycle signals: "update", "correction", "kill".
	Signals []string
	// Fixes are repairs the parser made (e.g. "control-chars").
	Fixes []string
}

// Dateline is a dateline given by the format.
type Dateline struct {
	Place, Date, Agency string
}

// ErrSkipped is wrapped by SkipError: the input is well-formed but holds no
// text story (a photo, a package, a concept item, ...). It is counted, not
// dead-lettered as an error.
var ErrSkipped = errors.New("skipped")

// SkipError says why an input holds no text story. Reason is a short code
// usable as a metric label, e.g. "newsml_photo", "ninjs_picture".
type SkipError struct {
	Reason string
	Detail string
}

func (e *SkipError) Error() string { return fmt.Sprintf("skipped (%s): %s", e.Reason, e.Detail) }

// Is makes errors.Is(err, ErrSkipped) hold.
func (e *SkipError) Is(target error) bool { return target == ErrSkipped }

// ParseError is a malformed input. Reason is a short code usable as a metric
// label and as the dead letter's reason, e.g. "rss_bad_xml".
type ParseError struct {
	Reason string
	Err    error
}

func (e *ParseError) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// Limits every parser enforces, so that no input can make one use unbounded
// memory.
const (
	MaxInputBytes = 16 << 20 // larger inputs are refused
	MaxDepth      = 256      // XML/JSON nesting
	MaxItems      = 10000    // stories in one input
)
