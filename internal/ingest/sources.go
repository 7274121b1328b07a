package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/text/encoding/htmlindex"
	"gopkg.in/yaml.v3"
)

// Source types.
const (
	TypeHTTP  = "http"
	TypeSpool = "spool"
	TypePush  = "push"
)

// Formats are the format hints a source may give; "" lets normalize sniff.
var Formats = []string{"", "rss", "atom", "textdump", "newsml-g2", "ninjs", "iptc7901"}

// Source is one source of the sources file, validated, with its secrets
// resolved.
type Source struct {
	ID     string
	Type   string // http, spool or push
	URL    string // http
	Path   string // spool
	Format string // format hint in the envelope; rss and atom feeds are split into items
	// Interval is how often an http source is fetched or a spool folder
	// scanned.
	Interval time.Duration
	// Timeout bounds one fetch of an http source, body included; zero
	// means --poll.timeout.
	Timeout time.Duration
	// Timezone is the zone of times the source writes without an offset.
	Timezone string
	// Charset overrides the charset the origin declares.
	Charset string
	// Headers are sent with every request of an http source; Auth adds
	// Authorization. Both are secrets: never logged.
	Headers map[string]Secret
	// Token is the bearer token a push source's clients must present.
	Token   Secret
	Enabled bool

	loc *time.Location
}

// Location returns the source's time zone (UTC when none is set).
func (s *Source) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// Secret is a value from the environment or a file that must never be
// logged: it prints as [redacted] in every format.
type Secret struct{ value string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{v} }

// Reveal returns the value, for the one place that needs it.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

func (s Secret) String() string                { return "[redacted]" }
func (s Secret) GoString() string              { return "[redacted]" }
func (s Secret) MarshalText() ([]byte, error)  { return []byte("[redacted]"), nil }
func (s Secret) Format(f fmt.State, verb rune) { io.WriteString(f, "[redacted]") }

// The sources file as written.
type sourcesFile struct {
	Sources []sourceEntry `yaml:"sources"`
}

type sourceEntry struct {
	ID       string            `yaml:"id"`
	Type     string            `yaml:"type"`
	URL      string            `yaml:"url"`
	Path     string            `yaml:"path"`
	Format   string            `yaml:"format"`
	Interval string            `yaml:"interval"`
	Timeout  string            `yaml:"timeout"`
	Timezone string            `yaml:"timezone"`
	Charset  string            `yaml:"charset"`
	Headers  map[string]string `yaml:"headers"`
	Auth     *authEntry        `yaml:"auth"`
	Token    string            `yaml:"token"`
	Enabled  *bool             `yaml:"enabled"`
}

