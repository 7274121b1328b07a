package newsmlg2

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/golden"
	"github.com/wirefeed/wirefeed/internal/story"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// parseFile parses a file, failing the test when it cannot be read.
func parseFile(t *testing.T, path string) ([]story.Story, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(b)
}

// wantSkip checks that err is a *story.SkipError with the reason.
func wantSkip(t *testing.T, err error, reason string) {
	t.Helper()
	var se *story.SkipError
	if !errors.As(err, &se) || se.Reason != reason || !errors.Is(err, story.ErrSkipped) {
		t.Fatalf("err = %v, want a skip with reason %q", err, reason)
	}
}

// wantReject checks that err is a *story.ParseError with the reason.
func wantReject(t *testing.T, err error, reason string) {
	t.Helper()
	var pe *story.ParseError
	if !errors.As(err, &pe) || pe.Reason != reason {
		t.Fatalf("err = %v, want a parse error with reason %q", err, reason)
	}
}

// one returns a function that takes Parse's results and returns the only
// story, failing the test otherwise: one(t)(Parse(b)).
func one(t *testing.T) func([]story.Story, error) story.Story {
	return func(stories []story.Story, err error) story.Story {
		t.Helper()
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if len(stories) != 1 {
			t.Fatalf("got %d stories, want 1", len(stories))
		}
		return stories[0]
	}
}

// TestCorpusByHand checks key fields of corpus files against values read
// off the files by hand.
func TestCorpusByHand(t *testing.T) {
	root := filepath.Join(golden.Corpus(t), "newsml-g2")
	file := func(name string) string { return filepath.Join(root, name) }

	t.Run("LISTING_1 text item with an empty inlineXML", func(t *testing.T) {
		st := one(t)(parseFile(t, file("LISTING_1_A_NewsML-G2_News_Item.xml")))
		want := story.Story{
			Format: Format, SourceID: "urn:newsml:acmenews.com:20161018:US-FINANCE-FED", Version: 11,
			Title: `Fed to halt QE to avert "bubble"`, Date: "2016-10-18T13:12:21-05:00",
			Updated: "2018-10-21T16:25:32-05:00", Byline: "Meredith Jameson", Language: "en-GB",
			Provider: "REUTERS", Dateline: &story.Dateline{Place: "Berlin"},
			Subjects:  []string{"economy, business and finance", "labour market"},
			PubStatus: "usable", Signals: []string{"update"},
		}
		compare(t, st, want)
	})
	t.Run("LISTING_2 NITF body", func(t *testing.T) {
		st := one(t)(parseFile(t, file("LISTING_2_NewsML-G2_Text_Document.xml")))
		if len(st.Body) != 2 || !strings.HasPrefix(st.Body[0], "(New York, NY - October 21) Et,") || !strings.HasSuffix(st.Body[1], " dolutpat, si.") {
			t.Errorf("body = %q", st.Body)
		}
		if st.Date != "2016-11-21T15:21:06-05:00" {
			t.Errorf("date = %q, want contentCreated since there is no firstCreated", st.Date)
		}
		if !slices.Equal(st.Subjects, []string{"economy, business and finance", "central bank", "money and monetary policy"}) {
			t.Errorf("subjects = %q", st.Subjects)
		}
	})
	t.Run("LISTING_22 NITF sports story", func(t *testing.T) {
		st := one(t)(parseFile(t, file("LISTING_22_Sports_story_in_NewsML-G2NITF.xml")))
		if st.Title != "Preview: Arizona Diamondbacks (29-23) at Philadelphia Phillies (26-24), 7:05 p.m." {
			t.Errorf("title = %q", st.Title)
		}
		if len(st.Body) != 6 || !strings.HasPrefix(st.Body[5], "Right-hander Freddy Garcia ") {
			t.Errorf("body = %q, want the six paragraphs of body.content and not the abstract", st.Body)
		}
		if len(st.Subjects) != 9 || st.Subjects[4] != "event:l.mlb.com-2016-e.19358" {
			t.Errorf("subjects = %q, want 9 with the qcode of the unnamed event", st.Subjects)
		}
	})
	t.Run("LISTING_24 newsMessage with a package and 4 empty items", func(t *testing.T) {
		_, err := parseFile(t, file("LISTING_24_News_Message_conveying_a_complete_News_Package.xml"))
		wantSkip(t, err, ReasonNoText)
		if !strings.Contains(err.Error(), "5 items") || !strings.Contains(err.Error(), "4 newsml_no_text, 1 newsml_package") {
			t.Errorf("detail = %v", err)
		}
	})
	t.Run("ap_metadata_example is a video", func(t *testing.T) {
		_, err := parseFile(t, file("ap_metadata_example.xml"))
		wantSkip(t, err, ReasonVideo)
	})
	t.Run("LISTING_3 photo", func(t *testing.T) {
		_, err := parseFile(t, file("LISTING_3_Photo_in_NewsML-G2.xml"))
		wantSkip(t, err, ReasonPicture)
	})
	t.Run("LISTING_25 contentSet fragment", func(t *testing.T) {
		_, err := parseFile(t, file("LISTING_25_An_NITF_marked-up_article_conveyed_in_inlineXML.xml"))
		wantReject(t, err, ReasonFragment)
	})
	t.Run("LISTING_16 events in a composite item", func(t *testing.T) {
		_, err := parseFile(t, file("LISTING_16_A_Set_of_Events_carried_in_a_News_Item.xml"))
		wantSkip(t, err, ReasonComposite)
	})
	t.Run("facet-example-3 bare p in inlineXML", func(t *testing.T) {
		st := one(t)(parseFile(t, file("facet-example-3.xml")))
		if !slices.Equal(st.Body, []string{"Content goes here..."}) || st.Title != "" || !slices.Equal(st.Subjects, []string{"swimming"}) {
			t.Errorf("body = %q, title = %q, subjects = %q", st.Body, st.Title, st.Subjects)
		}
	})
}

