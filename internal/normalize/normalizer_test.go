package normalize

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wirefeed/wirefeed/internal/recordtest"
	"github.com/wirefeed/wirefeed/pkg/record"
)

var fixedNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func testNormalizer() *Normalizer {
	return &Normalizer{DefaultZone: time.UTC, Now: func() time.Time { return fixedNow }}
}

func normalizeOne(t *testing.T, source, format string, body []byte) *record.Article {
	t.Helper()
	raw := &record.Raw{Source: source, Format: format, Origin: "test", FetchedAt: fixedNow, Body: body}
	arts, err := testNormalizer().Normalize(raw, &record.RawRef{Topic: "raw", Partition: 1, Offset: 42})
	if err != nil {
		t.Fatalf("Normalize: %v\ninput:\n%s", err, body)
	}
	if len(arts) != 1 {
		t.Fatalf("got %d articles, want 1", len(arts))
	}
	recordtest.ValidateArticle(t, arts[0])
	return arts[0]
}

// TestSeed is the acceptance test of the original example item, read from
// the shared seeds folder beside the repository.
func TestSeed(t *testing.T) {
	dir := recordtest.SharedDir(t, "seeds")
	body, err := os.ReadFile(filepath.Join(dir, "xinhua-peru-2020-05-01.txt"))
	if err != nil {
		t.Fatal(err)
	}
	a := normalizeOne(t, "spool", "textdump", body)
	checks := []struct{ field, got, want string }{
		{"title", a.Title, "China pledges continuous support for Peru in COVID-19 fight: Xi"},
		{"source", a.Source, "xinhua"},
		{"source_id", a.SourceID, "XINH2020050100060"},
		{"url", a.URL, "http://www.xinhuanet.com/english/2020-05/01/c_139023018.htm"},
		{"published_at", a.PublishedAt.Format(time.RFC3339), "2020-05-01T10:15:28+08:00"},
		{"dateline.place", a.Dateline.Place, "BEIJING"},
		{"dateline.agency", a.Dateline.Agency, "Xinhua"},
		{"language", a.Language, "en"},
		{"id", a.ID, record.NewID("xinhua", "XINH2020050100060", "")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if len(a.Captions) != 3 {
		t.Errorf("captions = %d, want 3: %q", len(a.Captions), a.Captions)
	}
	for _, c := range a.Captions {
		for _, p := range a.Body {
			if p == c {
				t.Errorf("caption also in body: %q", c)
			}
		}
	}
	if len(a.Body) != 11 {
		t.Errorf("body has %d paragraphs, want 11", len(a.Body))
	}
	if !strings.HasPrefix(a.Body[0], "China firmly supports") {
		t.Errorf("body[0] = %q, want the dateline split off", a.Body[0])
	}
	last := a.Body[len(a.Body)-1]
	if strings.ContainsAny(last, "■â") || !strings.HasSuffix(last, "playing a leading role.") {
		t.Errorf("last paragraph = %q, want no end mark and no mojibake", last)
	}
	all := a.Title + strings.Join(a.Body, "\n") + strings.Join(a.Captions, "\n")
	for _, bad := range []string{"â", "€", "\u00a0", "■", "  "} {
		if strings.Contains(all, bad) {
			t.Errorf("text still holds %q", bad)
		}
	}
	for _, f := range []string{"mojibake:cp1252", "end-mark", "tz:assumed"} {
		if !slices.Contains(a.Fixes, f) {
			t.Errorf("fixes = %q, want %q among them", a.Fixes, f)
		}
	}
	if a.Raw == nil || a.Raw.Offset != 42 || a.Raw.Partition != 1 {
		t.Errorf("raw = %+v, want the reference given", a.Raw)
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name, format, input, reason string
	}{
		{"prose, no header", "textdump", "Just some prose without any header.\nAnd another line.\n", "not_textdump"},
		{"no body", "textdump", "URL : http://a.example/1\nID : A1\nTitle : T\n", "no_body"},
		{"no title", "textdump", "URL : http://a.example/1\nID : A1\nArticle :\nBody.\n", "missing_title"},
		{"no id nor url", "textdump", "Title : T\nArticle :\nBody.\n", "missing_id_and_url"},
		{"unknown format", "", "\x00\x01binary", "unknown_format"},
		{"unsupported format", "cobol", "ID : A1\nTitle : T\nArticle :\nBody.\n", "unsupported_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := &record.Raw{Source: "test", Format: tt.format, Body: []byte(tt.input)}
			arts, err := testNormalizer().Normalize(raw, nil)
			if err == nil {
				t.Fatalf("input %q: got %d articles, want error %s", tt.input, len(arts), tt.reason)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("input %q: reason %q (%v), want %q", tt.input, got, err, tt.reason)
			}
		})
	}
}

func TestNormalizeRepairs(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		wantTitle string
		wantBody  []string
		wantFixes []string
		wantZone  string
	}{
		{
			name:      "crlf and bom",
			input:     "\ufeffID : A1\r\nDate : 2021-03-04T05:06:07+02:00\r\nTitle : Crlf  title \r\nArticle :\r\nOne.\r\n\r\nTwo.\r\n",
			wantTitle: "Crlf title",
			wantBody:  []string{"One.", "Two."},
			wantFixes: []string{"bom", "crlf", "whitespace"},
			wantZone:  "+02:00",
		},
		{
			name:      "curly quotes damaged as cp1252",
			input:     "ID : A2\nDate : 2021-03-04 05:06:07\nTitle : Dellâ€™s results\nArticle :\nâ€œGood,â€\u009d he said.\n",
			wantTitle: "Dell’s results",
			wantBody:  []string{"“Good,” he said."},
			wantFixes: []string{"mojibake:cp1252", "tz:assumed"},
			wantZone:  "Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := normalizeOne(t, "test", "textdump", []byte(tt.input))
			if a.Title != tt.wantTitle {
				t.Errorf("title = %q, want %q", a.Title, tt.wantTitle)
			}
			if !slices.Equal(a.Body, tt.wantBody) {
				t.Errorf("body = %q, want %q", a.Body, tt.wantBody)
			}
			for _, f := range tt.wantFixes {
				if !slices.Contains(a.Fixes, f) {
					t.Errorf("fixes = %q, want %q among them", a.Fixes, f)
				}
			}
			if got := a.PublishedAt.Format("Z07:00"); got != tt.wantZone {
				t.Errorf("published_at %s has zone %s, want %s", a.PublishedAt, got, tt.wantZone)
			}
		})
	}
}

