package ninjs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/golden"
	"github.com/wirefeed/wirefeed/internal/story"
)

// TestFixtures parses each testdata/fixtures/*.json and compares the
// result with testdata/golden/fixtures/<name>.golden.
func TestFixtures(t *testing.T) {
	golden.Fixtures(t, filepath.Join("testdata", "fixtures", "*.json"), Parse)
}

func TestFixtureFields(t *testing.T) {
	read := func(t *testing.T, name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("2.x bodies", func(t *testing.T) {
		s, err := Parse(read(t, "text_2x_bodies.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := []story.Story{{
			Format:    "ninjs",
			SourceID:  "urn:example:wire:2024:0042",
			Version:   3,
			Title:     "Storm closes the port",
			Date:      "2024-03-02T08:00:00+01:00",
			Updated:   "2024-03-02T09:15:00+01:00",
			Byline:    "A. Reporter",
			Language:  "en-GB",
			Provider:  "Example Wire",
			Body:      []string{"HARBOURTOWN (Wire) -- The port closed on Saturday.", "Ferries stayed in port."},
			Captions:  []string{"Waves hit the pier. (Photo: Example Wire)", "Video of the storm"},
			Dateline:  &story.Dateline{Place: "HARBOURTOWN"},
			Subjects:  []string{"Weather", "shipping"},
			PubStatus: "usable",
			Signals:   []string{"update"},
		}}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("\n got %+v\nwant %+v", s, want)
		}
	})
	t.Run("1.x", func(t *testing.T) {
		s, err := Parse(read(t, "text_1x.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := []story.Story{{
			Format:    "ninjs",
			SourceID:  "http://example.com/items/1",
			Version:   2,
			Title:     "Old style item",
			Date:      "2014-01-01T12:00:00Z",
			Updated:   "2014-01-01T12:00:00Z",
			Byline:    "The Desk",
			Body:      []string{"First paragraph.", "Second paragraph."},
			Captions:  []string{"Zeta caption", "Alpha caption", "Beta chart"}, // document order
			Subjects:  []string{"Politics", "04000000"},
			PubStatus: "canceled",
		}}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("\n got %+v\nwant %+v", s, want)
		}
	})
	t.Run("collection", func(t *testing.T) {
		s, err := Parse(read(t, "collection_mixed.json"))
		if err != nil || len(s) != 1 || s[0].SourceID != "urn:c:2" || !reflect.DeepEqual(s[0].Body, []string{"Text of the story."}) {
			t.Errorf("got %+v, %v", s, err)
		}
	})
}

