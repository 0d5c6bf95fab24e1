"""A strict parser of the Prometheus text exposition format 0.0.4 (standard library only).

Stricter than Prometheus itself where snapgate's own output should be: every family has
exactly one HELP and one TYPE line, both before its first sample; one space between
tokens; no blank lines; counters end in _total; every family is prefixed snapgate_.

    families = parse(text)       # raises FormatError naming the line on any violation
    families["snapgate_requests_total"].samples -> [Sample(name, labels, value)]
    value(families, "snapgate_requests_total", code="200") -> float (summed) or None
"""

import collections
import math
import re

PREFIX = "snapgate_"
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
# Go's strconv.ParseFloat as Prometheus accepts it, minus hex floats.
FLOAT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf)\Z|NaN\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")

Sample = collections.namedtuple("Sample", "name labels value")


class FormatError(AssertionError):
    """The exposition breaks the format; the message names the line."""


class Family:
    def __init__(self, name):
        self.name = name
        self.help = None
        self.type = None
        self.samples = []


def _fail(lineno, line, why):
    raise FormatError("line %d: %s: %r" % (lineno, why, line))


def _parse_labels(text, lineno, line):
    """'{a="x",b="y"}' body (without braces) -> {name: unescaped value}, strictly."""
    labels = {}
    i, n = 0, len(text)
    while i < n:
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(text, i)
        if not m:
            _fail(lineno, line, "bad label name at %r" % text[i:])
        name = m.group(0)
        if name.startswith("__"):
            _fail(lineno, line, "label name %s is reserved" % name)
        i = m.end()
        if text[i:i + 2] != '="':
            _fail(lineno, line, 'label %s: expected ="' % name)
        i += 2
        val = []
        while True:
            if i >= n:
                _fail(lineno, line, "unterminated label value")
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    _fail(lineno, line, "bad escape \\%s in a label value" % nxt)
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                _fail(lineno, line, "raw newline in a label value")
            else:
                val.append(c)
                i += 1
        if name in labels:
            _fail(lineno, line, "label %s given twice" % name)
        labels[name] = "".join(val)
        if i < n:
            if text[i] != ",":
                _fail(lineno, line, "expected , between labels")
            i += 1
            if i == n:
                break  # a trailing comma is allowed by the format
    return labels


def _parse_float(s, lineno, line):
    if not FLOAT.match(s):
        _fail(lineno, line, "value %r is not a float" % s)
    return float(s)


