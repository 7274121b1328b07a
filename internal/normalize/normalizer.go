package normalize

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wirefeed/wirefeed/internal/newstext"
	"github.com/wirefeed/wirefeed/internal/profile"
	"github.com/wirefeed/wirefeed/internal/story"
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

// Reason returns the reason code of a normalize or skip error, "internal"
// for any other error.
func Reason(err error) string {
	var ne *Error
	if errors.As(err, &ne) {
		return ne.Reason
	}
	var se *story.SkipError
	if errors.As(err, &se) {
		return se.Reason
	}
	return "internal"
}

// Skipped reports whether err says the item holds no text story (a photo,
// a package, ...): counted, not dead-lettered.
func Skipped(err error) bool { return errors.Is(err, story.ErrSkipped) }

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
// item is on the raw topic (nil offline). An item that holds no text story
// returns an error for which Skipped is true.
func (n *Normalizer) Normalize(raw *record.Raw, ref *record.RawRef) ([]*record.Article, error) {
	format := raw.Format
	if format == "" || format == "auto" {
		format = Sniff(raw.Body)
	}
	if format == "" {
		return nil, &Error{"unknown_format", fmt.Errorf("no format hint and the content matches no known format")}
	}
	parse, ok := formats[format]
	if !ok {
		return nil, &Error{"unsupported_format", fmt.Errorf("format %q is not one of %s", format, strings.Join(Formats(), ", "))}
	}
	stories, err := parse(raw)
	if err != nil {
		var pe *story.ParseError
		switch {
		case Skipped(err):
			return nil, err
		case errors.As(err, &pe):
			return nil, &Error{pe.Reason, pe.Err}
		case errors.As(err, new(*Error)):
			return nil, err
		}
		return nil, &Error{format + "_invalid", err}
	}
	arts := make([]*record.Article, 0, len(stories))
	for i := range stories {
		a, err := n.article(raw, &stories[i])
		if err != nil {
			return nil, err
		}
		a.Raw = ref
		if err := a.Validate(); err != nil {
			return nil, &Error{"invalid_record", err}
		}
		arts = append(arts, a)
	}
	if len(arts) == 0 {
		return nil, &story.SkipError{Reason: "no_stories", Detail: "the item holds no story"}
	}
	return arts, nil
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

// article builds the record of one story: repairs its text, splits end
// mark, captions and dateline out of the body, applies the source profile
// and parses its times.
func (n *Normalizer) article(raw *record.Raw, st *story.Story) (*record.Article, error) {
	fixes := fixSet{}
	fixes.add(st.Fixes...)
	fix := func(s string) string {
		out, codes := textfix.FixWith(s, textfix.DefaultOptions())
		fixes.add(codes...)
		return strings.TrimSpace(out)
	}
	fixAll := func(in []string) []string {
		var out []string
		for _, s := range in {
			if s = fix(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}

	paras, ended := newstext.StripEndMark(fixAll(st.Body))
	if ended {
		fixes.add("end-mark")
	}
	body := []string{}
	captions := fixAll(st.Captions)
	for _, p := range paras {
		if newstext.IsCaption(p) {
			captions = append(captions, p)
		} else {
			body = append(body, p)
		}
	}
	var dateline *record.Dateline
	if st.Dateline != nil {
		dateline = &record.Dateline{Place: fix(st.Dateline.Place), Date: fix(st.Dateline.Date), Agency: fix(st.Dateline.Agency)}
	}
	if len(body) > 0 {
		if d, rest, ok := newstext.SplitDateline(body[0]); ok {
			if dateline == nil {
				dateline = &record.Dateline{Place: d.Place, Date: d.Date, Agency: d.Agency}
			}
			body[0] = rest
		}
	}
	if dateline != nil && *dateline == (record.Dateline{}) {
		dateline = nil
	}

	prof, known := profile.Lookup(st.URL, st.SourceID)
	if !known && st.Provider != "" {
		prof, known = profile.BySlug(strings.ToLower(st.Provider))
	}
	if !known {
		prof, known = profile.BySlug(raw.Source)
	}
	source, zone := raw.Source, n.DefaultZone
	if known {
		source = prof.Slug
		if prof.Location != nil {
			zone = prof.Location
		}
	}
	// A zone configured for the source beats a profile's guess.
	if raw.Timezone != "" {
		if loc, err := time.LoadLocation(raw.Timezone); err == nil {
			zone = loc
		}
	}
	language := st.Language
	if language == "" {
		language = prof.Language
	}
	a := &record.Article{
		SchemaVersion: record.SchemaVersion,
		ID:            record.NewID(source, st.SourceID, st.URL),
		Source:        source,
		SourceID:      st.SourceID,
		URL:           st.URL,
		Format:        st.Format,
		Version:       max(st.Version, 0),
		PubStatus:     st.PubStatus,
		Signals:       st.Signals,
		Title:         fix(st.Title),
		Dateline:      dateline,
		Language:      language,
		Byline:        fix(st.Byline),
		Subjects:      fixAll(st.Subjects),
		Body:          body,
		Captions:      captions,
		IngestedAt:    raw.FetchedAt,
		NormalizedAt:  n.Now().UTC(),
	}
	var err error
	if a.PublishedAt, err = n.time(st.Date, zone, fixes); err != nil {
		return nil, err
	}
	if a.UpdatedAt, err = n.time(st.Updated, zone, fixes); err != nil {
		return nil, err
	}
	if a.Title == "" && len(a.Body) == 0 {
		return nil, &story.SkipError{Reason: "empty_item", Detail: "no title and no text"}
	}
	a.ContentHash = record.Hash(a.Title, a.Body, a.Captions)
	a.Fixes = fixes.list()
	return a, nil
}

func (n *Normalizer) time(s string, zone *time.Location, fixes fixSet) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, assumed, err := newstext.ParseTime(s, zone)
	if err != nil {
		// The story is still worth having: keep it without the time and
		// say so, rather than dead-letter it.
		fixes.add("date:unparsed")
		return time.Time{}, nil
	}
	if assumed {
		fixes.add("tz:assumed")
	}
	return t, nil
}