func TestParseOutcomes(t *testing.T) {
	deep := `{"uri":"u","type":"text","body_text":"x","x":` + strings.Repeat("[", story.MaxDepth) + strings.Repeat("]", story.MaxDepth) + "}"
	tests := []struct {
		name string
		in   string
		want string // as golden.Outcome words it
	}{
		{"empty", "", "rejected ninjs_bad_json"},
		{"blank", " \n ", "rejected ninjs_bad_json"},
		{"not json", "uri: x", "rejected ninjs_bad_json"},
		{"xml", `<?xml version="1.0"?><newsMessage/>`, "rejected ninjs_bad_json"},
		{"trailing data", `{"uri":"u","body_text":"x"} {}`, "rejected ninjs_bad_json"},
		{"trailing comma", `{"uri":"u","body_text":"x",}`, "rejected ninjs_bad_json"},
		{"string", `"x"`, "rejected ninjs_not_object"},
		{"number", `42`, "rejected ninjs_not_object"},
		{"null", `null`, "rejected ninjs_not_object"},
		{"array of strings", `["x"]`, "rejected ninjs_not_object"},
		{"empty array", `[]`, "no stories"},
		{"no uri", `{"type":"text","body_text":"x"}`, "rejected ninjs_no_uri"},
		{"blank uri", `{"uri":"  ","body_text":"x"}`, "rejected ninjs_no_uri"},
		{"guid", `{"guid":"g","body_text":"x"}`, "parsed"},
		{"urn", `{"urn":"u","article_html":"<p>x</p>"}`, "parsed"},
		{"headline is a number", `{"uri":"u","headline":5,"body_text":"x"}`, "rejected ninjs_bad_field"},
		{"bodies is an object", `{"uri":"u","bodies":{"value":"x"}}`, "rejected ninjs_bad_field"},
		{"associations is a string", `{"uri":"u","body_text":"x","associations":"a"}`, "rejected ninjs_bad_field"},
		{"association field of the wrong type", `{"uri":"u","body_text":"x","associations":[{"type":"picture","headline":[1]}]}`, "rejected ninjs_bad_field"},
		{"nulls are absent", `{"uri":"u","headline":null,"body_text":"x","associations":null,"version":null,"signal":null}`, "parsed"},
		{"unknown fields ignored", `{"uri":"u","body_text":"x","urgency":0.1,"random":{"a":[1,2,{"b":null}]}}`, "parsed"},
		{"picture", `{"uri":"u","type":"picture","body_text":"x"}`, "skipped ninjs_picture"},
		{"image", `{"uri":"u","type":"Image"}`, "skipped ninjs_picture"},
		{"video", `{"uri":"u","type":"video"}`, "skipped ninjs_video"},
		{"audio", `{"uri":"u","type":"audio"}`, "skipped ninjs_audio"},
		{"graphic", `{"uri":"u","type":"graphic"}`, "skipped ninjs_graphic"},
		{"event", `{"uri":"u","type":"event","bodies":[{"value":"x"}]}`, "skipped ninjs_event"},
		{"untyped event", `{"uri":"u","eventDetails":{"dates":{}},"bodies":[{"value":"x"}]}`, "skipped ninjs_event"},
		{"planning", `{"uri":"u","type":"planning"}`, "skipped ninjs_planning"},
		{"untyped planning", `{"uri":"u","plannedCoverage":[{"uri":"p"}]}`, "skipped ninjs_planning"},
		{"other type", `{"uri":"u","type":"concept","body_text":"x"}`, "skipped ninjs_other_type"},
		{"composite", `{"uri":"u","type":"composite","body_text":"x"}`, "parsed"},
		{"no body", `{"uri":"u","type":"text","headline":"h"}`, "skipped ninjs_no_body"},
		{"blank body", `{"uri":"u","body_html":"<p> </p><script>x</script>"}`, "skipped ninjs_no_body"},
		{"untyped with description only", `{"uri":"u","description_text":"d"}`, "skipped ninjs_no_body"},
		{"collection of pictures", `[{"uri":"a","type":"picture"},{"uri":"b","type":"picture"}]`, "skipped ninjs_picture"},
		{"collection of pictures and events", `[{"uri":"a","type":"picture"},{"uri":"b","type":"event"}]`, "skipped ninjs_no_text_items"},
		{"collection with a bad item", `[{"uri":"a","body_text":"x"},{"body_text":"no uri"}]`, "rejected ninjs_no_uri"},
		{"too deep", deep, "rejected ninjs_too_deep"},
		{"brackets in strings do not count", `{"uri":"u","body_text":"` + strings.Repeat("[{", story.MaxDepth) + `"}`, "parsed"},
		{"too large", `{"uri":"u","body_text":"` + strings.Repeat("x", story.MaxInputBytes) + `"}`, "rejected too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stories, err := Parse([]byte(tt.in))
			if got := golden.Outcome(stories, err); got != tt.want {
				in := tt.in
				if len(in) > 80 {
					in = in[:80] + "..."
				}
				t.Errorf("Parse(%q): %s (%v), want %s", in, got, err, tt.want)
			}
			if err != nil && stories != nil {
				t.Errorf("Parse returned stories with an error")
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(s story.Story) bool
	}{
		{"version string", `{"uri":"u","body_text":"x","version":"7"}`, func(s story.Story) bool { return s.Version == 7 }},
		{"version number", `{"uri":"u","body_text":"x","version":7}`, func(s story.Story) bool { return s.Version == 7 }},
		{"version 2.0", `{"uri":"u","body_text":"x","version":2.0}`, func(s story.Story) bool { return s.Version == 2 }},
		{"version fraction", `{"uri":"u","body_text":"x","version":"1.5"}`, func(s story.Story) bool { return s.Version == 0 }},
		{"version negative", `{"uri":"u","body_text":"x","version":-3}`, func(s story.Story) bool { return s.Version == 0 }},
		{"version huge", `{"uri":"u","body_text":"x","version":1e300}`, func(s story.Story) bool { return s.Version == 0 }},
		{"version word", `{"uri":"u","body_text":"x","version":"two"}`, func(s story.Story) bool { return s.Version == 0 }},
		{"pubstatus qcode", `{"uri":"u","body_text":"x","pubstatus":"stat:withheld"}`, func(s story.Story) bool { return s.PubStatus == "withheld" }},
		{"pubstatus cancelled", `{"uri":"u","body_text":"x","pubStatus":"Cancelled"}`, func(s story.Story) bool { return s.PubStatus == "canceled" }},
		{"pubstatus unknown", `{"uri":"u","body_text":"x","pubstatus":"draft"}`, func(s story.Story) bool { return s.PubStatus == "" }},
		{"signal string", `{"uri":"u","body_text":"x","signal":"sig:kill"}`, func(s story.Story) bool { return reflect.DeepEqual(s.Signals, []string{"kill"}) }},
		{"signals list", `{"uri":"u","body_text":"x","signals":["correction","sig:update","other"]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Signals, []string{"correction", "update"})
		}},
		{"signal of odd shape ignored", `{"uri":"u","body_text":"x","signal":{"a":1}}`, func(s story.Story) bool { return s.Signals == nil }},
		{"no signal from version", `{"uri":"u","body_text":"x","version":5}`, func(s story.Story) bool { return s.Signals == nil }},
		{"digitalwires signal category", `{"urn":"u","article_html":"<p>x</p>","categories":[{"type":"dnltype:signal","qcode":"sig:correction"},{"type":"dnltype:keyword","name":"k"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Signals, []string{"correction"}) && s.Subjects == nil
		}},
		{"main headline", `{"uri":"u","body_text":"x","headlines":[{"value":"first"},{"role":"main","value":"main"}]}`, func(s story.Story) bool { return s.Title == "main" }},
		{"first headline", `{"uri":"u","body_text":"x","headlines":[{"role":"sub","value":" "},{"role":"sub","value":"second"}]}`, func(s story.Story) bool { return s.Title == "second" }},
		{"title fallback", `{"uri":"u","body_text":"x","title":"slug"}`, func(s story.Story) bool { return s.Title == "slug" }},
		{"date falls back to versioncreated", `{"uri":"u","body_text":"x","versionCreated":"v"}`, func(s story.Story) bool { return s.Date == "v" && s.Updated == "v" }},
		{"main body wins among html", `{"uri":"u","bodies":[{"contenttype":"text/html","value":"<p>long long long long</p>"},{"role":"main","contenttype":"text/html","value":"<p>main</p>"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"main"})
		}},
		{"longest html body", `{"uri":"u","bodies":[{"role":"a","contenttype":"text/html","value":"<p>short</p>"},{"role":"b","contenttype":"text/html","value":"<p>the longer one</p>"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"the longer one"})
		}},
		{"html before plain text", `{"uri":"u","bodies":[{"role":"text","value":"plain text that is longer"},{"role":"html","value":"<p>html</p>"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"html"})
		}},
		{"plain text before nitf", `{"uri":"u","bodies":[{"contenttype":"text/vnd.IPTC.NITF","value":"<nitf><p>n</p></nitf>"},{"contentType":"text/plain","value":"plain"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"plain"})
		}},
		{"nitf when nothing else", `{"uri":"u","bodies":[{"contenttype":"application/xml","value":"<nitf><head><title>t</title></head><body><p>n</p></body></nitf>"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"n"})
		}},
		{"unknown content type ignored", `{"uri":"u","bodies":[{"contenttype":"image/png","value":"iVBOR"},{"value":"text"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"text"})
		}},
		{"untyped body with markup is html", `{"uri":"u","bodies":[{"value":"<p>a</p><p>b</p>"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"a", "b"})
		}},
		{"plain body paragraphs", `{"uri":"u","bodies":[{"contenttype":"text/plain","value":"a\r\n\r\nb"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"a", "b"})
		}},
		{"body_xhtml before body_text", `{"uri":"u","body_text":"one line","body_xhtml":"<p>a</p><p>b</p>"}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"a", "b"})
		}},
		{"text item falls back to a description", `{"uri":"u","type":"text","descriptions":[{"role":"caption","value":"c"},{"role":"lead","value":"lead"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"lead"}) && reflect.DeepEqual(s.Fixes, []string{"body-from-description"})
		}},
		{"dateline with agency", `{"urn":"u","article_html":"<p>x</p>","dateline":"Berlin (dpa) - "}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Dateline, &story.Dateline{Place: "Berlin", Agency: "dpa"})
		}},
		{"located as place", `{"uri":"u","body_text":"x","located":"Oslo, Norway"}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Dateline, &story.Dateline{Place: "Oslo, Norway"})
		}},
		{"subjects from name, literal, code, uri", `{"uri":"u","body_text":"x","subjects":[{"name":"N"},{"literal":"L"},{"code":"C"},{"uri":"U"},{"name":"N"},{}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Subjects, []string{"N", "L", "C", "U"})
		}},
		{"caption order and kinds", `{"uri":"u","body_text":"x","associations":[{"type":"picture","descriptions":[{"value":"first"}]},{"type":"text","headline":"t"},{"type":"graphic","caption":"dw"},{"type":"picture"}]}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Captions, []string{"first", "dw"})
		}},
		{"BOM", "\ufeff" + `{"uri":"u","body_text":"x"}`, func(s story.Story) bool { return reflect.DeepEqual(s.Fixes, []string{"bom"}) }},
		{"latin-1 bytes", "{\"uri\":\"u\",\"body_text\":\"caf\xe9\"}", func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{"café"}) && reflect.DeepEqual(s.Fixes, []string{"invalid-utf8"})
		}},
		{"escaped characters", `{"uri":"u","body_text":"caf\u00e9 \"quoted\""}`, func(s story.Story) bool {
			return reflect.DeepEqual(s.Body, []string{`café "quoted"`})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.in))
			if err != nil || len(s) != 1 {
				t.Fatalf("Parse(%q) = %d stories, %v", tt.in, len(s), err)
			}
			if !tt.check(s[0]) {
				t.Errorf("Parse(%q) = %+v", tt.in, s[0])
			}
		})
	}
}

