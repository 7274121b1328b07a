#!/usr/bin/env bash
# Validates the deployment and monitoring files, as far as this machine
# allows, and prints what was checked and what was not:
#   - YAML syntax of every YAML file under deploy/;
#   - the Grafana dashboard: well-formed JSON, unique panel ids, defined
#     variables, and every query uses only metrics the services export
#     (the tables of docs/metrics.md) plus `up`; with live /metrics pages in
#     WIREFEED_LINT_METRICS_URLS (space-separated), also that every metric
#     they show is documented;
#   - the alert rules: the same metric check, and every runbook_url points to
#     a heading of docs/operating.md;
#   - promtool: check config, check rules, test rules
#     (deploy/prometheus/test-rules.sh);
#   - deploy/compose.yaml: `docker compose config` when a compose client is
#     installed; in any case pinned images, existing bind-mount sources, and
#     promtool check config of its inline Prometheus configuration;
#   - deploy/k8s: `kubectl kustomize` (or `kustomize build`) when installed,
#     and the rendered Deployments' probes, resources and security context;
#   - .dockerignore keeps what the Dockerfile copies.
# Needs python3 with PyYAML; without it, PyYAML is installed into a
# virtualenv under .cache/lint-venv (PyPI). Exit 0 only if every check that
# ran passed.
set -uo pipefail
deploy=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$deploy/.." && pwd)
cd "$root" || exit 1

checked=()
skipped=()
failed=()
pass() { checked+=("$1"); echo "lint: ok    $1"; }
skip() { skipped+=("$1"); echo "lint: skip  $1"; }
fail() { failed+=("$1"); echo "lint: FAIL  $1" >&2; }

# ------------------------------------------------------------ python + yaml
python=python3
if ! command -v python3 >/dev/null 2>&1; then
	echo "lint: python3 is required" >&2
	exit 1
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
	venv=$root/.cache/lint-venv
	if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import yaml' 2>/dev/null; then
		echo "lint: PyYAML missing; installing it into $venv"
		if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'PyYAML>=6,<7'; }; then
			echo "lint: could not install PyYAML (python3 -m venv and PyPI needed)" >&2
			exit 1
		fi
	fi
	python=$venv/bin/python
fi

# --------------------------------------------------------- file checks (py)
# Prints "ok <what>", "fail <what>: <why>" lines; the shell tallies them.
py_checks() {
	"$python" - <<'PY'
import json, os, re, sys, urllib.request
import yaml

root = os.getcwd()
out = []
def ok(what): print("ok " + what)
def fail(what, why): print("fail %s: %s" % (what, why))

# ---- YAML syntax of everything under deploy/
n, bad = 0, []
for d, _, files in os.walk("deploy"):
    for f in sorted(files):
        if f.endswith((".yml", ".yaml")):
            p = os.path.join(d, f)
            n += 1
            try:
                with open(p) as fh:
                    list(yaml.safe_load_all(fh))
            except yaml.YAMLError as e:
                bad.append("%s: %s" % (p, str(e).replace("\n", " ")))
if bad:
    fail("YAML syntax of %d files under deploy/" % n, "; ".join(bad))
else:
    ok("YAML syntax of %d files under deploy/" % n)

# ---- the metrics the services export
def documented():
    text = open("docs/metrics.md").read()
    i = text.find("\n## Review against")
    if i >= 0:
        text = text[:i]
    rows = re.findall(r"(?m)^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(counter|gauge|histogram|summary|untyped)\s*\|", text)
    return {name: typ for name, typ in rows}

def live(urls):
    types = {}
    for u in urls:
        body = urllib.request.urlopen(u, timeout=10).read().decode()
        for line in body.splitlines():
            f = line.split()
            if len(f) == 4 and f[:2] == ["#", "TYPE"]:
                types[f[2]] = f[3]
    return types

# A labelled metric shows in a live /metrics page only after its first
# event, so live pages add to the documented list: a name in neither fails.
urls = os.environ.get("WIREFEED_LINT_METRICS_URLS", "").split()
try:
    types = documented()
    source = "docs/metrics.md"
    if urls:
        seen = live(urls)
        undocumented = sorted(n for n in seen if n not in types)
        if undocumented:
            fail("live /metrics against docs/metrics.md", "exported but not documented: " + ", ".join(undocumented))
        else:
            ok("live /metrics of %s: every metric documented" % " ".join(urls))
        types.update(seen)
        source = "docs/metrics.md and live /metrics"
except Exception as e:
    fail("metric list", str(e))
    sys.exit(0)
allowed = {"up"}
for name, typ in types.items():
    if name.startswith(("wirefeed_", "go_", "process_")):
        allowed.add(name)
        if typ == "histogram":
            allowed.update({name + "_bucket", name + "_sum", name + "_count"})
        if typ == "summary":
            allowed.update({name + "_sum", name + "_count"})

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
            "offset", "bool", "inf", "nan", "atan2"}