type authEntry struct {
	Bearer   string `yaml:"bearer"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// sourceDefaults are the flag values a source falls back on.
type sourceDefaults struct {
	HTTPInterval time.Duration
	SpoolPoll    time.Duration
}

// environment is how secrets are looked up: os.LookupEnv and os.ReadFile
// in the service, fakes in tests.
type environment struct {
	lookupEnv func(string) (string, bool)
	readFile  func(string) ([]byte, error)
}

var osEnvironment = environment{lookupEnv: os.LookupEnv, readFile: os.ReadFile}

// Header names a sources file may not set: the transport and conditional
// GET own them (setting Accept-Encoding would also turn off Go's
// transparent gzip).
var reservedHeaders = []string{"Accept-Encoding", "Connection", "Content-Length", "Host", "If-Modified-Since", "If-None-Match", "Transfer-Encoding", "Te", "Upgrade"}

var (
	idRe      = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	envRefRe  = regexp.MustCompile(`\$\{([^}]*)\}`)
	envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// SourcesError lists every problem of a sources file, each naming the
// source and the field.
type SourcesError struct {
	File     string
	Problems []string
}

func (e *SourcesError) Error() string {
	return fmt.Sprintf("sources file %s: %s", e.File, strings.Join(e.Problems, "; "))
}

// LoadSources reads and validates a sources file.
func LoadSources(path string, def sourceDefaults) ([]Source, error) {
	return loadSources(path, def, osEnvironment)
}

func loadSources(path string, def sourceDefaults, env environment) ([]Source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sources file: %w", err)
	}
	return parseSources(path, b, def, env)
}

func parseSources(path string, b []byte, def sourceDefaults, env environment) ([]Source, error) {
	var f sourcesFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, &SourcesError{File: path, Problems: []string{strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	base := filepath.Dir(path)
	var problems []string
	var out []Source
	ids := map[string]int{}
	for i, e := range f.Sources {
		name := fmt.Sprintf("source #%d", i+1)
		if e.ID != "" {
			name = fmt.Sprintf("source %q", e.ID)
		}
		bad := func(field, format string, args ...any) {
			problems = append(problems, fmt.Sprintf("%s: %s: %s", name, field, fmt.Sprintf(format, args...)))
		}
		s, ok := e.build(def, env, base, bad)
		if e.ID != "" {
			if first, dup := ids[e.ID]; dup {
				bad("id", "also used by source #%d", first)
				ok = false
			} else {
				ids[e.ID] = i + 1
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	if len(problems) > 0 {
		return nil, &SourcesError{File: path, Problems: problems}
	}
	return out, nil
}

// build validates one entry, reporting each problem through bad, and
// returns the source and whether it is valid.
func (e *sourceEntry) build(def sourceDefaults, env environment, base string, bad func(field, format string, args ...any)) (Source, bool) {
	n := 0
	fail := func(field, format string, args ...any) {
		n++
		bad(field, format, args...)
	}
	s := Source{ID: e.ID, Type: e.Type, URL: e.URL, Path: e.Path, Format: e.Format, Timezone: e.Timezone, Charset: e.Charset, Enabled: e.Enabled == nil || *e.Enabled}
	switch {
	case e.ID == "":
		fail("id", "is required")
	case !idRe.MatchString(e.ID):
		fail("id", "%q must be a lower-case slug of at most 63 characters (a-z, 0-9, '.', '_', '-')", e.ID)
	}
	if !slices.Contains([]string{TypeHTTP, TypeSpool, TypePush}, e.Type) {
		fail("type", "%q is not one of http, spool, push", e.Type)
	}
	if !slices.Contains(Formats, e.Format) {
		fail("format", "%q is not one of %s (or empty to let normalize sniff it)", e.Format, strings.Join(Formats[1:], ", "))
	}

	// Where the items come from.
	switch e.Type {
	case TypeHTTP:
		if e.URL == "" {
			fail("url", "is required for an http source")
		} else if err := checkFetchURL(e.URL); err != nil {
			fail("url", "%v", err)
		}
		if e.Path != "" {
			fail("path", "is for spool sources; an http source has a url")
		}
	case TypeSpool:
		if e.Path == "" {
			fail("path", "is required for a spool source")
		}
		if e.URL != "" {
			fail("url", "is for http sources; a spool source has a path")
		}
	case TypePush:
		if e.URL != "" || e.Path != "" {
			fail("url", "a push source has neither url nor path: items are posted to /v1/items")
		}
	}

	// Timing.
	s.Interval = def.HTTPInterval
	if e.Type == TypeSpool {
		s.Interval = def.SpoolPoll
	}
	if e.Interval != "" {
		d, err := time.ParseDuration(e.Interval)
		switch {
		case e.Type == TypePush:
			fail("interval", "a push source is not polled")
		case err != nil:
			fail("interval", "%q is not a duration such as 30s or 5m", e.Interval)
		case e.Type == TypeHTTP && d < time.Second:
			fail("interval", "%s is shorter than 1s", d)
		case d <= 0:
			fail("interval", "%s must be positive", d)
		default:
			s.Interval = d
		}
	}
	if e.Timeout != "" {
		d, err := time.ParseDuration(e.Timeout)
		switch {
		case e.Type != TypeHTTP:
			fail("timeout", "only http sources have a fetch timeout")
		case err != nil:
			fail("timeout", "%q is not a duration such as 30s", e.Timeout)
		case d <= 0 || d > 10*time.Minute:
			fail("timeout", "%s is not between 0 and 10m", d)
		default:
			s.Timeout = d
		}
	}
	if e.Timezone != "" {
		loc, err := time.LoadLocation(e.Timezone)
		if err != nil {
			fail("timezone", "%q is not an IANA time zone such as Europe/Paris", e.Timezone)
		}
		s.loc = loc
	}
	if e.Charset != "" {
		if _, err := htmlindex.Get(e.Charset); err != nil {
			fail("charset", "%q is not a charset name such as utf-8, windows-1252 or iso-8859-2", e.Charset)
		}
	}

	// Secrets.
	if len(e.Headers) > 0 {
		if e.Type != TypeHTTP {
			fail("headers", "only http sources send headers")
		}
		s.Headers = map[string]Secret{}
		for name, v := range e.Headers {
			field := "headers." + name
			canon := http.CanonicalHeaderKey(name)
			switch {
			case !httpguts.ValidHeaderFieldName(name):
				fail(field, "is not a valid header name")
				continue
			case slices.Contains(reservedHeaders, canon):
				fail(field, "is set by ingest itself and may not be configured")
				continue
			case canon == "Authorization" && e.Auth != nil:
				fail(field, "conflicts with auth; give one of them")
				continue
			}
			sec, err := resolveSecret(v, env, base)
			if err != nil {
				fail(field, "%v", err)
				continue
			}
			if !httpguts.ValidHeaderFieldValue(sec.value) {
				fail(field, "the value holds characters a header may not carry")
				continue
			}
			s.Headers[canon] = sec
		}
	}
	if a := e.Auth; a != nil {
		switch {
		case e.Type != TypeHTTP:
			fail("auth", "only http sources authenticate to their origin (a push source has a token)")
		case a.Bearer != "" && (a.Username != "" || a.Password != ""):
			fail("auth", "give either bearer or username and password")
		case a.Bearer != "":
			if sec, err := resolveSecret(a.Bearer, env, base); err != nil {
				fail("auth.bearer", "%v", err)
			} else {
				s.setHeader("Authorization", "Bearer "+sec.value)
			}
		case a.Username != "":
			user, err1 := resolveSecret(a.Username, env, base)
			pass, err2 := resolveSecret(a.Password, env, base)
			switch {
			case err1 != nil:
				fail("auth.username", "%v", err1)
			case a.Password == "":
				fail("auth.password", "is required with auth.username")
			case err2 != nil:
				fail("auth.password", "%v", err2)
			default:
				r := &http.Request{Header: http.Header{}}
				r.SetBasicAuth(user.value, pass.value)
				s.setHeader("Authorization", r.Header.Get("Authorization"))
			}
		default:
			fail("auth", "give bearer, or username and password")
		}
	}
	switch {
	case e.Type == TypePush && e.Token == "":
		fail("token", "is required for a push source (clients send it as a bearer token)")
	case e.Type != TypePush && e.Token != "":
		fail("token", "only push sources have a token (an http source authenticates with auth)")
	case e.Token != "":
		sec, err := resolveSecret(e.Token, env, base)
		switch {
		case err != nil:
			fail("token", "%v", err)
		case len(sec.value) < 16:
			fail("token", "is shorter than 16 characters")
		default:
			s.Token = sec
		}
	}
	return s, n == 0
}

func (s *Source) setHeader(name, value string) {
	if s.Headers == nil {
		s.Headers = map[string]Secret{}
	}
	s.Headers[name] = Secret{value}
}

// checkFetchURL accepts absolute http and https URLs with a host and no
// user information (credentials belong in auth, where they are secrets).
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return fmt.Errorf("has no host")
	case u.User != nil:
		return fmt.Errorf("holds user information; put credentials in auth")
	}
	return nil
}

// resolveSecret reads a secret: "file:PATH" is the content of a file
// (relative to the sources file's folder; one final line break removed),
// anything else the value with each ${NAME} replaced by that environment
// variable. Errors never include the value.
func resolveSecret(v string, env environment, base string) (Secret, error) {
	if p, ok := strings.CutPrefix(v, "file:"); ok {
		if p == "" {
			return Secret{}, errors.New("file: names no file")
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		b, err := env.readFile(p)
		if err != nil {
			return Secret{}, fmt.Errorf("cannot read secret file %s: %w", p, unwrapPathError(err))
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if s == "" {
			return Secret{}, fmt.Errorf("secret file %s is empty", p)
		}
		return Secret{s}, nil
	}
	var err error
	out := envRefRe.ReplaceAllStringFunc(v, func(ref string) string {
		name := ref[2 : len(ref)-1]
		if !envNameRe.MatchString(name) {
			if err == nil {
				err = fmt.Errorf("${%s} is not an environment variable name", name)
			}
			return ""
		}
		val, ok := env.lookupEnv(name)
		if (!ok || val == "") && err == nil {
			err = fmt.Errorf("environment variable %s is not set", name)
		}
		return val
	})
	if err != nil {
		return Secret{}, err
	}
	if out == "" {
		return Secret{}, errors.New("is empty")
	}
	return Secret{out}, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
