package demo

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirefeed/wirefeed/internal/newstext"
	"github.com/wirefeed/wirefeed/internal/profile"
	"github.com/wirefeed/wirefeed/internal/textdump"
)

// sample is what each sample is meant to be.
type sample struct {
	reason   string // textdump.Reason of parsing it; "" when it parses
	slug     string // source profile
	damage   string // "cp1252" or "cp1251": UTF-8 read as that code page
	crlfBOM  bool   // CRLF line ends and a byte order mark
	captions int
	place    string // dateline place, "" for none
	endMark  bool
}

var samples = map[string]sample{
	"01-meridian-harbour-fog.txt":             {slug: "meridian", captions: 1, place: "PORTHAVEN", endMark: true},
	"02-meridian-county-cup-final.txt":        {slug: "meridian", captions: 1, place: "ASHBURY", endMark: true},
	"03-meridian-kestrel-bank-shares.txt":     {slug: "meridian", place: "CALDERBRIDGE", endMark: true},
	"04-meridian-amateur-comet.txt":           {slug: "meridian", captions: 1, place: "HIGHMOOR", endMark: true},
	"05-nordkap-sturmflut-halligstadt.txt":    {slug: "nordkap", captions: 1, place: "HALLIGSTADT", endMark: true},
	"06-nordkap-haushalt-kellmuende.txt":      {slug: "nordkap", place: "KELLMÜNDE", endMark: true},
	"07-rhone-presse-vendanges-valbrune.txt":  {slug: "rhone-presse", captions: 1, place: "VALBRUNE", endMark: true},
	"08-rhone-presse-grand-prix-collines.txt": {slug: "rhone-presse", place: "SAINT-ALBAN-DES-COLLINES", endMark: true},
	"09-andes-press-lluvias-huancara.txt":     {slug: "andes-press", captions: 1, place: "HUANCARÁ", endMark: true},
	"10-andes-press-bolsa-mineras.txt":        {slug: "andes-press", place: "VALDEANDES"},
	"11-atlantico-estrela-do-mar.txt":         {slug: "atlantico", captions: 1, place: "PORTO DAS GARÇAS", endMark: true},
	"12-atlantico-satelite-universitario.txt": {slug: "atlantico", place: "SÃO VICENTE DO NORTE"},
	"13-volga-telegraf-ledokhod.txt":          {slug: "volga-telegraf", captions: 1, place: "ЗАРЕЧЕНСК", endMark: true},
	"14-volga-telegraf-avtobusy.txt":          {slug: "volga-telegraf", place: "ЗАРЕЧЕНСК", endMark: true},
	"15-baltic-wire-mroz-zlotowo.txt":         {slug: "baltic-wire", captions: 1, place: "ZŁOTOWO", endMark: true},
	"16-baltic-wire-sciezki-rowerowe.txt":     {slug: "baltic-wire", crlfBOM: true, place: "ZŁOTOWO", endMark: true},
	"17-meridian-rail-strike.txt":             {slug: "meridian", damage: "cp1252", captions: 1, place: "WESTBRIDGE", endMark: true},
	"18-nordkap-boerse-hafenau.txt":           {slug: "nordkap", damage: "cp1252", place: "HAFENAU", endMark: true},
	"19-rhone-presse-orages-montclair.txt":    {slug: "rhone-presse", damage: "cp1252", captions: 1, place: "MONTCLAIR-SUR-ROCHE", endMark: true},
	"20-andes-press-volcan-tacuma.txt":        {slug: "andes-press", damage: "cp1252", captions: 1, place: "TACUMA", endMark: true},
	"21-volga-telegraf-khokkei.txt":           {slug: "volga-telegraf", damage: "cp1251", place: "ЗАРЕЧЕНСК", endMark: true},
	"22-meridian-riverbank-trees.txt":         {reason: "not_textdump"},
	"23-nordkap-eilmeldung-ohne-text.txt":     {reason: "no_body"},
	"24-andes-press-sin-titular.txt":          {reason: "missing_title"},
}