def metric_names(expr):
    """Metric names a PromQL expression selects."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    names = set(re.findall(r'__name__\s*=~?\s*""', e) and ["<__name__ matcher>"] or [])
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    for m in re.finditer(r"(?<![A-Za-z0-9_:.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names

# ---- Grafana dashboard
dash_path = "deploy/grafana/wirefeed.json"
try:
    dash = json.load(open(dash_path))
except Exception as e:
    fail("dashboard JSON " + dash_path, str(e))
    dash = None
if dash is not None:
    problems = []
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        if key not in dash:
            problems.append("no " + key)
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    builtin = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
    panels, ids = [], []
    def walk(ps):
        for p in ps:
            panels.append(p)
            ids.append(p.get("id"))
            walk(p.get("panels", []))
    walk(dash.get("panels", []))
    dup = sorted({i for i in ids if ids.count(i) > 1 and i is not None})
    if dup:
        problems.append("duplicate panel ids %s" % dup)
    exprs = 0
    for p in panels:
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            if not expr.strip():
                continue
            exprs += 1
            if p.get("datasource", {}).get("uid") != "${datasource}":
                problems.append("panel %r: datasource is not ${datasource}" % p.get("title"))
            def sub(m):
                name = m.group(1) or m.group(2) or m.group(3)
                if name in builtin:
                    return builtin[name]
                if name in variables:
                    return variables[name].get("allValue") or ".*"
                problems.append("panel %r: undefined variable $%s" % (p.get("title"), name))
                return ".*"
            e = re.sub(r"\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]", sub, expr)
            for name in sorted(metric_names(e) - allowed):
                problems.append("panel %r uses %s, not exported (per %s)" % (p.get("title"), name, source))
    for v in variables.values():
        q = v.get("definition") or ""
        for name in sorted(metric_names(re.sub(r"^label_values\((.*),[^,]*\)$", r"\1", q)) - allowed) if q else []:
            problems.append("variable %s uses %s, not exported" % (v["name"], name))
    if exprs == 0:
        problems.append("no queries found")
    what = "dashboard %s: %d panels, %d queries, metrics checked against %s" % (dash_path, len(panels), exprs, source)
    fail(what, "; ".join(problems)) if problems else ok(what)

# ---- alert rules: metrics and runbooks
def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")
anchors = set()
if os.path.exists("docs/operating.md"):
    for line in open("docs/operating.md"):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            anchors.add(slug(m.group(1)))
        for a in re.findall(r'<a\s+(?:id|name)="([^"]+)"', line):
            anchors.add(a)
for path in sorted(os.listdir("deploy/prometheus/rules")):
    if not path.endswith(".rules.yml"):
        continue
    p = os.path.join("deploy/prometheus/rules", path)
    try:
        doc = yaml.safe_load(open(p))
    except yaml.YAMLError:
        continue  # reported above
    problems = []
    rules = [r for g in doc.get("groups", []) for r in g.get("rules", [])]
    recorded = {r["record"] for r in rules if "record" in r}
    nalerts = 0
    for r in rules:
        name = r.get("alert") or r.get("record")
        for m in sorted(metric_names(str(r.get("expr", ""))) - allowed - recorded):
            problems.append("%s uses %s, not exported" % (name, m))
        if "alert" in r:
            nalerts += 1
            url = (r.get("annotations") or {}).get("runbook_url", "")
            frag = url.split("#", 1)[1] if "#" in url else ""
            if "docs/operating.md#" not in url:
                problems.append("%s: runbook_url %r does not point to docs/operating.md#..." % (name, url))
            elif frag not in anchors:
                problems.append("%s: docs/operating.md has no heading for #%s" % (name, frag))
            if not (r.get("labels") or {}).get("severity"):
                problems.append("%s: no severity label" % name)
    what = "rules %s: %d alerts, metrics against %s, runbook anchors in docs/operating.md" % (p, nalerts, source)
    fail(what, "; ".join(problems)) if problems else ok(what)

# ---- compose: pinned images, bind mounts, inline Prometheus config
cp = "deploy/compose.yaml"
try:
    compose = yaml.safe_load(open(cp))
except Exception:
    compose = None
if compose:
    problems = []
    for name, svc in (compose.get("services") or {}).items():
        img = svc.get("image", "")
        if not img and "build" not in svc:
            problems.append("%s: no image" % name)
        elif img and "build" not in svc:
            tag = img.rsplit("/", 1)[-1]
            if ":" not in tag and "@" not in tag or tag.endswith(":latest"):
                problems.append("%s: image %s is not pinned" % (name, img))
        for v in svc.get("volumes", []) or []:
            src = v.split(":", 1)[0] if isinstance(v, str) else (v.get("source") or "")
            if src.startswith((".", "/")) and not os.path.exists(os.path.join("deploy", src)):
                problems.append("%s: bind mount source %s does not exist" % (name, src))
        b = svc.get("build")
        if isinstance(b, dict):
            ctx = os.path.join("deploy", b.get("context", "."))
            if not os.path.exists(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))):
                problems.append("%s: no Dockerfile in build context %s" % (name, ctx))
    what = "compose %s: images pinned, bind-mount sources and Dockerfile exist" % cp
    fail(what, "; ".join(problems)) if problems else ok(what)
    content = ((compose.get("configs") or {}).get("prometheus-config") or {}).get("content")
    if content:
        os.makedirs(".cache/lint", exist_ok=True)
        cfg = yaml.safe_load(content)
        cfg["rule_files"] = [os.path.join(root, "deploy/prometheus/rules", os.path.basename(f)) for f in cfg.get("rule_files", [])]
        with open(".cache/lint/compose-prometheus.yml", "w") as fh:
            yaml.safe_dump(cfg, fh)
        print("promcfg .cache/lint/compose-prometheus.yml")
    else:
        fail("compose Prometheus configuration", "no configs.prometheus-config.content in " + cp)
PY
}

while IFS= read -r line; do
	case $line in
	"ok "*) pass "${line#ok }" ;;
	"fail "*) fail "${line#fail }" ;;
	"promcfg "*) compose_promcfg=${line#promcfg } ;;
	*) echo "$line" ;;
	esac
done < <(py_checks)

# ------------------------------------------------------------------ promtool
if command -v "${PROMTOOL:-promtool}" >/dev/null 2>&1; then
	if out=$(bash deploy/prometheus/test-rules.sh 2>&1); then
		pass "promtool check config, check rules, test rules (deploy/prometheus/test-rules.sh)"
	else
		echo "$out" >&2
		fail "promtool (deploy/prometheus/test-rules.sh)"
	fi
	if [[ -n ${compose_promcfg:-} ]]; then
		if out=$("${PROMTOOL:-promtool}" check config "$compose_promcfg" 2>&1); then
			pass "promtool check config of the Prometheus configuration inline in deploy/compose.yaml"
		else
			echo "$out" >&2
			fail "promtool check config of the Prometheus configuration inline in deploy/compose.yaml"
		fi
	fi
else
	fail "promtool not found: install it with bash deploy/local/install.sh (Debian package prometheus)"
fi

# ------------------------------------------------------------------ compose
if docker compose version >/dev/null 2>&1; then
	if out=$(docker compose -f deploy/compose.yaml config --quiet 2>&1); then
		pass "docker compose config (deploy/compose.yaml)"
	else
		echo "$out" >&2
		fail "docker compose config (deploy/compose.yaml)"
	fi
elif command -v docker-compose >/dev/null 2>&1 && docker-compose version 2>/dev/null | grep -q 'v2\.'; then
	if out=$(docker-compose -f deploy/compose.yaml config --quiet 2>&1); then
		pass "docker-compose config (deploy/compose.yaml)"
	else
		echo "$out" >&2
		fail "docker-compose config (deploy/compose.yaml)"
	fi
else
	skip "docker compose config: no Docker Compose v2 client installed"
fi

# ------------------------------------------------------------------ k8s
render=""
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
	render="kubectl kustomize"
elif command -v kustomize >/dev/null 2>&1; then
	render="kustomize build"
fi
if [[ -n $render ]]; then
	mkdir -p .cache/lint
	if $render deploy/k8s >.cache/lint/k8s.yaml 2>.cache/lint/k8s.err; then
		if out=$("$python" - .cache/lint/k8s.yaml <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
problems = []
kinds = sorted({d["kind"] for d in docs})
deps = [d for d in docs if d["kind"] == "Deployment"]
if len(deps) != 3:
    problems.append("%d Deployments, want 3" % len(deps))
for d in deps:
    name = d["metadata"]["name"]
    pod = d["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    if not psc.get("runAsNonRoot"):
        problems.append(name + ": pod securityContext.runAsNonRoot is not true")
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        if not sc.get("readOnlyRootFilesystem"):
            problems.append(name + ": readOnlyRootFilesystem is not true")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(name + ": allowPrivilegeEscalation is not false")
        if "ALL" not in (sc.get("capabilities", {}).get("drop") or []):
            problems.append(name + ": capabilities do not drop ALL")
        if (c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz"
                or c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz"):
            problems.append(name + ": probes are not /healthz (liveness) and /readyz (readiness)")
        res = c.get("resources", {})
        if not res.get("requests") or not res.get("limits"):
            problems.append(name + ": no resource requests or limits")
print("%d objects (%s)" % (len(docs), ", ".join(kinds)))
if problems:
    print("; ".join(problems))
    sys.exit(1)
PY
		); then
			out=${out//$'\n'/; }
			pass "$render deploy/k8s: $out; Deployments have probes, resources, non-root read-only security context"
		else
			fail "$render deploy/k8s: ${out//$'\n'/; }"
		fi
	else
		cat .cache/lint/k8s.err >&2
		fail "$render deploy/k8s"
	fi
	skip "Kubernetes schema validation of deploy/k8s: needs a cluster (kubectl apply --dry-run=server) or a schema validator"
else
	skip "kustomize build of deploy/k8s: neither kubectl nor kustomize installed"
fi

# ------------------------------------------------------------------ Docker
problems=""
for p in go.mod go.sum cmd internal pkg; do
	grep -qx "!$p/\?" .dockerignore || problems+=" $p"
done
if [[ -z $problems ]]; then
	pass ".dockerignore keeps go.mod, go.sum, cmd/, internal/, pkg/ (what the Dockerfile copies)"
else
	fail ".dockerignore leaves out what the Dockerfile copies:$problems"
fi
if docker info >/dev/null 2>&1; then
	skip "docker build: not run by lint (a Docker engine is there: docker build -t wirefeed .)"
else
	skip "docker build and docker compose up: no Docker engine"
fi

# ------------------------------------------------------------------ summary
echo
echo "lint: checked ${#checked[@]}, not checked ${#skipped[@]}, failed ${#failed[@]}"
for s in "${skipped[@]}"; do echo "lint:   not checked: $s"; done
for f in "${failed[@]}"; do echo "lint:   FAILED: $f" >&2; done
((${#failed[@]} == 0))