func TestParseCapsItems(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := range story.MaxItems + 5 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"uri":"u%d","body_text":"x"}`, i)
	}
	b.WriteString("]")
	s, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != story.MaxItems {
		t.Errorf("got %d stories, want story.MaxItems = %d", len(s), story.MaxItems)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, err := Parse([]byte(`{"uri":"u","headline":1}`))
	var pe *story.ParseError
	if !errors.As(err, &pe) || pe.Reason != "ninjs_bad_field" || !strings.Contains(err.Error(), "headline") {
		t.Errorf("got %v, want a ninjs_bad_field error naming the field", err)
	}
	_, err = Parse([]byte(`{"uri":"u","type":"video"}`))
	if !errors.Is(err, story.ErrSkipped) {
		t.Errorf("errors.Is(%v, story.ErrSkipped) is false", err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"urn":"u","article_html":"<p>x</p>","dateline":"Berlin (dpa) - ","signal":"sig:correction","version":2}`))
	f.Add([]byte(`[{"uri":"a","type":"picture"},{"uri":"b","bodies":[{"value":"<p>x</p>"}]}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		stories, err := Parse(b)
		if err != nil {
			var pe *story.ParseError
			var se *story.SkipError
			if !errors.As(err, &pe) && !errors.As(err, &se) {
				t.Fatalf("Parse error %v is neither a ParseError nor a SkipError", err)
			}
			if pe != nil && pe.Reason == "" || se != nil && se.Reason == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			if stories != nil {
				t.Fatalf("Parse returned stories and an error")
			}
			return
		}
		if len(stories) > story.MaxItems {
			t.Fatalf("%d stories", len(stories))
		}
		for _, s := range stories {
			if s.Format != "ninjs" || s.SourceID == "" || len(s.Body) == 0 || s.Version < 0 {
				t.Fatalf("bad story %+v", s)
			}
		}
	})
}
