package newstext

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadTime is returned, wrapped, by ParseTime for a string it cannot read.
var ErrBadTime = errors.New("newstext: unrecognised date")

// zonedLayouts carry a numeric offset or a zone abbreviation.
var zonedLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -0700 MST",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04 MST",
	"2006-01-02T15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:04 MST",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04 MST",
	"2 Jan 06 15:04 -0700",
	"2 Jan 06 15:04 MST",
	time.RFC850,
	time.UnixDate,
	time.RubyDate,
	"January 2, 2006 15:04 MST",
	"January 2, 2006 3:04 PM MST",
	"Jan 2, 2006 15:04 MST",
	"Jan 2, 2006 3:04 PM MST",
}

// localLayouts carry no zone.
var localLayouts = []string{
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02 15:04",
	"2006/01/02",
	"2.1.2006 15:04:05",
	"2.1.2006 15:04",
	"2.1.2006, 15:04",
	"2.1.2006",
	"January 2, 2006 15:04:05",
	"January 2, 2006 15:04",
	"January 2, 2006 3:04 PM",
	"January 2, 2006",
	"Jan 2, 2006 15:04:05",
	"Jan 2, 2006 15:04",
	"Jan 2, 2006 3:04 PM",
	"Jan 2, 2006 3:04:05 PM",
	"Jan 2, 2006",
	"2. Jan 2006 15:04:05",
	"2. Jan 2006 15:04",
	"2. Jan 2006",
	"2. January 2006 15:04",
	"2. January 2006",
	"Jan. 2, 2006 15:04",
	"Jan. 2, 2006",
	"2 January 2006 15:04:05",
	"2 January 2006 15:04",
	"2 January 2006",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 2006",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon, 2 Jan 2006 15:04",
	"Mon Jan _2 15:04:05 2006",
	"20060102T150405",
	"20060102",
}

// zoneOffsets are the offsets, in seconds east of UTC, of the zone
// abbreviations feeds use. An abbreviation that the caller's location knows
// at that date takes its meaning from the location instead, so "CST" is
// China Standard Time for a source in Asia/Shanghai and US Central
// Standard Time otherwise. Ambiguous ones such as IST are left out.
var zoneOffsets = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
	"EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
	"AKST": -9 * 3600, "AKDT": -8 * 3600, "HST": -10 * 3600,
	"BST": 1 * 3600, "WEST": 1 * 3600, "CET": 1 * 3600, "CEST": 2 * 3600,
	"MEZ": 1 * 3600, "MESZ": 2 * 3600, "EET": 2 * 3600, "EEST": 3 * 3600,
	"MSK": 3 * 3600, "HKT": 8 * 3600, "SGT": 8 * 3600, "AWST": 8 * 3600,
	"JST": 9 * 3600, "KST": 9 * 3600, "ACST": 9*3600 + 1800,
	"AEST": 10 * 3600, "AEDT": 11 * 3600, "NZST": 12 * 3600, "NZDT": 13 * 3600,
	"BRT": -3 * 3600, "ART": -3 * 3600, "CLT": -4 * 3600, "PET": -5 * 3600,
	"COT": -5 * 3600,
}

// ParseTime parses a date as news feeds write it: RFC 3339 and ISO 8601
// ("2020-05-01T10:15:28+08:00", "2020-05-01 10:15:28", "2020-05-01"),
// RFC 1123 and RFC 822 with numeric offsets or zone abbreviations
// ("Fri, 01 May 2020 10:15:28 +0800", "Fri, 1 May 2020 02:15:28 GMT"),
// English month names ("May 1, 2020 10:15", "1 May 2020", "May 1, 2020
// 10:15 pm"), the European "01.05.2020 10:15", "2020/05/01" and compact
// "20200501T101528". Month and weekday names are matched in any case; runs
// of spaces count as one; fractional seconds are accepted after the
// seconds. Day-first and month-first dates with slashes are not, being
// ambiguous.
//
// When s carries an offset or a zone, the time is in it and assumed is false.
// Otherwise s is read as wall-clock time in loc (UTC when loc is nil) and
// assumed is true. An error wraps ErrBadTime.
func ParseTime(s string, loc *time.Location) (t time.Time, assumed bool, err error) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return time.Time{}, false, fmt.Errorf("%w: empty", ErrBadTime)
	}
	if n := len(s); n > 3 && (strings.EqualFold(s[n-3:], " am") || strings.EqualFold(s[n-3:], " pm")) {
		s = s[:n-2] + strings.ToUpper(s[n-2:])
	}
	if len(s) > 64 {
		return time.Time{}, false, fmt.Errorf("%w: %d bytes long", ErrBadTime, len(s))
	}
	for _, layout := range zonedLayouts {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if strings.Contains(layout, "MST") {
			if t, err = fixAbbrev(t, loc); err != nil {
				return time.Time{}, false, err
			}
		}
		return t, false, nil
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true, nil
		}
	}
	if alt := anglicize(s); alt != s {
		return ParseTime(alt, loc)
	}
	return time.Time{}, false, fmt.Errorf("%w: %q", ErrBadTime, s)
}

