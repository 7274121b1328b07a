package sink

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Everything the sink writes lives under the prefix:
//
//	PREFIX/<key template>/TOPIC-pPPP-FIRST-LAST.EXT     data objects
//	PREFIX/dt=DATE/_manifest/TOPIC-pPPP-FIRST-LAST.json  one per flush and date
//	PREFIX/_state/TOPIC/pPPP.json                         one per partition
//
// FIRST and LAST are the offsets (20 digits) of the batch's first and last
// message on the records topic, PPP the partition (3 digits or more).

// placeholders a key template may use.
var placeholders = map[string]bool{
	"prefix": true, "date": true, "year": true, "month": true, "day": true,
	"source": true, "topic": true, "partition": true,
}

var placeholderRe = regexp.MustCompile(`\{[^{}]*\}`)

// template is a parsed --key-template.
type template struct {
	raw string
}

// parseTemplate checks a key template: known placeholders only, starting
// with {prefix}/ and not naming a folder of the sink's own (_state,
// _manifest) right under it, ending with /, and separating dates, so that
// an object never holds records of two dates and a date's manifest can list
// whole objects.
func parseTemplate(s string) (template, error) {
	bad := func(why string) (template, error) {
		return template{}, fmt.Errorf("--key-template %q %s", s, why)
	}
	for _, m := range placeholderRe.FindAllString(s, -1) {
		if !placeholders[m[1:len(m)-1]] {
			return bad(fmt.Sprintf("has an unknown placeholder %s (known: {prefix}, {date}, {year}, {month}, {day}, {source}, {topic}, {partition})", m))
		}
	}
	rest := placeholderRe.ReplaceAllString(s, "x")
	switch {
	case strings.ContainsAny(rest, "{}"):
		return bad("has an unbalanced brace")
	case !strings.HasPrefix(s, "{prefix}/"):
		return bad("must start with {prefix}/")
	case strings.HasPrefix(s, "{prefix}/_"):
		return bad("must not start a folder with _ right under the prefix (kept for _state and _manifest)")
	case !strings.HasSuffix(s, "/"):
		return bad("must end with /")
	case strings.Contains(s, "//") || strings.Contains(s, "/../") || strings.Contains(s, "/./"):
		return bad("has an empty, . or .. folder")
	case !strings.Contains(s, "{date}") && !(strings.Contains(s, "{year}") && strings.Contains(s, "{month}") && strings.Contains(s, "{day}")):
		return bad("must hold {date}, or {year}, {month} and {day}: an object holds records of one date")
	}
	return template{raw: s}, nil
}

// dir renders the folder of an object.
func (t template) dir(prefix, date, source, topic string, partition int) string {
	return placeholderRe.ReplaceAllStringFunc(t.raw, func(m string) string {
		switch m {
		case "{prefix}":
			return prefix
		case "{date}":
			return date
		case "{year}":
			return date[0:4]
		case "{month}":
			return date[5:7]
		case "{day}":
			return date[8:10]
		case "{source}":
			return source
		case "{topic}":
			return topic
		case "{partition}":
			return strconv.Itoa(partition)
		}
		return m
	})
}

// safeSegment makes a record's value usable as one folder name: the
// record schema allows [a-z0-9._-] in a source slug; anything else (a
// slash above all) is replaced, and "", "." and ".." are spelt out.
func safeSegment(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	switch out := string(b); out {
	case "", ".", "..":
		return "_" + out + "_"
	default:
		return out
	}
}

// batchName names what a batch writes: TOPIC-pPPP-FIRST-LAST.
func batchName(topic string, partition int, first, last int64) string {
	return fmt.Sprintf("%s-p%03d-%020d-%020d", topic, partition, first, last)
}

// extension returns the object name's extension for a format and
// compression.
func extension(format, compression string) string {
	if format == FormatParquet {
		return ".parquet" // compressed inside, per column
	}
	switch compression {
	case "gzip":
		return ".ndjson.gz"
	case "zstd":
		return ".ndjson.zst"
	}
	return ".ndjson"
}

func manifestKey(prefix, date, name string) string {
	return prefix + "/dt=" + date + "/_manifest/" + name + ".json"
}

func stateKey(prefix, topic string, partition int) string {
	return fmt.Sprintf("%s/_state/%s/p%03d.json", prefix, topic, partition)
}
