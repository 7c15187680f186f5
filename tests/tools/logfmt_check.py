#!/usr/bin/env python3
"""logfmt_check.py - a strict logfmt parser for the project's log lines.

    python3 tests/tools/logfmt_check.py FILE...      (or - for stdin)

Every line must be, in UTF-8:

    line   = pair *(" " pair)
    pair   = key "=" value
    key    = [A-Za-z_][A-Za-z0-9_.]*
    value  = "" | bare | quoted
    bare   = 1*(any character but space, '"', '=', '\\' and control characters)
    quoted = '"' *(any character but '"', '\\' and control characters | escape) '"'
    escape = '\\"' | '\\\\' | '\\n' | '\\r' | '\\t' | '\\u' 4 hex digits

and start with ts=<RFC 3339 UTC, milliseconds> level=debug|info|warn|error
svc=<name> event=<name>, with no key twice.  Prints each bad line with its
file, line number and why; exits 1 if there is any, 0 otherwise (and 1 when
the files hold no line at all, as a test that parsed nothing proves nothing).
Use --summary to print the events seen per file.
"""
import re
import sys

KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
LEVELS = {"debug", "info", "warn", "error"}
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


class Bad(Exception):
    pass


def is_control(c):
    return ord(c) < 0x20 or ord(c) == 0x7F


def parse(line):
    """-> list of (key, value); raises Bad."""
    pairs, i, n = [], 0, len(line)
    if not line:
        raise Bad("empty line")
    while True:
        m = KEY.match(line, i)
        if not m:
            raise Bad(f"no key at column {i + 1}")
        key, i = m.group(0), m.end()
        if i >= n or line[i] != "=":
            raise Bad(f"key {key!r} without '=' at column {i + 1}")
        i += 1
        if i < n and line[i] == '"':
            i += 1
            val = []
            while True:
                if i >= n:
                    raise Bad(f"unterminated quoted value of {key!r}")
                c = line[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\":
                    if i + 1 >= n:
                        raise Bad(f"dangling backslash in {key!r}")
                    e = line[i + 1]
                    if e in ESCAPES:
                        val.append(ESCAPES[e])
                        i += 2
                    elif e == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", line[i + 2 : i + 6]):
                        val.append(chr(int(line[i + 2 : i + 6], 16)))
                        i += 6
                    else:
                        raise Bad(f"bad escape \\{e} in {key!r}")
                    continue
                if is_control(c):
                    raise Bad(f"raw control character {c!r} in {key!r}")
                val.append(c)
                i += 1
            value = "".join(val)
        else:
            j = i
            while j < n and line[j] != " ":
                c = line[j]
                if c in '"=\\' or is_control(c):
                    raise Bad(f"character {c!r} in the bare value of {key!r} (column {j + 1}): it must be quoted")
                j += 1
            value, i = line[i:j], j
        pairs.append((key, value))
        if i == n:
            break
        if line[i] != " ":
            raise Bad(f"expected a space after {key!r} at column {i + 1}")
        i += 1
        if i == n:
            raise Bad("trailing space")
    return pairs


def check_line(line):
    pairs = parse(line)
    keys = [k for k, _ in pairs]
    if keys[:4] != ["ts", "level", "svc", "event"]:
        raise Bad(f"must start with ts= level= svc= event=, starts with {' '.join(keys[:4])}")
    seen = set()
    for k in keys:
        if k in seen:
            raise Bad(f"key {k!r} twice")
        seen.add(k)
    d = dict(pairs)
    if not TS.fullmatch(d["ts"]):
        raise Bad(f"ts {d['ts']!r} is not RFC 3339 UTC with milliseconds")
    if d["level"] not in LEVELS:
        raise Bad(f"level {d['level']!r}")
    if not d["svc"] or not d["event"]:
        raise Bad("empty svc or event")
    return d


def main(argv):
    summary = "--summary" in argv
    files = [a for a in argv if a != "--summary"]
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    bad = total = 0
    for f in files:
        data = sys.stdin.buffer.read() if f == "-" else open(f, "rb").read()
        events = {}
        for no, raw in enumerate(data.split(b"\n"), 1):
            if not raw and no == data.count(b"\n") + 1:
                break  # after the last newline
            total += 1
            try:
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise Bad(f"not UTF-8 ({e})")
                d = check_line(line)
                key = f"{d['svc']}:{d['event']}"
                events[key] = events.get(key, 0) + 1
            except Bad as e:
                bad += 1
                print(f"{f}:{no}: {e}: {raw[:300]!r}", file=sys.stderr)
        if summary:
            print(f"{f}: " + " ".join(f"{k}x{v}" for k, v in sorted(events.items())))
    if total == 0:
        print("no log line at all", file=sys.stderr)
        return 1
    print(f"logfmt_check: {total} lines, {bad} bad", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
