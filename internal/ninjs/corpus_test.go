package ninjs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/golden"
	"github.com/wirefeed/wirefeed/internal/story"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// goldenFolders are the corpus folders whose every file has a golden
// file: the ninjs examples and validation suites, and dpa's digitalwires
// JSON, which Parse reads too.
var goldenFolders = []string{"ninjs", "anpa/dpa-iptc7901/digitalwires-json"}

// TestCorpusGolden parses every file of the golden folders and compares
// the facts of each story (or the skip or rejection reason), with the text
// fingerprinted, with testdata/golden/<path in the corpus>.golden. It
// logs, per folder, how many files parse, are skipped and are rejected,
// and why.
func TestCorpusGolden(t *testing.T) {
	var tally golden.Tally
	for _, folder := range goldenFolders {
		golden.EachSample(t, folder, func(t *testing.T, rel string, b []byte) {
			stories, err := Parse(b)
			tally.Add(rel, stories, err)
			golden.CompareSample(t, rel, "", stories, err)
		})
	}
	tally.Log(t)
}

// TestValidationSuite states, for every file of the ninjs validation
// suites, what Parse makes of it. The suites test a JSON schema, so their
// "should_fail" files are valid JSON that breaks a schema rule; Parse
// checks only what it reads, so they fare like the "should_pass" ones:
// most are items without a body (the suites test metadata), and the
// association tests, which have a placeholder body "...", parse.
func TestValidationSuite(t *testing.T) {
	corpus := golden.Corpus(t)
	want := map[string]string{
		// 1.4: only uri, headline and the metadata under test.
		"1.4/should_fail/001_bad_contentcreated.json":  "skipped ninjs_no_body", // contentcreated is an object; not read
		"1.4/should_fail/002_bad_contentcreated.json":  "skipped ninjs_no_body", // contentcreated is a list; not read
		"1.4/should_fail/003_bad_expires.json":         "skipped ninjs_no_body", // expires is not read
		"1.4/should_fail/004_bad_expires.json":         "skipped ninjs_no_body",
		"1.4/should_fail/005_bad_rightsinfo.json":      "skipped ninjs_no_body", // rights are not read
		"1.4/should_fail/006_bad_rightsinfo.json":      "skipped ninjs_no_body",
		"1.4/should_pass/001_ninjs_example.json":       "skipped ninjs_no_body",
		"1.4/should_pass/002_contentcreated.json":      "skipped ninjs_no_body",
		"1.4/should_pass/003_rightsinfo_linked.json":   "skipped ninjs_no_body",
		"1.4/should_pass/004_rightsinfo_embedded.json": "skipped ninjs_no_body",
		// 2.1: the bad associations do not affect the story; captions
		// come only from associations that say something.
		"2.1/should_fail/001_bad_association.json":                         "parsed",
		"2.1/should_fail/002_good_association_but_no_name.json":            "parsed",
		"2.1/should_fail/003_good_association_but_no_uri.json":             "parsed",
		"2.1/should_fail/004_bad_rights.json":                              "skipped ninjs_no_body",
		"2.1/should_pass/001_ninjs_example.json":                           "skipped ninjs_no_body",
		"2.1/should_pass/002_schema.json":                                  "skipped ninjs_no_body",
		"2.1/should_pass/003_schema_only.json":                             "skipped ninjs_no_body",
		"2.1/should_pass/004_headlines.json":                               "skipped ninjs_no_body",
		"2.1/should_pass/005_altids.json":                                  "skipped ninjs_no_body",
		"2.1/should_pass/006_genre.json":                                   "skipped ninjs_no_body",
		"2.1/should_pass/007_trust_indicator.json":                         "skipped ninjs_no_body",
		"2.1/should_pass/009_rights.json":                                  "skipped ninjs_no_body",
		"2.1/should_pass/010_geojson.json":                                 "skipped ninjs_picture",
		"2.1/should_pass/011_contactinfo.json":                             "skipped ninjs_picture",
		"2.1/should_pass/012_subject_confidence_relevance.json":            "skipped ninjs_no_body", // type text, no body or description
		"2.1/should_pass/013_org_symbol.json":                              "skipped ninjs_no_body",
		"2.1/should_pass/014_expires.json":                                 "skipped ninjs_no_body", // untyped: no description fallback
		"3.0/should_fail/001_bad_geojson.json":                             "skipped ninjs_picture", // places are not read
		"3.0/should_fail/001_bad_toplevel.json":                            "skipped ninjs_no_body", // unknown fields are ignored
		"3.0/should_fail/002_bad_association.json":                         "parsed",
		"3.0/should_fail/003_event_with_conflicting_start.json":            "skipped ninjs_event",
		"3.0/should_fail/004_event_with_renditions.json":                   "skipped ninjs_event",
		"3.0/should_fail/004_invalid_truncated_date.json":                  "skipped ninjs_event",
		"3.0/should_fail/005_planned_coverage_bad_urgency.json":            "skipped ninjs_planning",
		"3.0/should_fail/006_bad_urgency.json":                             "skipped ninjs_no_body", // urgency is not read
		"3.0/should_pass/001_ninjs_example.json":                           "skipped ninjs_no_body",
		"3.0/should_pass/002_schema.json":                                  "skipped ninjs_no_body",
		"3.0/should_pass/002_simple_event.json":                            "skipped ninjs_event",
		"3.0/should_pass/003_event_with_organiser.json":                    "skipped ninjs_event",
		"3.0/should_pass/003_schema_only.json":                             "skipped ninjs_no_body",
		"3.0/should_pass/004_headlines.json":                               "skipped ninjs_no_body",
		"3.0/should_pass/005_altids.json":                                  "skipped ninjs_no_body",
		"3.0/should_pass/005_planned_coverage.json":                        "skipped ninjs_planning",
		"3.0/should_pass/006_genre.json":                                   "skipped ninjs_no_body",
		"3.0/should_pass/006_planning_with_rendition.json":                 "skipped ninjs_planning",
		"3.0/should_pass/007_planning_rendition_reuters.json":              "skipped ninjs_planning",
		"3.0/should_pass/007_trust_indicator.json":                         "skipped ninjs_no_body",
		"3.0/should_pass/008_planning_with_rendition_srt.json":             "skipped ninjs_planning",
		"3.0/should_pass/009_planned_coverage_commissioninginfo.json":      "skipped ninjs_planning",
		"3.0/should_pass/009_rights.json":                                  "skipped ninjs_no_body",
		"3.0/should_pass/010_event_with_truncated_date.json":               "skipped ninjs_event",
		"3.0/should_pass/010_geojson.json":                                 "skipped ninjs_picture",
		"3.0/should_pass/010_planned_news_item.json":                       "skipped ninjs_no_body", // a planned item: caption only
		"3.0/should_pass/011_event_with_truncated_start_and_end_date.json": "skipped ninjs_event",
		"3.0/should_pass/012_recurring_event.json":                         "skipped ninjs_event",
		"3.0/should_pass/013_planned_coverage.json":                        "skipped ninjs_planning",
		"3.0/should_pass/014_planning_rendition_reuters.json":              "skipped ninjs_planning",
		"3.0/should_pass/015_complex_recurrence.json":                      "skipped ninjs_event",
		"3.0/should_pass/016_complex_recurrence_2.json":                    "skipped ninjs_event",
		"3.0/should_pass/017_expectedduration.json":                        "skipped ninjs_event",
		"3.0/should_pass/018_expectedduration_2.json":                      "skipped ninjs_event",
		"3.0/should_pass/019_good_urgency.json":                            "skipped ninjs_no_body",
	}
	files := golden.Samples(t, corpus, "ninjs/validation/test_suite")
	if len(files) != len(want) {
		t.Errorf("the suites have %d files, the table %d", len(files), len(want))
	}
	for _, rel := range files {
		name := strings.TrimPrefix(rel, "ninjs/validation/test_suite/")
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			b, err := os.ReadFile(filepath.Join(corpus, rel))
			if err != nil {
				t.Fatal(err)
			}
			stories, err := Parse(b)
			if got := golden.Outcome(stories, err); got != w {
				t.Errorf("Parse(%s): %s, want %s", name, got, w)
			}
		})
	}
}