// compare checks the fields of got that want sets, and that got has no
// body when want has none.
func compare(t *testing.T, got, want story.Story) {
	t.Helper()
	check := func(field, g, w string) {
		if g != w {
			t.Errorf("%s = %q, want %q", field, g, w)
		}
	}
	check("format", got.Format, want.Format)
	check("source id", got.SourceID, want.SourceID)
	check("title", got.Title, want.Title)
	check("date", got.Date, want.Date)
	check("updated", got.Updated, want.Updated)
	check("byline", got.Byline, want.Byline)
	check("language", got.Language, want.Language)
	check("provider", got.Provider, want.Provider)
	check("url", got.URL, want.URL)
	check("pub status", got.PubStatus, want.PubStatus)
	if got.Version != want.Version {
		t.Errorf("version = %d, want %d", got.Version, want.Version)
	}
	if !slices.Equal(got.Signals, want.Signals) {
		t.Errorf("signals = %q, want %q", got.Signals, want.Signals)
	}
	if !slices.Equal(got.Subjects, want.Subjects) {
		t.Errorf("subjects = %q, want %q", got.Subjects, want.Subjects)
	}
	if !slices.Equal(got.Body, want.Body) {
		t.Errorf("body = %q, want %q", got.Body, want.Body)
	}
	if !slices.Equal(got.Captions, want.Captions) {
		t.Errorf("captions = %q, want %q", got.Captions, want.Captions)
	}
	switch {
	case (got.Dateline == nil) != (want.Dateline == nil):
		t.Errorf("dateline = %+v, want %+v", got.Dateline, want.Dateline)
	case got.Dateline != nil && *got.Dateline != *want.Dateline:
		t.Errorf("dateline = %+v, want %+v", *got.Dateline, *want.Dateline)
	}
}

