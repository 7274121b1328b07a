// Package record defines the public schema of wirefeed's data: the normalized
// Article that the normalize stage publishes and the sink archives, and the Raw
// envelope that the ingest stage publishes for each item it fetched.
//
// Records are JSON. The schema is versioned: SchemaVersion is written in every
// Article, and a JSON Schema for it ships with this package (see Schema). New
// optional fields may be added within a version; a field is never renamed or
// given another meaning without a new version.
//
// The package imports only the standard library so that any program can use it
// to read wirefeed's topics or archive.
package record

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// SchemaVersion is the version of the Article schema this package writes.
const SchemaVersion = 1

// Article is one normalized news item.
type Article struct {
	SchemaVersion int    `json:"schema_version"`
	ID            string `json:"id"`
	Source        string `json:"source"`
	SourceID      string `json:"source_id,omitempty"`
	URL           string `json:"url,omitempty"`
	Format        string `json:"format"`
	// Version is the item's version number when its format carries one;
	// every version of a story is kept, under the same ID.
	Version int `json:"version,omitempty"`
	// PubStatus is "usable", "withheld" or "canceled" when the format says.
	PubStatus string `json:"pub_status,omitempty"`
	// Signals are life-cycle signals: "update", "correction", "kill".
	Signals []string `json:"signals,omitempty"`
	Title   string   `json:"title"`
	// PublishedAt is the publication time, written in RFC 3339 with the
	// offset it was published in (or the source's zone when the feed gave
	// none; Fixes then holds "tz:assumed").
	PublishedAt time.Time `json:"published_at,omitzero"`
	// UpdatedAt is the time of this version, when the format gives one.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	Dateline  *Dateline `json:"dateline,omitempty"`
	Language  string    `json:"language,omitempty"`
	Byline    string    `json:"byline,omitempty"`
	// Subjects are subject codes or category names given by the source.
	Subjects []string `json:"subjects,omitempty"`
	// Body holds the article's paragraphs, in order, as plain text.
	Body []string `json:"body"`
	// Captions holds photo and video captions found in or beside the body.
	Captions []string `json:"captions,omitempty"`
	// Fixes names each repair applied while normalizing, as short codes such
	// as "mojibake:cp1252" or "tz:assumed", in a stable order.
	Fixes        []string  `json:"fixes,omitempty"`
	ContentHash  string    `json:"content_hash"`
	IngestedAt   time.Time `json:"ingested_at,omitzero"`
	NormalizedAt time.Time `json:"normalized_at"`
	// Raw points at the raw item on the raw topic; it is nil for records
	// normalized offline from files.
	Raw *RawRef `json:"raw,omitempty"`
}

// Dateline is the place, date and agency that open a wire story, as in
// "BEIJING, May 1 (Xinhua) --".
type Dateline struct {
	Place  string `json:"place,omitempty"`
	Date   string `json:"date,omitempty"`
	Agency string `json:"agency,omitempty"`
}

// RawRef points at the raw item an Article was normalized from, so that it
// can be found and replayed.
type RawRef struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
}

// NewID returns the stable identifier of an item: derived from the source and
// the source's own item identifier, or from the URL when the source gives no
// identifier. The same item always gets the same ID, whichever replica or run
// normalizes it.
func NewID(source, sourceID, url string) string {
	key := "id\x00" + source + "\x00" + sourceID
	if sourceID == "" {
		key = "url\x00" + url
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// Hash returns the content hash of an article's text: its title, body and
// captions. Two versions of a story with the same text have the same hash.
func Hash(title string, body, captions []string) string {
	h := sha256.New()
	h.Write([]byte(title))
	for _, p := range body {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	h.Write([]byte{1})
	for _, c := range captions {
		h.Write([]byte{0})
		h.Write([]byte(c))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Validate reports the first way a is not a well-formed Article. The normalize
// stage validates every article before publishing it.
func (a *Article) Validate() error {
	switch {
	case a.SchemaVersion != SchemaVersion:
		return fmt.Errorf("schema_version %d, want %d", a.SchemaVersion, SchemaVersion)
	case a.ID == "":
		return fmt.Errorf("id is empty")
	case a.Source == "":
		return fmt.Errorf("source is empty")
	case a.Format == "":
		return fmt.Errorf("format is empty")
	case strings.TrimSpace(a.Title) == "" && len(a.Body) == 0:
		return fmt.Errorf("neither title nor body")
	case a.ContentHash == "":
		return fmt.Errorf("content_hash is empty")
	case a.NormalizedAt.IsZero():
		return fmt.Errorf("normalized_at is zero")
	}
	return nil
}

// Marshal returns a's JSON encoding, with Body never null.
func (a *Article) Marshal() ([]byte, error) {
	if a.Body == nil {
		a.Body = []string{}
	}
	return json.Marshal(a)
}

// Unmarshal decodes an Article and checks its schema version.
func Unmarshal(b []byte) (*Article, error) {
	var a Article
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("decode article: %w", err)
	}
	if a.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("decode article: schema_version %d, want %d", a.SchemaVersion, SchemaVersion)
	}
	return &a, nil
}