// TestCorpusSpotChecks checks fields of some corpus items by hand.
func TestCorpusSpotChecks(t *testing.T) {
	corpus := golden.Corpus(t)
	parse := func(t *testing.T, rel string) ([]story.Story, error) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(corpus, rel))
		if err != nil {
			t.Fatal(err)
		}
		return Parse(b)
	}
	one := func(t *testing.T, rel string) story.Story {
		t.Helper()
		s, err := parse(t, rel)
		if err != nil || len(s) != 1 {
			t.Fatalf("Parse(%s) = %d stories, %v; want 1 story", rel, len(s), err)
		}
		return s[0]
	}
	t.Run("business wire 1.4 keeps its mojibake for textfix", func(t *testing.T) {
		s := one(t, "ninjs/examples/1.4/businesswire-newsml-20130515006361.json")
		body := strings.Join(s.Body, "\n")
		if !strings.Contains(body, "worldâ€™s") {
			t.Errorf("body lost the mojibake as written (worldâ€™s): %.200q", body)
		}
		fixed := textfix.Fix(body)
		if strings.Contains(fixed, "â€") {
			t.Errorf("textfix.Fix left mojibake: %.300q", fixed)
		}
		if !strings.Contains(fixed, "world’s most powerful") {
			t.Errorf("textfix.Fix(body) = %.300q, want world’s", fixed)
		}
		if golden.Text(s.Title) != "len=103 sha256=95e8e3108945e059" || !strings.HasPrefix(s.Title, "Dell ") ||
			s.Version != 1 || s.Language != "en" || len(s.Subjects) != 9 {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("business wire NewsML source is not JSON", func(t *testing.T) {
		_, err := parse(t, "ninjs/examples/NewsML/businesswire-newsml-20130515006361.xml")
		if got := golden.Outcome(nil, err); got != "rejected ninjs_bad_json" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("dpa 2.1", func(t *testing.T) {
		s := one(t, "ninjs/examples/2.1/dpa_text.json")
		want := story.Story{Format: "ninjs", SourceID: "urn:newsml:dpa.com:20090101:190510-99-167362", Version: 2,
			Date:    "2019-05-10T16:02:28+02:00",
			Updated: "2019-05-10T16:02:28+02:00", Language: "de", Provider: "dpa", PubStatus: "usable"}
		if golden.Text(s.Title) != "len=60 sha256=d3a0f8cf1ccb950e" || !strings.HasPrefix(s.Title, "Faktencheck ") {
			t.Errorf("Title = %q (%s)", s.Title, golden.Text(s.Title))
		}
		if len(s.Body) != 9 || golden.Text(s.Body[0]) != "len=241 sha256=d56ae7b8bdbc9d98" || !strings.Contains(s.Body[0], "«") {
			t.Errorf("Body = %q, Body[0] %s", s.Body, golden.Text(at(s.Body, 0)))
		}
		if !strings.HasPrefix(s.Byline, "Von ") || !strings.HasSuffix(s.Byline, ", dpa") {
			t.Errorf("Byline = %q, want Von ..., dpa", s.Byline)
		}
		s.Title, s.Body, s.Byline = "", nil, ""
		if !reflect.DeepEqual(s, want) {
			t.Errorf("\n got %+v\nwant %+v", s, want)
		}
	})
	t.Run("dpa 3.0 reads camelCase like 2.1", func(t *testing.T) {
		a, b := one(t, "ninjs/examples/2.1/dpa_text.json"), one(t, "ninjs/examples/3.0/dpa_text.json")
		if !reflect.DeepEqual(a, b) {
			t.Errorf("2.1 and 3.0 differ:\n%+v\n%+v", a, b)
		}
	})
	t.Run("ntb text item with only a description", func(t *testing.T) {
		s := one(t, "ninjs/examples/3.0/ntb_text.json")
		if s.Version != 6 || s.Date != "2019-08-09T09:30:04Z" || s.Updated != "2019-08-09T09:46:53Z" ||
			len(s.Body) != 1 || golden.Text(s.Body[0]) != "len=122 sha256=11135d15af35f64f" ||
			!reflect.DeepEqual(s.Fixes, []string{"body-from-description"}) ||
			!reflect.DeepEqual(s.Subjects, []string{"Innenriks", "Teknologi", "Industri", "Olje og energi"}) {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("1.4 complex: located and picture caption", func(t *testing.T) {
		s := one(t, "ninjs/examples/1.4/ninjsExComplex1.json")
		if s.Dateline == nil || s.Dateline.Place != "Grossetto, Italy" || len(strings.Split(s.Byline, " and ")) != 2 ||
			len(s.Captions) != 1 || golden.Text(s.Captions[0]) != "len=351 sha256=1a2e1128fe67168d" || len(s.Body) != 4 {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("tt 3.0: html body and association caption", func(t *testing.T) {
		s := one(t, "ninjs/examples/3.0/tt_text_image_3.json")
		if len(s.Captions) != 1 || golden.Text(s.Captions[0]) != "len=133 sha256=232e60fc90d90b7a" ||
			s.Provider != "TT" || s.Language != "sv" || len(s.Body) < 5 {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("photo is skipped", func(t *testing.T) {
		_, err := parse(t, "ninjs/examples/1.4/ninjsExSimplePhoto1.json")
		if got := golden.Outcome(nil, err); got != "skipped ninjs_picture" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("collection of events is skipped", func(t *testing.T) {
		_, err := parse(t, "ninjs/examples/3.0/collection/20231016-event-timeline-sample.json")
		if got := golden.Outcome(nil, err); got != "skipped ninjs_event" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("a JSON schema is not an item", func(t *testing.T) {
		_, err := parse(t, "ninjs/examples/2.1/schema-extension/extension-schema.json")
		if got := golden.Outcome(nil, err); got != "rejected ninjs_no_uri" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("digitalwires correction", func(t *testing.T) {
		s := one(t, "anpa/dpa-iptc7901/digitalwires-json/dw-1.json")
		if !reflect.DeepEqual(s.Signals, []string{"correction"}) || s.Version != 2 ||
			!reflect.DeepEqual(s.Dateline, &story.Dateline{Place: "Waghäusel", Agency: "dpa"}) ||
			!reflect.DeepEqual(s.Subjects, []string{"Gesundheit", "Gesellschaft"}) || s.Provider != "dpa" {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("digitalwires picture captions", func(t *testing.T) {
		s := one(t, "anpa/dpa-iptc7901/digitalwires-json/rubix-multimedia-testartikel.json")
		want := []string{"len=51 sha256=c1f7222a6292f476", "len=32 sha256=1ff1df1ff51286cf"}
		if got := texts(s.Captions); !reflect.DeepEqual(got, want) {
			t.Errorf("Captions = %q, fingerprints %q, want %q", s.Captions, got, want)
		}
	})
}

// texts returns the fingerprints (golden.Text) of list.
func texts(list []string) []string {
	var out []string
	for _, s := range list {
		out = append(out, golden.Text(s))
	}
	return out
}

// at returns list[i], or "" when list is shorter.
func at(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return ""
}