// TestFixtures checks the edge-case fixtures in testdata field by field.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file   string
		want   story.Story
		skip   string
		reject string
	}{
		{file: "kill.xml", want: story.Story{
			Format: Format, SourceID: "urn:newsml:example.com:20240105:kill-1", Version: 3,
			Title: "KILL: Storm story withdrawn", Date: "2024-01-05T08:00:00Z", Updated: "2024-01-05T10:30:00Z",
			Language: "en", Provider: "EXAMPLE", PubStatus: "canceled", Signals: []string{"kill"},
			Body: []string{`Editors: the story headlined "Storm hits coast" has been withdrawn. Please delete it.`},
		}},
		{file: "withheld.xml", want: story.Story{
			Format: Format, SourceID: "urn:newsml:example.com:20240105:withheld-1", Version: 1,
			URL:   "https://news.example.com/2024/01/05/withheld-1",
			Title: "Council delays vote on budget", Date: "2024-01-05T09:00:00+01:00", Updated: "2024-01-05T10:30:00+01:00",
			Language: "en-US", Provider: "Example Wire", PubStatus: "withheld", Signals: []string{"update"},
			Byline: "By Jane Roe and John Doe",
			Body: []string{
				"LONDON, Jan. 5 (Example) -- The city council delayed its vote.", "A second line after a break.",
				"First point", "Second point", "Party | Seats", "Red | 12", "Closing words.",
			},
			Captions: []string{"The council chamber on Friday."},
		}},
		{file: "canceled.xml", want: story.Story{
			Format: Format, SourceID: "canceled-uri-form", Version: 2, Title: "MARKETS-CLOSE",
			Updated: "2024-02-01T12:00:00Z", PubStatus: "canceled", Signals: []string{"correction"},
			Body: []string{"Markets closed lower on Thursday.", "Shares fell across the board."},
		}},
		{file: "correction.xml", want: story.Story{
			Format: Format, SourceID: "correction-1", Version: 4, Title: "Berichtigung: Zahl der Verletzten",
			Date: "2024-03-01T09:00:00+01:00", Updated: "2024-03-01T12:00:00+01:00", Language: "de",
			PubStatus: "usable", Signals: []string{"correction", "update"},
			Subjects: []string{"Wirtschaft", "medtop:20000523", "Ski alpin", "2024"},
			Body:     []string{"Bei dem Unfall wurden drei Menschen verletzt, nicht vier."},
			Captions: []string{"Ein Bild vom Unfallort."},
		}},
		{file: "nitf_body.xml", want: story.Story{
			Format: Format, SourceID: "nitf-1", Version: 1, Title: "Talks resume in Moscow",
			Date: "2016-02-09T09:17:00+03:00", Updated: "2016-02-09T09:30:00+03:00", Language: "en-GB",
			Provider: "Reuters", Byline: "Thomson Reuters, Ivan Petrov",
			Dateline: &story.Dateline{Place: "MOSCOW", Date: "Monday, Feb. 8", Agency: "Reuters"},
			Body: []string{
				"Talks resumed on Monday.", "Background", "The last round ended in March & April.",
				"A | 1", "Line one Line two", "Second block",
			},
			Captions: []string{"Delegates arrive for the talks."},
		}},
		{file: "latin1.xml", want: story.Story{
			Format: Format, SourceID: "latin1-1", Version: 1, Title: "Café déjà vu – über alles",
			Updated:  "2024-05-01T10:00:00+02:00",
			Dateline: &story.Dateline{Place: "ZÜRICH", Date: "1. Mai", Agency: "sda"},
			Body:     []string{"Été à Zürich – „quotes“."},
		}},
		{file: "utf16.xml", want: story.Story{
			Format: Format, SourceID: "utf16-1", Title: "东京新闻", Language: "ja-JP", Body: []string{"本文。"},
		}},
		{file: "base64_plain.xml", want: story.Story{
			Format: Format, SourceID: "b64-1", Title: "Base64 body, no namespace",
			Body: []string{"Café réouvert.", "Deuxième paragraphe."},
		}},
		{file: "remote_only.xml", skip: ReasonNoText},
		{file: "message_no_text.xml", skip: ReasonNoText},
		{file: "bad_xml.xml", reject: ReasonBadXML},
		{file: "truncated.xml", reject: ReasonBadXML},
		{file: "entities.xml", reject: ReasonBadXML},
		{file: "unknown_root.xml", reject: ReasonUnknownRoot},
		{file: "fragment_itemmeta.xml", reject: ReasonFragment},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			stories, err := parseFile(t, filepath.Join("testdata", tt.file))
			switch {
			case tt.skip != "":
				wantSkip(t, err, tt.skip)
			case tt.reject != "":
				wantReject(t, err, tt.reject)
			default:
				compare(t, one(t)(stories, err), tt.want)
			}
		})
	}
}