// The characters that bytes 0x80 to 0xFF stand for in windows-1252 and
// windows-1251; bytes that a code page leaves undefined stand for the C1
// control of the same value, as lenient decoders read them.
const (
	cp1252High = "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178\u00a0\u00a1\u00a2\u00a3\u00a4\u00a5\u00a6\u00a7\u00a8\u00a9\u00aa\u00ab\u00ac\u00ad\u00ae\u00af\u00b0\u00b1\u00b2\u00b3\u00b4\u00b5\u00b6\u00b7\u00b8\u00b9\u00ba\u00bb\u00bc\u00bd\u00be\u00bf\u00c0\u00c1\u00c2\u00c3\u00c4\u00c5\u00c6\u00c7\u00c8\u00c9\u00ca\u00cb\u00cc\u00cd\u00ce\u00cf\u00d0\u00d1\u00d2\u00d3\u00d4\u00d5\u00d6\u00d7\u00d8\u00d9\u00da\u00db\u00dc\u00dd\u00de\u00df\u00e0\u00e1\u00e2\u00e3\u00e4\u00e5\u00e6\u00e7\u00e8\u00e9\u00ea\u00eb\u00ec\u00ed\u00ee\u00ef\u00f0\u00f1\u00f2\u00f3\u00f4\u00f5\u00f6\u00f7\u00f8\u00f9\u00fa\u00fb\u00fc\u00fd\u00fe\u00ff"
	cp1251High = "\u0402\u0403\u201a\u0453\u201e\u2026\u2020\u2021\u20ac\u2030\u0409\u2039\u040a\u040c\u040b\u040f\u0452\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u0098\u2122\u0459\u203a\u045a\u045c\u045b\u045f\u00a0\u040e\u045e\u0408\u00a4\u0490\u00a6\u00a7\u0401\u00a9\u0404\u00ab\u00ac\u00ad\u00ae\u0407\u00b0\u00b1\u0406\u0456\u0491\u00b5\u00b6\u00b7\u0451\u2116\u0454\u00bb\u0458\u0405\u0455\u0457\u0410\u0411\u0412\u0413\u0414\u0415\u0416\u0417\u0418\u0419\u041a\u041b\u041c\u041d\u041e\u041f\u0420\u0421\u0422\u0423\u0424\u0425\u0426\u0427\u0428\u0429\u042a\u042b\u042c\u042d\u042e\u042f\u0430\u0431\u0432\u0433\u0434\u0435\u0436\u0437\u0438\u0439\u043a\u043b\u043c\u043d\u043e\u043f\u0440\u0441\u0442\u0443\u0444\u0445\u0446\u0447\u0448\u0449\u044a\u044b\u044c\u044d\u044e\u044f"
)

// undamage reverses the damage: it writes each character back as the byte
// the code page has for it and reads the bytes as UTF-8. ok is false when a
// character has no byte in the code page or the bytes are not UTF-8.
func undamage(s, codePage string) (string, bool) {
	high := map[string]string{"cp1252": cp1252High, "cp1251": cp1251High}[codePage]
	if high == "" {
		return "", false
	}
	byteOf := make(map[rune]byte, 128)
	i := 0
	for _, r := range high {
		byteOf[r] = byte(0x80 + i)
		i++
	}
	var b []byte
	for _, r := range s {
		switch c, ok := byteOf[r]; {
		case r < 0x80:
			b = append(b, byte(r))
		case ok:
			b = append(b, c)
		default:
			return "", false
		}
	}
	return string(b), utf8.Valid(b)
}

// hiddenRunes counts the places where consecutive characters of s, written
// as bytes of the code page, make one multi-byte UTF-8 character: the trace
// that UTF-8 read as that code page leaves. Clean text has none.
func hiddenRunes(s, codePage string) int {
	high := map[string]string{"cp1252": cp1252High, "cp1251": cp1251High}[codePage]
	byteOf := make(map[rune]byte, 128)
	i := 0
	for _, r := range high {
		byteOf[r] = byte(0x80 + i)
		i++
	}
	var bs []int // the bytes of s in the code page, -1 where there is none
	for _, r := range s {
		switch c, ok := byteOf[r]; {
		case r < 0x80:
			bs = append(bs, int(r))
		case ok:
			bs = append(bs, int(c))
		default:
			bs = append(bs, -1)
		}
	}
	count := 0
	for i := 0; i < len(bs); i++ {
		var n int
		switch b := bs[i]; {
		case b >= 0xC2 && b <= 0xDF:
			n = 1
		case b >= 0xE0 && b <= 0xEF:
			n = 2
		case b >= 0xF0 && b <= 0xF4:
			n = 3
		default:
			continue
		}
		if i+n >= len(bs) {
			continue
		}
		seq := make([]byte, 0, n+1)
		for _, b := range bs[i : i+n+1] {
			if b < 0 {
				break
			}
			seq = append(seq, byte(b))
		}
		if r, size := utf8.DecodeRune(seq); r != utf8.RuneError && size == n+1 {
			count++
			i += n
		}
	}
	return count
}

func TestSamplesAreListed(t *testing.T) {
	names, err := fs.Glob(Samples, "samples/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, n := range names {
		got = append(got, path.Base(n))
	}
	for n := range samples {
		want = append(want, n)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("embedded samples\n got %q\nwant %q", got, want)
	}
	if len(got) != 24 {
		t.Errorf("%d samples, want 24", len(got))
	}
}