def _family_of(name, families):
    """The family a sample name belongs to: itself, or a histogram/summary base."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[:-len(suffix)]
            f = families.get(base)
            if f is not None and f.type in ("histogram", "summary"):
                if suffix == "_bucket" and f.type != "histogram":
                    continue
                return base
    return name


def parse(text):
    """text -> {family name: Family}; raises FormatError on any violation."""
    if not text:
        raise FormatError("empty exposition")
    if not text.endswith("\n"):
        raise FormatError("the exposition does not end with a newline")
    families = collections.OrderedDict()
    closed = set()  # families whose group of lines has ended
    current = None
    series = set()
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line == "":
            _fail(lineno, line, "blank line")
        if line != line.strip() or "\t" in line or "  " in line:
            _fail(lineno, line, "stray whitespace")
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not METRIC_NAME.match(parts[2]):
                    _fail(lineno, line, "%s without a valid metric name" % parts[1])
                name = parts[2]
                if name in closed:
                    _fail(lineno, line, "family %s continues after another family" % name)
                f = families.setdefault(name, Family(name))
                if current is not None and current != name:
                    closed.add(current)
                current = name
                if f.samples:
                    _fail(lineno, line, "%s after the samples of %s" % (parts[1], name))
                if parts[1] == "HELP":
                    if f.help is not None:
                        _fail(lineno, line, "second HELP for %s" % name)
                    doc = parts[3] if len(parts) > 3 else ""
                    bare = doc.replace("\\\\", "")
                    if re.search(r"\\[^\\n]", bare) or bare.endswith("\\"):
                        _fail(lineno, line, "bad escape in HELP text")
                    f.help = doc
                else:
                    if f.type is not None:
                        _fail(lineno, line, "second TYPE for %s" % name)
                    if len(parts) != 4 or parts[3] not in TYPES:
                        _fail(lineno, line, "TYPE must be one of %s" % (TYPES,))
                    f.type = parts[3]
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^\n]*)\})? (\S+)( -?\d+)?\Z", line)
        if not m:
            _fail(lineno, line, "not a sample line")
        name = m.group(1)
        labels = _parse_labels(m.group(3), lineno, line) if m.group(2) else {}
        value = _parse_float(m.group(4), lineno, line)
        fam = _family_of(name, families)
        if fam in closed:
            _fail(lineno, line, "samples of %s are not one group" % fam)
        if current is not None and current != fam:
            closed.add(current)
        current = fam
        f = families.setdefault(fam, Family(fam))
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            _fail(lineno, line, "duplicate series")
        series.add(key)
        f.samples.append(Sample(name, labels, value))
    for f in families.values():
        _check_family(f)
    return families


def _check_family(f):
    where = "family %s" % f.name
    if not f.name.startswith(PREFIX):
        raise FormatError("%s: not prefixed %s" % (where, PREFIX))
    if f.help is None or f.type is None:
        raise FormatError("%s: needs one HELP and one TYPE line" % where)
    if not f.samples:
        raise FormatError("%s: HELP/TYPE without samples" % where)
    if f.type == "counter":
        if not f.name.endswith("_total"):
            raise FormatError("%s: a counter's name must end in _total" % where)
        for s in f.samples:
            if s.name != f.name:
                raise FormatError("%s: sample %s in a counter family" % (where, s.name))
            if not s.value >= 0 or math.isinf(s.value):
                raise FormatError("%s: counter value %r" % (where, s.value))
    elif f.type == "gauge":
        for s in f.samples:
            if s.name != f.name:
                raise FormatError("%s: sample %s in a gauge family" % (where, s.name))
    elif f.type == "histogram":
        _check_histogram(f)
    for s in f.samples:
        if f.type != "histogram" and "le" in s.labels:
            raise FormatError("%s: label le outside a histogram" % where)


def _check_histogram(f):
    where = "histogram %s" % f.name
    groups = collections.OrderedDict()
    for s in f.samples:
        rest = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if s.name == f.name + "_bucket":
            if "le" not in s.labels:
                raise FormatError("%s: bucket without le" % where)
            g["buckets"].append((_parse_le(s.labels["le"], where), s.value))
        elif "le" in s.labels:
            raise FormatError("%s: le on %s" % (where, s.name))
        elif s.name == f.name + "_sum":
            g["sum"] = s.value
        elif s.name == f.name + "_count":
            g["count"] = s.value
        else:
            raise FormatError("%s: stray sample %s" % (where, s.name))
    for rest, g in groups.items():
        b = g["buckets"]
        if not b or b[-1][0] != math.inf:
            raise FormatError("%s%s: the last bucket must be le=\"+Inf\"" % (where, rest))
        les = [le for le, _ in b]
        if les != sorted(les) or len(set(les)) != len(les):
            raise FormatError("%s%s: bucket bounds not strictly increasing" % (where, rest))
        counts = [c for _, c in b]
        if any(c2 < c1 for c1, c2 in zip(counts, counts[1:])):
            raise FormatError("%s%s: buckets are not cumulative" % (where, rest))
        if g["count"] is None or g["sum"] is None:
            raise FormatError("%s%s: _sum and _count are required" % (where, rest))
        if counts[-1] != g["count"]:
            raise FormatError("%s%s: le=\"+Inf\" %r != _count %r"
                              % (where, rest, counts[-1], g["count"]))
        if any(c < 0 or c != int(c) for c in counts):
            raise FormatError("%s%s: bucket counts must be whole and >= 0" % (where, rest))


def _parse_le(s, where):
    if s == "+Inf":
        return math.inf
    if not FLOAT.match(s) or s.lower() in ("inf", "+inf", "-inf", "nan"):
        raise FormatError("%s: le=%r is not a finite float or +Inf" % (where, s))
    return float(s)


def value(families, name, **labels):
    """The sum of the samples called name whose labels include the given ones; None when
    none matches."""
    fam = families.get(_family_of(name, families))
    if fam is None:
        return None
    found = [s.value for s in fam.samples
             if s.name == name and all(s.labels.get(k) == str(v) for k, v in labels.items())]
    return sum(found) if found else None