// TestMessage checks that a newsMessage returns its text items and drops
// the others.
func TestMessage(t *testing.T) {
	stories, err := parseFile(t, filepath.Join("testdata", "message_mixed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, st := range stories {
		ids = append(ids, st.SourceID)
	}
	if !slices.Equal(ids, []string{"text-1", "text-2"}) {
		t.Fatalf("stories %q, want text-1 and text-2", ids)
	}
	if stories[0].Language != "fr" || stories[1].Language != "en" {
		t.Errorf("languages %q and %q, want fr from the message and en from the item", stories[0].Language, stories[1].Language)
	}
	if want := []string{"HTML & more", "Unclosed paragraph", "after break"}; !slices.Equal(stories[1].Body, want) {
		t.Errorf("HTML inlineData body = %q, want %q", stories[1].Body, want)
	}
}

// TestErrors checks the errors for malformed and foreign inputs.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "", ReasonBadXML},
		{"plain text", "hello world", ReasonBadXML},
		{"json", `{"headline": "x"}`, ReasonBadXML},
		{"only a declaration", `<?xml version="1.0"?>`, ReasonBadXML},
		{"unclosed root", `<newsItem guid="a">`, ReasonBadXML},
		{"two roots", `<newsItem guid="a"><contentMeta><headline>h</headline></contentMeta></newsItem><newsItem/>`, ReasonBadXML},
		{"text after root", `<newsItem guid="a"><contentMeta><headline>h</headline></contentMeta></newsItem>junk`, ReasonBadXML},
		{"undefined entity", `<newsItem guid="a"><contentMeta><headline>&nbsp;</headline></contentMeta></newsItem>`, ReasonBadXML},
		{"html", `<html><body><p>x</p></body></html>`, ReasonUnknownRoot},
		{"groupSet", `<groupSet root="G1"/>`, ReasonFragment},
		{"other G2 element", `<foo xmlns="http://iptc.org/std/nar/2006-10-01/"/>`, ReasonFragment},
		{"element of another vocabulary", `<event><name>x</name></event>`, ReasonUnknownRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stories, err := Parse([]byte(tt.in))
			if stories != nil {
				t.Errorf("stories = %v, want none", stories)
			}
			wantReject(t, err, tt.reason)
		})
	}
}

// TestSkips checks the skip reasons of the item kinds and classes.
func TestSkips(t *testing.T) {
	tests := []struct {
		in, reason string
	}{
		{`<packageItem guid="p"/>`, ReasonPackage},
		{`<conceptItem guid="c"/>`, ReasonConcept},
		{`<knowledgeItem guid="k"/>`, ReasonKnowledge},
		{`<planningItem guid="p"/>`, ReasonPlanning},
		{`<catalogItem guid="c"/>`, ReasonCatalog},
		{`<newsItem guid="n"><itemMeta><itemClass qcode="ninat:graphic"/></itemMeta></newsItem>`, ReasonGraphic},
		{`<newsItem guid="n"><itemMeta><itemClass qcode="ninat:audio"/></itemMeta></newsItem>`, ReasonAudio},
		{`<newsItem guid="n"><itemMeta><itemClass qcode="ninat:interactive"/></itemMeta></newsItem>`, ReasonOtherClass},
		{`<newsItem guid="n"><itemMeta><itemClass qcode="ninat:text"/></itemMeta><contentSet><inlineXML/></contentSet></newsItem>`, ReasonNoText},
		{`<newsItem guid="n"><contentSet><inlineXML><events><event><name>E</name></event></events></inlineXML></contentSet></newsItem>`, ReasonNoText},
		{`<newsMessage><itemSet/></newsMessage>`, ReasonNoText},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			wantSkip(t, err, tt.reason)
		})
	}
}