// foreignMonths maps month names and abbreviations of the languages feeds
// are written in (German, French, Spanish, Portuguese, Italian) to English.
var foreignMonths = map[string]string{
	"januar": "Jan", "jänner": "Jan", "janv": "Jan", "janvier": "Jan", "ene": "Jan", "enero": "Jan", "janeiro": "Jan", "gen": "Jan", "gennaio": "Jan",
	"februar": "Feb", "févr": "Feb", "février": "Feb", "fev": "Feb", "fevereiro": "Feb", "febrero": "Feb", "febbraio": "Feb",
	"mär": "Mar", "märz": "Mar", "mars": "Mar", "marzo": "Mar", "março": "Mar",
	"avr": "Apr", "avril": "Apr", "abr": "Apr", "abril": "Apr", "aprile": "Apr",
	"mai": "May", "mayo": "May", "maio": "May", "mag": "May", "maggio": "May",
	"juni": "Jun", "juin": "Jun", "junio": "Jun", "junho": "Jun", "giu": "Jun", "giugno": "Jun",
	"juli": "Jul", "juil": "Jul", "juillet": "Jul", "julio": "Jul", "julho": "Jul", "lug": "Jul", "luglio": "Jul",
	"août": "Aug", "ago": "Aug", "agosto": "Aug",
	"sept": "Sep", "septembre": "Sep", "set": "Sep", "setembro": "Sep", "septiembre": "Sep", "settembre": "Sep",
	"okt": "Oct", "oktober": "Oct", "octobre": "Oct", "out": "Oct", "outubro": "Oct", "octubre": "Oct", "ott": "Oct", "ottobre": "Oct",
	"novembre": "Nov", "noviembre": "Nov", "novembro": "Nov",
	"dez": "Dec", "dezember": "Dec", "déc": "Dec", "décembre": "Dec", "dic": "Dec", "diciembre": "Dec", "dezembro": "Dec", "dicembre": "Dec",
}

// anglicize rewrites a date for a second try: a leading weekday in any
// language ("Seg, ") is dropped, foreign month names become English, a
// military "Z" zone becomes +0000, and "Dec 16 2023" gains its comma.
func anglicize(s string) string {
	fields := strings.Fields(s)
	if len(fields) > 1 && strings.HasSuffix(fields[0], ",") && !strings.ContainsAny(fields[0], "0123456789") {
		fields = fields[1:]
	}
	for i, f := range fields {
		word := strings.TrimRight(f, ".,")
		if en, ok := foreignMonths[strings.ToLower(word)]; ok {
			fields[i] = en + f[len(word):]
		}
		if i == len(fields)-1 && f == "Z" {
			fields[i] = "+0000"
		}
	}
	// "Dec 16 2023 02:02:33 PM": month day year without the comma.
	if len(fields) >= 3 && len(fields[0]) == 3 && !strings.HasSuffix(fields[1], ",") && len(fields[2]) == 4 {
		if _, err := time.Parse("Jan", fields[0]); err == nil {
			fields[1] += ","
		}
	}
	return strings.Join(fields, " ")
}

// fixAbbrev gives a time parsed with a zone abbreviation its real offset.
// The time package uses the offset loc has for the abbreviation; for one loc
// does not know, it makes up a zone with offset zero, which fixAbbrev
// replaces from zoneOffsets.
func fixAbbrev(t time.Time, loc *time.Location) (time.Time, error) {
	if t.Location() == loc || t.Location() == time.UTC {
		return t, nil
	}
	name, _ := t.Zone()
	o, ok := zoneOffsets[name]
	if !ok {
		// Includes "GMT+3" and the like, whose sign conventions differ.
		return time.Time{}, fmt.Errorf("%w: unknown time zone %q", ErrBadTime, name)
	}
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), time.FixedZone(name, o)), nil
}
