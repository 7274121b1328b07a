package newstext

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"
	"unicode/utf8"
)

func TestParagraphs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" \n\t\n", nil},
		{"one line", []string{"one line"}},
		{"a\nb\nc", []string{"a", "b", "c"}},
		{"  a  \r\n\r\n b\r\n", []string{"a", "b"}},
		{"a\rb", []string{"a", "b"}},
		{"first line\nwraps here\n\nsecond  para\n", []string{"first line wraps here", "second para"}},
		{"\n\n\na\n  \n\n\tb\nc\n\n", []string{"a", "b c"}},
		{"\ufeffword\u00a0\u00a0word\tword", []string{"word word word"}},
	}
	for _, tt := range tests {
		if got := Paragraphs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Paragraphs(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitDateline(t *testing.T) {
	tests := []struct {
		in   string
		want Dateline
		rest string
	}{
		{"BEIJING, May 1 (Xinhua) -- China firmly supports", Dateline{"BEIJING", "May 1", "Xinhua"}, "China firmly supports"},
		{"WASHINGTON (AP) — The Senate voted", Dateline{"WASHINGTON", "", "AP"}, "The Senate voted"},
		{"WASHINGTON (AP) —The Senate voted", Dateline{"WASHINGTON", "", "AP"}, "The Senate voted"},
		{"PARIS, 3 mai (AFP) - Le gouvernement", Dateline{"PARIS", "3 mai", "AFP"}, "Le gouvernement"},
		{"LIMA, Peru, May 2 (Reuters) - Peru's president", Dateline{"LIMA", "May 2", "Reuters"}, "Peru's president"},
		{"BERLIN (dpa) - Die Regierung", Dateline{"BERLIN", "", "dpa"}, "Die Regierung"},
		{"Berlin (dpa) - Die Regierung", Dateline{"Berlin", "", "dpa"}, "Die Regierung"},
		{"Frankfurt am Main (dpa-AFX) – Der Dax", Dateline{"Frankfurt am Main", "", "dpa-AFX"}, "Der Dax"},
		{"Hamburg, 1. Mai (dpa) - Der Hafen", Dateline{"Hamburg", "1. Mai", "dpa"}, "Der Hafen"},
		{"RIO DE JANEIRO, May 1 (Xinhua)--Rain fell", Dateline{"RIO DE JANEIRO", "May 1", "Xinhua"}, "Rain fell"},
		{"Rio de Janeiro, 1 de maio (Lusa) – Chuva", Dateline{"Rio de Janeiro", "1 de maio", "Lusa"}, "Chuva"},
		{"ST. PETERSBURG, Russia, Jan. 5 (TASS) -- Snow", Dateline{"ST. PETERSBURG", "Jan. 5", "TASS"}, "Snow"},
		{"NEW YORK, May 1, 2020 (Reuters) - Stocks", Dateline{"NEW YORK", "May 1, 2020", "Reuters"}, "Stocks"},
		{"PORT-AU-PRINCE (AP) — Gangs", Dateline{"PORT-AU-PRINCE", "", "AP"}, "Gangs"},
		{"  WASHINGTON — The Senate", Dateline{"WASHINGTON", "", ""}, "The Senate"},
		{"PORTHAVEN, March 14 (Meridian) -- Dense fog", Dateline{"PORTHAVEN", "March 14", "Meridian"}, "Dense fog"},
		{"Porthaven, March 14 (Meridian) -- Dense fog", Dateline{"Porthaven", "March 14", "Meridian"}, "Dense fog"},
		{"МОСКВА, 1 мая (ТАСС) -- Снег", Dateline{"МОСКВА", "1 мая", "ТАСС"}, "Снег"},
		{"GDAŃSK, 5 stycznia (PAP) - Mróz", Dateline{"GDAŃSK", "5 stycznia", "PAP"}, "Mróz"},
	}
	for _, tt := range tests {
		d, rest, ok := SplitDateline(tt.in)
		if !ok || d != tt.want || rest != tt.rest {
			t.Errorf("SplitDateline(%q)\n got %+v, %q, %v\nwant %+v, %q, true", tt.in, d, rest, ok, tt.want, tt.rest)
		}
	}
}

func TestSplitDatelineNegatives(t *testing.T) {
	for _, in := range []string{
		"",
		"China firmly supports the Peruvian government.",
		"Xi said (in a call) -- that China supports Peru.",
		"Apple (AAPL) - shares rose 3 percent.",
		"Mr. Smith (R-Texas) -- who chairs the panel -- said no.",
		"The meeting (WHO) - held in Geneva - ended.",
		"In 2020 (WHO) - the agency said.",
		"COVID-19 (Xinhua) -- cases rose.",
		"Ministers met in Paris (France) -- and agreed.",
		"Prices rose 3-4 percent on Monday - a record.",
		"The well-known Jean-Pierre Dupont said it.",
		"BEIJING, May 1 (Xinhua) --",
		"BEIJING, May 1 (Xinhua) --   ",
		"\"We will win,\" he said (AP) -- later.",
		"NATO, the alliance, and its partners -- all of them.",
		"Shares of Tesla (TSLA) -- the carmaker -- fell.",
		"Berlin (Hauptstadt) - die Stadt",
		"Berlin - die Stadt",
		"Olympiakos (Piraeus) - Panathinaikos 2-1",
		"WASHINGTON, the capital, May 1 and later, in spring (AP) -- x",
		"A B C D E F (AP) -- too many words",
		"BEIJING (in a long parenthesis that is not an agency at all) -- x",
		"BEIJING (Xinhua) " + strings.Repeat("x", 200) + " -- late",
	} {
		if d, rest, ok := SplitDateline(in); ok || rest != in {
			t.Errorf("SplitDateline(%q) = %+v, %q, %v; want no dateline", in, d, rest, ok)
		}
	}
}

func TestIsCaption(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Passengers wear protective masks on March 6, 2020. (Photo by Ana Torres/Xinhua)", true},
		{"A woman walks on a street in Lima, Peru, on March 6, 2020. (Xinhua/Luis Mendez/ANDINA)", true},
		{"Senators leave the chamber. (AP Photo/Jane Doe)", true},
		{"Smoke rises over the port. (REUTERS/John Smith)", true},
		{"Der Hafen am Morgen. (dpa/Max Muster)", true},
		{"Fans celebrate. (Photo: Ana Lima/Andes Press)", true},
		{"Fans celebrate. (Foto: dpa)", true},
		{"Un barco en el puerto. (Foto de Ana Lima/Andes Press)", true},
		{"Visitors at the fair. [Photo/VCG]", true},
		{"Visitors at the fair. (Xinhua/Li Xin).", true},
		{"Snow in Moscow. (Фото: Иван Петров/Волга)  ", true},
		{"(Photo by Tom Ashdown/Meridian)", true},
		{"A storm hit the coast. (Video by Lea Brun/Rhone Presse)", true},
		{"Xi supports the leading role of the World Health Organization (WHO).", false},
		{"Growth was 3 percent (year/year).", false},
		{"The euro rose 0.5 percent (EUR/USD).", false},
		{"Wind reached 90 (km/h)", false},
		{"See the chart (page 3/4).", false},
		{"The photo (which was taken in 2019) shows him.", false},
		{"He took a photo (photo) of it.", false},
		{"The agency said so.", false},
		{"", false},
		{")", false},
		{"unbalanced (Xinhua/Li Xin", false},
		{"The council voted (Smith/Jones/Brown/Green/White) on it.", false},
	}
	for _, tt := range tests {
		if got := IsCaption(tt.in); got != tt.want {
			t.Errorf("IsCaption(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestStripEndMark(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		removed bool
	}{
		{nil, nil, false},
		{[]string{"a", "■"}, []string{"a"}, true},
		{[]string{"a", " □ "}, []string{"a"}, true},
		{[]string{"a", "■ ■"}, []string{"a"}, true},
		{[]string{"a", "(END)"}, []string{"a"}, true},
		{[]string{"a", "(Ends)"}, []string{"a"}, true},
		{[]string{"a", "ENDS"}, []string{"a"}, true},
		{[]string{"a", "-- END --"}, []string{"a"}, true},
		{[]string{"a", "###"}, []string{"a"}, true},
		{[]string{"a", "xxx", ""}, []string{"a"}, true},
		{[]string{"a", "(END)", "xxx"}, []string{"a"}, true},
		{[]string{"Der Hafen bleibt zu.", "(Ende)"}, []string{"Der Hafen bleibt zu."}, true},
		{[]string{"a", "The port reopens on Monday. ■"}, []string{"a", "The port reopens on Monday."}, true},
		{[]string{"The port reopens on Monday.■"}, []string{"The port reopens on Monday."}, true},
		{[]string{"The port reopens on Monday. (END)"}, []string{"The port reopens on Monday."}, true},
		{[]string{"He said: \"We go on.\" ENDS"}, []string{"He said: \"We go on.\""}, true},
		{[]string{"The port reopens on Monday. ###"}, []string{"The port reopens on Monday."}, true},
		{[]string{"■"}, []string{}, true},
		{[]string{"a", "They reached the end"}, []string{"a", "They reached the end"}, false},
		{[]string{"a", "They reached the END"}, []string{"a", "They reached the END"}, false},
		{[]string{"Trend: xxx"}, []string{"Trend: xxx"}, false},
		{[]string{"Legends"}, []string{"Legends"}, false},
		{[]string{"a", "b"}, []string{"a", "b"}, false},
		{[]string{"a", ""}, []string{"a", ""}, false},
		{[]string{"a", "The end"}, []string{"a", "The end"}, false},
	}
	for _, tt := range tests {
		orig := append([]string(nil), tt.in...)
		got, removed := StripEndMark(tt.in)
		if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) || removed != tt.removed {
			t.Errorf("StripEndMark(%q)\n got %q, %v\nwant %q, %v", tt.in, got, removed, tt.want, tt.removed)
		}
		if !reflect.DeepEqual(tt.in, orig) {
			t.Errorf("StripEndMark(%q) modified its input to %q", orig, tt.in)
		}
	}
}

func TestParseTime(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// want is the instant in UTC.
	tests := []struct {
		in      string
		loc     *time.Location
		want    string
		assumed bool
	}{
		{"2020-05-01 10:15:28", shanghai, "2020-05-01T02:15:28Z", true},
		// Feeds in the corpus: a military zone, no comma after the day,
		// Portuguese and German month and weekday names.
		{"Tue, 15 Nov 2022 20:15:04 Z", nil, "2022-11-15T20:15:04Z", false},
		{"Sat, Dec 16 2023 02:02:33 PM", nil, "2023-12-16T14:02:33Z", true},
		{"Seg, 24 Set 2018 19:42:40 -0300", nil, "2018-09-24T22:42:40Z", false},
		{"25. Okt 2024 10:37", berlin, "2024-10-25T08:37:00Z", true},
		{"3 mai 2024", nil, "2024-05-03T00:00:00Z", true},
		{"  2020-05-01   10:15:28 ", shanghai, "2020-05-01T02:15:28Z", true},
		{"2020-05-01T10:15:28", shanghai, "2020-05-01T02:15:28Z", true},
		{"2020-05-01 10:15:28.250", nil, "2020-05-01T10:15:28.25Z", true},
		{"2020-05-01 10:15", berlin, "2020-05-01T08:15:00Z", true},
		{"2020-05-01", shanghai, "2020-04-30T16:00:00Z", true},
		{"2020/05/01 10:15", nil, "2020-05-01T10:15:00Z", true},
		{"01.05.2020 10:15", berlin, "2020-05-01T08:15:00Z", true},
		{"1.5.2020", nil, "2020-05-01T00:00:00Z", true},
		{"01.05.2020, 10:15", nil, "2020-05-01T10:15:00Z", true},
		{"May 1, 2020 10:15", nil, "2020-05-01T10:15:00Z", true},
		{"may 1, 2020 10:15 pm", nil, "2020-05-01T22:15:00Z", true},
		{"January 12, 2021", nil, "2021-01-12T00:00:00Z", true},
		{"Jan. 12, 2021", nil, "2021-01-12T00:00:00Z", true},
		{"1 May 2020", nil, "2020-05-01T00:00:00Z", true},
		{"12 January 2021 08:00", berlin, "2021-01-12T07:00:00Z", true},
		{"Fri, 1 May 2020 10:15:28", nil, "2020-05-01T10:15:28Z", true},
		{"20200501T101528", nil, "2020-05-01T10:15:28Z", true},
		{"20200501", nil, "2020-05-01T00:00:00Z", true},
		{"2020-05-01T10:15:28+08:00", berlin, "2020-05-01T02:15:28Z", false},
		{"2020-05-01T02:15:28Z", shanghai, "2020-05-01T02:15:28Z", false},
		{"2020-05-01T02:15:28.123456Z", nil, "2020-05-01T02:15:28.123456Z", false},
		{"2020-05-01T10:15:28+0800", nil, "2020-05-01T02:15:28Z", false},
		{"2020-05-01 10:15:28+08:00", nil, "2020-05-01T02:15:28Z", false},
		{"2020-05-01 10:15:28 +0800", nil, "2020-05-01T02:15:28Z", false},
		{"2020-05-01 02:15:28 UTC", shanghai, "2020-05-01T02:15:28Z", false},
		{"Fri, 01 May 2020 10:15:28 +0800", nil, "2020-05-01T02:15:28Z", false},
		{"Fri, 1 May 2020 02:15:28 GMT", shanghai, "2020-05-01T02:15:28Z", false},
		{"fri, 01 may 2020 02:15:28 GMT", nil, "2020-05-01T02:15:28Z", false},
		{"Fri, 01 May 2020 10:15 +0800", nil, "2020-05-01T02:15:00Z", false},
		{"01 May 2020 10:15:28 +0800", nil, "2020-05-01T02:15:28Z", false},
		{"Fri, 01 May 20 10:15:28 +0800", nil, "2020-05-01T02:15:28Z", false},
		{"Fri, 01 May 2020 10:15:28 CST", shanghai, "2020-05-01T02:15:28Z", false},
		{"Fri, 01 May 2020 10:15:28 CST", nil, "2020-05-01T16:15:28Z", false},
		{"Fri, 01 May 2020 10:15:28 CEST", nil, "2020-05-01T08:15:28Z", false},
		{"Fri, 01 May 2020 10:15:28 CEST", berlin, "2020-05-01T08:15:28Z", false},
		{"Fri, 01 May 2020 10:15:28 EDT", nil, "2020-05-01T14:15:28Z", false},
		{"Friday, 01-May-20 10:15:28 MSK", nil, "2020-05-01T07:15:28Z", false},
		{"Fri May  1 10:15:28 UTC 2020", nil, "2020-05-01T10:15:28Z", false},
		{"May 1, 2020 10:15 PDT", nil, "2020-05-01T17:15:00Z", false},
	}
	for _, tt := range tests {
		got, assumed, err := ParseTime(tt.in, tt.loc)
		if err != nil {
			t.Errorf("ParseTime(%q, %v): unexpected error %v", tt.in, tt.loc, err)
			continue
		}
		if s := got.UTC().Format(time.RFC3339Nano); s != tt.want || assumed != tt.assumed {
			t.Errorf("ParseTime(%q, %v)\n got %s (%v), assumed %v\nwant %s, assumed %v", tt.in, tt.loc, s, got, assumed, tt.want, tt.assumed)
		}
		if assumed && tt.loc != nil && got.Location() != tt.loc {
			t.Errorf("ParseTime(%q, %v) location = %v, want %v", tt.in, tt.loc, got.Location(), tt.loc)
		}
	}
}

func TestParseTimeKeepsOffset(t *testing.T) {
	got, _, err := ParseTime("2020-05-01T10:15:28+08:00", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Format(time.RFC3339); s != "2020-05-01T10:15:28+08:00" {
		t.Errorf("ParseTime kept offset: got %s, want 2020-05-01T10:15:28+08:00", s)
	}
}

func TestParseTimeErrors(t *testing.T) {
	for _, in := range []string{
		"", "   ", "yesterday", "2020-13-01", "2020-02-30 10:00", "05/01/2020",
		"Fri, 01 May 2020 10:15:28 XYZ", "Fri, 01 May 2020 10:15:28 GMT+3",
		"2020-05-01 25:00", strings.Repeat("2020", 30),
	} {
		got, assumed, err := ParseTime(in, nil)
		if !errors.Is(err, ErrBadTime) {
			t.Errorf("ParseTime(%q) = %v, %v, %v; want ErrBadTime", in, got, assumed, err)
		}
	}
}

func FuzzSplitDateline(f *testing.F) {
	for _, s := range []string{
		"BEIJING, May 1 (Xinhua) -- China firmly supports",
		"WASHINGTON (AP) — The Senate",
		"Berlin (dpa) - Die",
		"Xi said (in a call) -- that",
		"ST. PETERSBURG, Russia, Jan. 5 (TASS) -- Snow",
		"((((--",
		"A (B) - \xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		d, rest, ok := SplitDateline(p)
		if !ok {
			if rest != p || d != (Dateline{}) {
				t.Fatalf("SplitDateline(%q) = %+v, %q, false; want zero Dateline and p", p, d, rest)
			}
			return
		}
		if d.Place == "" || rest == "" || len(rest) >= len(p) || !strings.HasSuffix(p, rest) {
			t.Fatalf("SplitDateline(%q) = %+v, %q: inconsistent split", p, d, rest)
		}
		if utf8.ValidString(p) && !utf8.ValidString(rest) {
			t.Fatalf("SplitDateline(%q) rest %q is not valid UTF-8", p, rest)
		}
		IsCaption(p)
		StripEndMark([]string{p, rest})
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2020-05-01 10:15:28", "2020-05-01T10:15:28+08:00", "Fri, 01 May 2020 10:15:28 CST",
		"May 1, 2020 10:15", "01.05.2020 10:15", "20200501T101528", "Fri, 01 May 2020 10:15:28 GMT+3",
	} {
		f.Add(s)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, loc := range []*time.Location{nil, shanghai} {
			got, assumed, err := ParseTime(s, loc)
			if err != nil {
				if !errors.Is(err, ErrBadTime) || !got.IsZero() || assumed {
					t.Fatalf("ParseTime(%q) = %v, %v, %v", s, got, assumed, err)
				}
				continue
			}
			if got.IsZero() && !strings.Contains(s, "0001") {
				t.Fatalf("ParseTime(%q) = zero time without error", s)
			}
		}
	})
}