// TestLimits checks that oversized, deep and crowded inputs are refused.
func TestLimits(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		_, err := Parse(make([]byte, story.MaxInputBytes+1))
		wantReject(t, err, ReasonTooLarge)
	})
	t.Run("too deep", func(t *testing.T) {
		in := `<newsItem guid="d"><contentSet><inlineXML>` + strings.Repeat("<div>", story.MaxDepth) + "x" + strings.Repeat("</div>", story.MaxDepth) + `</inlineXML></contentSet></newsItem>`
		_, err := Parse([]byte(in))
		wantReject(t, err, ReasonTooDeep)
	})
	t.Run("deep but within the limit", func(t *testing.T) {
		n := story.MaxDepth - 4
		in := `<newsItem guid="d"><contentSet><inlineXML>` + strings.Repeat("<div>", n) + "x" + strings.Repeat("</div>", n) + `</inlineXML></contentSet></newsItem>`
		st := one(t)(Parse([]byte(in)))
		if !slices.Equal(st.Body, []string{"x"}) {
			t.Errorf("body = %q", st.Body)
		}
	})
	t.Run("too many items", func(t *testing.T) {
		item := `<newsItem guid="i"><contentMeta><headline>h</headline></contentMeta></newsItem>`
		in := "<newsMessage><itemSet>" + strings.Repeat(item, story.MaxItems+1) + "</itemSet></newsMessage>"
		_, err := Parse([]byte(in))
		wantReject(t, err, ReasonTooManyItems)
	})
	t.Run("as many items as allowed", func(t *testing.T) {
		item := `<newsItem guid="i"><contentMeta><headline>h</headline></contentMeta></newsItem>`
		in := "<newsMessage><itemSet>" + strings.Repeat(item, story.MaxItems) + "</itemSet></newsMessage>"
		stories, err := Parse([]byte(in))
		if err != nil || len(stories) != story.MaxItems {
			t.Errorf("got %d stories, err %v; want %d", len(stories), err, story.MaxItems)
		}
	})
}

