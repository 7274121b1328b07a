"""Measure ftfy on the inputs written by gobench -gen; print the same JSON.

ftfy is configured to make only the repairs pkg/textfix makes: it keeps
curly quotes, ligatures and full-width letters, as the expected text does.
"""

import json
import sys
import time

import ftfy

CONFIG = ftfy.TextFixerConfig(
    uncurl_quotes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    explain=False,
)


def fix(text):
    return ftfy.fix_text(text, CONFIG)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]


def read_pairs(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def speed(lines):
    """MB/s over lines, one call a line, best of three passes of at least a
    second each, in the process's CPU time, as gobench measures."""
    size = sum(len(line.encode("utf-8")) + 1 for line in lines)
    best = 0.0
    for _ in range(3):
        start, n = time.process_time(), 0
        while time.process_time() - start < 1.0:
            for line in lines:
                fix(line)
            n += 1
        best = max(best, size * n / (time.process_time() - start) / 1e6)
    return best


def main(data):
    res = {"speed_mb_s": {}, "accuracy": {}, "damaged_by_kind": {}}
    for name in ("english", "clean", "damaged"):
        res["speed_mb_s"][name] = speed(read_lines(f"{data}/{name}.txt"))
    for name in ("clean", "damaged"):
        pairs = read_pairs(f"{data}/{name}.jsonl")
        ok = 0
        for p in pairs:
            good = fix(p["input"]) == p["want"]
            ok += good
            if name == "damaged":
                k = res["damaged_by_kind"].setdefault(p["kind"], [0, 0])
                k[1] += 1
                k[0] += good
        res["accuracy"][name] = [ok, len(pairs)]
    json.dump(res, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