func TestSamples(t *testing.T) {
	for name, want := range samples {
		t.Run(name, func(t *testing.T) {
			b, err := Samples.ReadFile("samples/" + name)
			if err != nil {
				t.Fatal(err)
			}
			raw := string(b)
			if !utf8.ValidString(raw) {
				t.Fatal("sample is not valid UTF-8")
			}
			hasCRLF, hasBOM := strings.Contains(raw, "\r\n"), strings.HasPrefix(raw, "\ufeff")
			if hasCRLF != want.crlfBOM || hasBOM != want.crlfBOM {
				t.Errorf("CRLF %v, BOM %v; want both %v", hasCRLF, hasBOM, want.crlfBOM)
			}

			text := raw
			if want.damage != "" {
				if n := hiddenRunes(raw, want.damage); n < 5 {
					t.Errorf("damaged sample hides %d UTF-8 characters, want at least 5", n)
				}
				// The headers are ASCII, so the damaged item parses as it is.
				if _, err := textdump.Parse(raw); err != nil {
					t.Errorf("Parse(damaged sample) = %v, want it to parse", err)
				}
				fixed, ok := undamage(raw, want.damage)
				if !ok || fixed == raw {
					t.Fatalf("sample is not UTF-8 text read as %s", want.damage)
				}
				text = fixed
			}
			for _, cp := range []string{"cp1252", "cp1251"} {
				if n := hiddenRunes(text, cp); n > 0 {
					t.Errorf("clean text hides %d UTF-8 characters as %s", n, cp)
				}
			}

			doc, err := textdump.Parse(text)
			if got := textdump.Reason(err); got != want.reason {
				t.Fatalf("Parse: reason %q (%v), want %q", got, err, want.reason)
			}
			if err != nil {
				return
			}

			p, ok := profile.Lookup(doc.URL, doc.ID)
			if !ok || p.Slug != want.slug {
				t.Errorf("profile.Lookup(%q, %q) = %q, %v; want %q", doc.URL, doc.ID, p.Slug, ok, want.slug)
			}
			if pu, _ := profile.Lookup(doc.URL, ""); pu.Slug != p.Slug {
				t.Errorf("URL %q gives profile %q, ID %q gives %q", doc.URL, pu.Slug, doc.ID, p.Slug)
			}
			if pi, _ := profile.Lookup("", doc.ID); pi.Slug != p.Slug {
				t.Errorf("ID %q gives profile %q, URL %q gives %q", doc.ID, pi.Slug, doc.URL, p.Slug)
			}
			if !strings.HasPrefix(name[3:], want.slug+"-") {
				t.Errorf("file name does not carry the agency slug %q", want.slug)
			}
			if _, assumed, err := newstext.ParseTime(doc.Date, p.Loc()); err != nil || !assumed {
				t.Errorf("ParseTime(%q, %v) = assumed %v, %v; want a local time", doc.Date, p.Loc(), assumed, err)
			}

			body, endMark := newstext.StripEndMark(doc.Body)
			if endMark != want.endMark {
				t.Errorf("end mark removed %v, want %v; last line %q", endMark, want.endMark, doc.Body[len(doc.Body)-1])
			}
			var captions int
			var text0 string
			for _, para := range body {
				if newstext.IsCaption(para) {
					captions++
				} else if text0 == "" {
					text0 = para
				}
			}
			if captions != want.captions {
				t.Errorf("%d captions, want %d", captions, want.captions)
			}
			if n := len(body) - captions; n < 3 || n > 8 {
				t.Errorf("%d text paragraphs, want 3 to 8", n)
			}
			d, _, ok := newstext.SplitDateline(text0)
			if d.Place != want.place {
				t.Errorf("SplitDateline(%.60q...) = %+v, %v; want place %q", text0, d, ok, want.place)
			}
		})
	}
}

func TestWriteSamples(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	for range 2 { // the second run replaces the files
		n, err := WriteSamples(dir)
		if err != nil || n != len(samples) {
			t.Fatalf("WriteSamples(%q) = %d, %v; want %d, nil", dir, n, err, len(samples))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(samples) {
		t.Errorf("%d files in %s, want %d", len(entries), dir, len(samples))
	}
	for _, e := range entries {
		if _, ok := samples[e.Name()]; !ok || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("unexpected file %q left in the folder", e.Name())
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		emb, _ := Samples.ReadFile("samples/" + e.Name())
		if !bytes.Equal(got, emb) {
			t.Errorf("%s differs from the embedded sample", e.Name())
		}
		if info, err := e.Info(); err != nil || info.Mode().Perm() != 0o644 {
			t.Errorf("%s mode %v, %v; want 0644", e.Name(), info.Mode(), err)
		}
	}
}

func TestWriteSamplesError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := WriteSamples(file); err == nil || n != 0 {
		t.Errorf("WriteSamples(a file) = %d, %v; want an error", n, err)
	}
}
