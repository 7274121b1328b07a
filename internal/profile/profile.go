// Package profile describes the sources wirefeed reads: the agency behind
// each, its time zone and language, and how to recognise its items by URL
// host or ID prefix.
package profile

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones load on systems without a zoneinfo database
)

// Profile is one source.
type Profile struct {
	// Slug names the source in records and metric labels: lower-case
	// letters, digits and hyphens.
	Slug string
	// Agency is the agency's name as it signs its stories.
	Agency string
	// Location is the zone the source writes times in when it gives no
	// offset. Nil means UTC.
	Location *time.Location
	// Language is the BCP 47 tag of the source's language.
	Language string
	// Hosts are the source's domains; subdomains match too.
	Hosts []string
	// IDPrefixes start the source's item IDs, as "XINH" in
	// "XINH2020050100060".
	IDPrefixes []string
}

// spec is a built-in profile with its zone by name.
type spec struct {
	slug, agency, zone, lang string
	hosts, idPrefixes        []string
}

// specs are the built-in sources. xinhua and dpa are real agencies (the
// seed item and the IPTC 7901 samples); the others are the fictional
// agencies of the demo samples, on reserved .example domains.
var specs = []spec{
	{"xinhua", "Xinhua", "Asia/Shanghai", "en", []string{"xinhuanet.com", "news.cn"}, []string{"XINH"}},
	{"dpa", "dpa", "Europe/Berlin", "de", []string{"dpa.com", "dpa.de", "dpa-news.de"}, []string{"urn:newsml:dpa.com"}},
	{"meridian", "Meridian", "Europe/London", "en", []string{"meridian-news.example"}, []string{"MRDN"}},
	{"nordkap", "Nordkap", "Europe/Berlin", "de", []string{"nordkap.example"}, []string{"NKAP"}},
	{"rhone-presse", "Rhône Presse", "Europe/Paris", "fr", []string{"rhone-presse.example"}, []string{"RHPR"}},
	{"andes-press", "Andes Press", "America/Lima", "es", []string{"andes-press.example"}, []string{"ANDP"}},
	{"atlantico", "Atlântico", "America/Sao_Paulo", "pt-BR", []string{"atlantico-noticias.example"}, []string{"ATLN"}},
	{"volga-telegraf", "Volga Telegraf", "Europe/Moscow", "ru", []string{"volga-telegraf.example"}, []string{"VLGT"}},
	{"baltic-wire", "Baltic Wire", "Europe/Warsaw", "pl", []string{"baltic-wire.example"}, []string{"BLTW"}},
}

// builtin loads the built-in table once; it is not changed afterwards.
var builtin = sync.OnceValue(func() []Profile {
	out := make([]Profile, len(specs))
	for i, s := range specs {
		loc, err := time.LoadLocation(s.zone)
		if err != nil {
			// Cannot happen with time/tzdata linked in; the tests load
			// every zone.
			panic("profile: built-in zone " + s.zone + ": " + err.Error())
		}
		out[i] = Profile{
			Slug:       s.slug,
			Agency:     s.agency,
			Location:   loc,
			Language:   s.lang,
			Hosts:      s.hosts,
			IDPrefixes: s.idPrefixes,
		}
	}
	return out
})

// All returns the built-in profiles, sorted by slug.
func All() []Profile {
	out := make([]Profile, 0, len(specs))
	for _, p := range builtin() {
		out = append(out, p.clone())
	}
	slices.SortFunc(out, func(a, b Profile) int { return strings.Compare(a.Slug, b.Slug) })
	return out
}

// BySlug returns the built-in profile with the given slug.
func BySlug(slug string) (Profile, bool) {
	for _, p := range builtin() {
		if p.Slug == slug {
			return p.clone(), true
		}
	}
	return Profile{}, false
}

// Lookup returns the profile of an item from its URL or its ID. The URL's
// host matches a profile's host or any subdomain of it ("www.news.cn"
// matches "news.cn", "fakenews.cn" does not); a URL without a scheme is read
// as starting with its host. Failing that, the ID matches the longest
// profile ID prefix, ignoring case. The URL decides when both match
// different profiles.
func Lookup(rawURL, id string) (Profile, bool) {
	if host := hostOf(rawURL); host != "" {
		best, bestLen := -1, 0
		for i, p := range builtin() {
			for _, h := range p.Hosts {
				if (host == h || strings.HasSuffix(host, "."+h)) && len(h) > bestLen {
					best, bestLen = i, len(h)
				}
			}
		}
		if best >= 0 {
			return builtin()[best].clone(), true
		}
	}
	id = strings.TrimSpace(id)
	best, bestLen := -1, 0
	for i, p := range builtin() {
		for _, pre := range p.IDPrefixes {
			if len(id) >= len(pre) && strings.EqualFold(id[:len(pre)], pre) && len(pre) > bestLen {
				best, bestLen = i, len(pre)
			}
		}
	}
	if best >= 0 {
		return builtin()[best].clone(), true
	}
	return Profile{}, false
}

// hostOf returns the lower-cased host of a URL, without port or final dot.
func hostOf(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if !strings.Contains(raw, "://") {
		raw = "//" + strings.TrimPrefix(raw, "//")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
}

// clone returns p with its own copies of the slices, so that callers cannot
// change the built-in table.
func (p Profile) clone() Profile {
	p.Hosts = slices.Clone(p.Hosts)
	p.IDPrefixes = slices.Clone(p.IDPrefixes)
	return p
}

// Loc returns p.Location, or UTC when it is nil.
func (p Profile) Loc() *time.Location {
	if p.Location == nil {
		return time.UTC
	}
	return p.Location
}