func TestCodes(t *testing.T) {
	tests := []struct {
		in, pubStatus, signal string
	}{
		{"stat:usable", "usable", ""},
		{"stat:withheld", "withheld", ""},
		{"stat:canceled", "canceled", ""},
		{"stat:cancelled", "canceled", ""},
		{"http://cv.iptc.org/newscodes/pubstatusg2/usable", "usable", ""},
		{"sig:update", "", "update"},
		{"sig:correction", "", "correction"},
		{"correction", "", "correction"},
		{"KILL", "", "kill"},
		{"http://cv.iptc.org/newscodes/signal/kill/", "", "kill"},
		{"sig:atomic", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := pubStatus(tt.in); got != tt.pubStatus {
			t.Errorf("pubStatus(%q) = %q, want %q", tt.in, got, tt.pubStatus)
		}
		if got := signal(tt.in); got != tt.signal {
			t.Errorf("signal(%q) = %q, want %q", tt.in, got, tt.signal)
		}
	}
}

func TestParseDateline(t *testing.T) {
	tests := []struct {
		in   string
		want *story.Dateline
	}{
		{"MOSCOW, Monday (Reuters)", &story.Dateline{Place: "MOSCOW", Date: "Monday", Agency: "Reuters"}},
		{"WASHINGTON, D.C., Jan. 5 (AP) --", &story.Dateline{Place: "WASHINGTON", Date: "Jan. 5", Agency: "AP"}},
		{"Berlin (dpa)", &story.Dateline{Place: "Berlin", Agency: "dpa"}},
		{"  NEW YORK  ", &story.Dateline{Place: "NEW YORK"}},
		{"LIMA, Peru, May 2", &story.Dateline{Place: "LIMA", Date: "May 2"}},
		{"", nil},
		{" - ", nil},
	}
	for _, tt := range tests {
		got := parseDateline(tt.in)
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("parseDateline(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestPickName(t *testing.T) {
	names := []langText{{"en-GB", "labour market"}, {"de", "Arbeitsmarkt"}, {"", "plain"}}
	tests := []struct{ lang, want string }{
		{"en-GB", "labour market"},
		{"en", "labour market"},
		{"de-AT", "Arbeitsmarkt"},
		{"fr", "plain"},
		{"", "plain"},
	}
	for _, tt := range tests {
		if got := pickName(names, tt.lang); got != tt.want {
			t.Errorf("pickName(%q) = %q, want %q", tt.lang, got, tt.want)
		}
	}
	if got := pickName([]langText{{"de", "A"}, {"fr", "B"}}, "en"); got != "A" {
		t.Errorf("pickName without a match = %q, want the first", got)
	}
}

func TestHTMLContent(t *testing.T) {
	tests := []struct {
		name, in string
		paras    []string
		captions []string
	}{
		{"paragraphs and breaks", "<p>One<br>Two</p><p>Three</p>", []string{"One", "Two", "Three"}, nil},
		{"unclosed paragraphs", "<p>One<p>Two<div>Three", []string{"One", "Two", "Three"}, nil},
		{"entities and inline markup", "<p>A &amp; <b>B</b>&nbsp;C</p>", []string{"A & B C"}, nil},
		{"dropped elements", "<script>x</script><style>y</style><p>Text<img src=a></p><iframe>z</iframe>", []string{"Text"}, nil},
		{"figure caption", "<figure><img src=a><figcaption>Cap</figcaption></figure><p>T</p>", []string{"T"}, []string{"Cap"}},
		{"table rows", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", []string{"a | b", "c"}, nil},
		{"stray end tags", "</div></p><p>x</p></span>", []string{"x"}, nil},
		{"unclosed dropped element", "<p>x</p><script>never closed", []string{"x"}, nil},
		{"pre", "<pre>a\nb\n\nc</pre>", []string{"a b", "c"}, nil},
		{"empty", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := htmlContent(tt.in)
			if !slices.Equal(c.paras, tt.paras) || !slices.Equal(c.captions, tt.captions) {
				t.Errorf("htmlContent(%q) = %q captions %q, want %q captions %q", tt.in, c.paras, c.captions, tt.paras, tt.captions)
			}
		})
	}
}

func TestXMLContent(t *testing.T) {
	tests := []struct {
		name, in string
		paras    []string // nil with ok false: not read
		ok       bool
	}{
		{"nitf", `<nitf><body><body.head><hedline><hl1>H</hl1></hedline></body.head><body.content><p>a</p><p>b</p></body.content></body></nitf>`, []string{"a", "b"}, true},
		{"xhtml", `<html xmlns="http://www.w3.org/1999/xhtml"><body><p>a</p></body></html>`, []string{"a"}, true},
		{"not text", `<sports-content><name>x</name></sports-content>`, nil, false},
		{"broken", `<p>a`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := xmlContent(tt.in)
			if (c != nil) != tt.ok {
				t.Fatalf("xmlContent(%q) = %v, want read: %v", tt.in, c, tt.ok)
			}
			if c != nil && !slices.Equal(c.paras, tt.paras) {
				t.Errorf("xmlContent(%q) = %q, want %q", tt.in, c.paras, tt.paras)
			}
		})
	}
}

// TestInlineData checks the content types inlineData is read by.
func TestInlineData(t *testing.T) {
	tests := []struct {
		raw, contentType, encoding string
		want                       []string
	}{
		{"a\nb", "", "", []string{"a", "b"}},
		{"a\n\nb\nc", "text/plain; charset=utf-8", "", []string{"a", "b c"}},
		{"<p>a</p><p>b</p>", "text/html", "", []string{"a", "b"}},
		{"<nitf><body><body.content><p>a</p></body.content></body></nitf>", "application/nitf+xml", "", []string{"a"}},
		{"YQoKYg==", "text/plain", "base64", []string{"a", "b"}},
		{"not base64!", "text/plain", "base64", nil},
		{"GIF89a", "image/gif", "", nil},
	}
	for _, tt := range tests {
		c := inlineData(tt.raw, tt.contentType, tt.encoding)
		var got []string
		if c != nil {
			got = c.paras
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("inlineData(%q, %q, %q) = %q, want %q", tt.raw, tt.contentType, tt.encoding, got, tt.want)
		}
	}
}

// TestTitleChoice checks the order in which the title is chosen.
func TestTitleChoice(t *testing.T) {
	nitf := `<contentSet><inlineXML><nitf><head><title>Doc</title></head><body><body.head><hedline><hl1>HL1</hl1></hedline></body.head><body.content><p>HL1</p><p>Text</p></body.content></body></nitf></inlineXML></contentSet>`
	tests := []struct {
		name, meta, content, want string
	}{
		{"headline", `<contentMeta><slugline>SLUG</slugline><headline>Head</headline></contentMeta>`, nitf, "Head"},
		{"hl1", `<contentMeta><slugline>SLUG</slugline></contentMeta>`, nitf, "HL1"},
		{"item title", `<contentMeta><slugline>SLUG</slugline></contentMeta>`, `<contentSet><inlineData>x</inlineData></contentSet>`, "Meta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := `<itemMeta><itemClass qcode="ninat:text"/>`
			if tt.name == "item title" {
				meta += `<title>Meta</title>`
			}
			meta += `</itemMeta>`
			st := one(t)(Parse([]byte(`<newsItem guid="t">` + meta + tt.meta + tt.content + `</newsItem>`)))
			if st.Title != tt.want {
				t.Errorf("title = %q, want %q", st.Title, tt.want)
			}
			if tt.name == "hl1" && !slices.Equal(st.Body, []string{"Text"}) {
				t.Errorf("body = %q, want the repeated headline dropped", st.Body)
			}
		})
	}
	st := one(t)(Parse([]byte(`<newsItem guid="t"><contentMeta><slugline>SLUG</slugline></contentMeta><contentSet><inlineData>x</inlineData></contentSet></newsItem>`)))
	if st.Title != "SLUG" {
		t.Errorf("title = %q, want the slugline as the last resort", st.Title)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`<?xml version="1.0"?><newsItem guid="a"/>`, true},
		{"\uFEFF\n <newsMessage>", true},
		{`<contentSet xmlns="http://iptc.org/std/nar/2006-10-01/"/>`, true},
		{`<!-- a comment --><!DOCTYPE g2><g2:groupSet xmlns:g2="x"/>`, true},
		{`<contentMeta><headline>h</headline></contentMeta>`, true},
		{`<rss><channel><title>newsItem</title></channel></rss>`, false},
		{`<html><body>http://iptc.org/std/nar/2006-10-01/</body></html>`, false},
		{`<?xml version="1.0"`, false},
		{`{"type": "<newsItem"}`, false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Sniff(tt.in); got != tt.want {
			t.Errorf("Sniff(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestDecodedInput checks that text already decoded from a legacy charset,
// whose declaration still names it, is read right.
func TestDecodedInput(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "latin1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	raw := one(t)(Parse(b))
	text, _, _ := textfix.Decode(b, "")
	decoded := one(t)(Parse([]byte(text)))
	if decoded.Title != raw.Title || !slices.Equal(decoded.Body, raw.Body) || raw.Title != "Café déjà vu – über alles" {
		t.Errorf("raw %q %q, decoded %q %q", raw.Title, raw.Body, decoded.Title, decoded.Body)
	}
	if !slices.Equal(raw.Fixes, []string{"charset:windows-1252"}) || !slices.Equal(decoded.Fixes, []string{"charset:mislabelled:utf-8"}) {
		t.Errorf("fixes: raw %q, decoded %q", raw.Fixes, decoded.Fixes)
	}
}
