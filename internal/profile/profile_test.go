package profile

import (
	"regexp"
	"testing"
	"time"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		url, id string
		want    string // slug, "" for no match
	}{
		{"http://www.xinhuanet.com/english/2020-05/01/c_139023018.htm", "XINH2020050100060", "xinhua"},
		{"http://www.xinhuanet.com/english/2020-05/01/c_139023018.htm", "", "xinhua"},
		{"https://english.news.cn/20230101/x.html", "", "xinhua"},
		{"HTTPS://WWW.NEWS.CN:443/a", "", "xinhua"},
		{"https://news.cn./a", "", "xinhua"},
		{"www.xinhuanet.com/english/a.htm", "", "xinhua"},
		{"", "XINH2020050100060", "xinhua"},
		{"", "xinh2020050100060", "xinhua"},
		{"", "  XINH1", "xinhua"},
		{"https://fakenews.cn/a", "", ""},
		{"https://news.cn.evil.example/a", "", ""},
		{"https://xinhuanet.com.example/a", "", ""},
		{"https://fakenews.cn/a", "XINH1", "xinhua"},
		{"https://www.meridian-news.example/2021/03/14/x.html", "", "meridian"},
		{"", "MRDN2021031400017", "meridian"},
		{"https://nordkap.example/a", "", "nordkap"},
		{"https://www.rhone-presse.example/a", "", "rhone-presse"},
		{"https://andes-press.example/a", "", "andes-press"},
		{"https://atlantico-noticias.example/a", "", "atlantico"},
		{"https://volga-telegraf.example/a", "", "volga-telegraf"},
		{"https://baltic-wire.example/a", "BLTW1", "baltic-wire"},
		{"https://www.meridian-news.example/a", "XINH1", "meridian"},
		{"", "", ""},
		{"::not a url::", "", ""},
		{"https://unknown.example/a", "ZZZZ1", ""},
		{"", "XIN", ""},
	}
	for _, tt := range tests {
		p, ok := Lookup(tt.url, tt.id)
		if got := p.Slug; got != tt.want || ok != (tt.want != "") {
			t.Errorf("Lookup(%q, %q) = %q, %v; want %q", tt.url, tt.id, got, ok, tt.want)
		}
	}
}

func TestBySlug(t *testing.T) {
	p, ok := BySlug("xinhua")
	if !ok {
		t.Fatal(`BySlug("xinhua") not found`)
	}
	if p.Agency != "Xinhua" || p.Language != "en" || p.Location.String() != "Asia/Shanghai" ||
		len(p.IDPrefixes) != 1 || p.IDPrefixes[0] != "XINH" {
		t.Errorf("BySlug(xinhua) = %+v", p)
	}
	if _, ok := BySlug("Xinhua"); ok {
		t.Error(`BySlug("Xinhua") found a profile; slugs are lower-case`)
	}
	if _, ok := BySlug(""); ok {
		t.Error(`BySlug("") found a profile`)
	}
}

// TestTable checks every built-in profile: slug form, unique slugs, hosts and
// prefixes, a loaded zone and a language tag.
func TestTable(t *testing.T) {
	slugRE := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	langRE := regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)
	seen := map[string]string{}
	all := All()
	if len(all) < 8 {
		t.Fatalf("All() has %d profiles, want at least 8", len(all))
	}
	for _, p := range all {
		if !slugRE.MatchString(p.Slug) {
			t.Errorf("profile %q: slug is not [a-z0-9-]", p.Slug)
		}
		if p.Agency == "" || p.Location == nil || !langRE.MatchString(p.Language) {
			t.Errorf("profile %q = %+v: agency, zone or language missing", p.Slug, p)
		}
		if len(p.Hosts) == 0 || len(p.IDPrefixes) == 0 {
			t.Errorf("profile %q has no hosts or ID prefixes", p.Slug)
		}
		for _, key := range append(append([]string{"slug:" + p.Slug}, prefixed("host:", p.Hosts)...), prefixed("id:", p.IDPrefixes)...) {
			if other, dup := seen[key]; dup {
				t.Errorf("%s is in profiles %q and %q", key, other, p.Slug)
			}
			seen[key] = p.Slug
		}
		for _, h := range p.Hosts {
			if got, ok := Lookup("https://"+h+"/x", ""); !ok || got.Slug != p.Slug {
				t.Errorf("Lookup(host %q) = %q, want %q", h, got.Slug, p.Slug)
			}
		}
		for _, pre := range p.IDPrefixes {
			if got, ok := Lookup("", pre+"0001"); !ok || got.Slug != p.Slug {
				t.Errorf("Lookup(id %q) = %q, want %q", pre+"0001", got.Slug, p.Slug)
			}
		}
		if got, ok := BySlug(p.Slug); !ok || got.Slug != p.Slug {
			t.Errorf("BySlug(%q) = %q, %v", p.Slug, got.Slug, ok)
		}
	}
}

func prefixed(pre string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = pre + s
	}
	return out
}

func TestProfilesAreCopies(t *testing.T) {
	p, _ := BySlug("xinhua")
	p.Hosts[0] = "changed.example"
	p.IDPrefixes[0] = "ZZZZ"
	q, _ := BySlug("xinhua")
	if q.Hosts[0] != "xinhuanet.com" || q.IDPrefixes[0] != "XINH" {
		t.Errorf("changing a returned profile changed the table: %+v", q)
	}
}

func TestLoc(t *testing.T) {
	if got := (Profile{}).Loc(); got != time.UTC {
		t.Errorf("Profile{}.Loc() = %v, want UTC", got)
	}
	p, _ := BySlug("andes-press")
	if got := p.Loc().String(); got != "America/Lima" {
		t.Errorf("andes-press Loc() = %v, want America/Lima", got)
	}
}

func FuzzLookup(f *testing.F) {
	f.Add("http://www.xinhuanet.com/english/a.htm", "XINH1")
	f.Add("//news.cn", "")
	f.Add("%zz://", "x")
	f.Fuzz(func(t *testing.T, u, id string) {
		p, ok := Lookup(u, id)
		if ok != (p.Slug != "") {
			t.Fatalf("Lookup(%q, %q) = %+v, %v", u, id, p, ok)
		}
	})
}