func TestUnparsedDateKeepsTheStory(t *testing.T) {
	a := normalizeOne(t, "test", "textdump", []byte("ID : A1\nDate : yesterday-ish\nTitle : T\nArticle :\nBody.\n"))
	if !a.PublishedAt.IsZero() || !slices.Contains(a.Fixes, "date:unparsed") {
		t.Errorf("published_at %v, fixes %q; want no time and date:unparsed", a.PublishedAt, a.Fixes)
	}
}

func TestSourceTimezoneBeatsProfile(t *testing.T) {
	raw := &record.Raw{Source: "xinhua", Format: "textdump", Timezone: "Europe/Lisbon",
		Body: []byte("ID : XINH1\nDate : 2020-07-01 10:00:00\nTitle : T\nArticle :\nBody.\n")}
	arts, err := testNormalizer().Normalize(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := arts[0].PublishedAt.Format(time.RFC3339); got != "2020-07-01T10:00:00+01:00" {
		t.Errorf("published_at %s, want the source's configured zone (Lisbon summer time)", got)
	}
}

func TestIDStableAcrossVersions(t *testing.T) {
	in := "ID : A9\nTitle : First\nArticle :\nBody one.\n"
	a := normalizeOne(t, "test", "textdump", []byte(in))
	b := normalizeOne(t, "test", "textdump", []byte(strings.Replace(in, "Body one.", "Body two.", 1)))
	if a.ID != b.ID {
		t.Errorf("same source item, different ids %s %s", a.ID, b.ID)
	}
	if a.ContentHash == b.ContentHash {
		t.Errorf("different text, same content hash %s", a.ContentHash)
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add([]byte("ID : A1\nTitle : T\nArticle :\nBody.\n"), "textdump")
	f.Add([]byte("URL : http://x.example/\nDate : 2020-05-01 10:15:28\nTitle : T\nAriticle :\nBEIJING, May 1 (Xinhua) -- Text.\nâ–\u00a0"), "")
	f.Add([]byte("\xff\xfe\x00\x01"), "")
	f.Fuzz(func(t *testing.T, body []byte, format string) {
		raw := &record.Raw{Source: "fuzz", Format: format, Body: body}
		arts, err := testNormalizer().Normalize(raw, nil)
		if err != nil {
			if Reason(err) == "internal" {
				t.Fatalf("error without a reason code: %v", err)
			}
			return
		}
		for _, a := range arts {
			if err := a.Validate(); err != nil {
				t.Fatalf("invalid article: %v", err)
			}
		}
		// Normalized again, later and from another raw message, as after
		// a crash before the commit: the same records but for
		// normalized_at and raw (a copy downstream can tell it is one).
		later := &Normalizer{DefaultZone: time.UTC, Now: func() time.Time { return fixedNow.Add(time.Hour) }}
		again, err := later.Normalize(raw, &record.RawRef{Topic: "raw", Partition: 2, Offset: 7})
		if err != nil || len(again) != len(arts) {
			t.Fatalf("normalized again: %d records (%v), first %d", len(again), err, len(arts))
		}
		for i := range arts {
			x, y := *arts[i], *again[i]
			x.NormalizedAt, x.Raw, y.NormalizedAt, y.Raw = time.Time{}, nil, time.Time{}, nil
			bx, errx := x.Marshal()
			by, erry := y.Marshal()
			if errx != nil || erry != nil || string(bx) != string(by) {
				t.Fatalf("normalized again, record %d differs:\n%s\n%s", i, bx, by)
			}
		}
	})
}
