"""Which objects a crawler looks at: the include path, exclusion globs and the files Glue always skips.

AWS documents the exclude patterns as Unix-style globs evaluated against the object's key *relative to the
include path*: ``*`` matches within one folder level, ``**`` crosses folders, ``?`` is one character, ``[..]``
a character class (``[!..]`` negated), ``{a,b}`` alternatives (not nested), ``\\`` escapes; a leading dot is an
ordinary character. Independently of the patterns, crawlers skip folder markers (keys ending in ``/``), Spark's
``_SUCCESS`` and ``_temporary`` and every file or folder whose name starts with ``_`` or ``.``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..uris import split_folder


@dataclass(frozen=True)
class S3Object:
    """One listed object: its bucket, full key, key relative to the include path, and size in bytes."""
    bucket: str
    key: str
    relative: str
    size: int

    @property
    def folder(self) -> str:
        """The object's folder relative to the include path ('' for the include path itself)."""
        return self.relative.rpartition("/")[0]


#: An include path as a bucket and a folder prefix (``gluelab.uris.split_folder``).
split_s3_path = split_folder


@lru_cache(maxsize=512)
def glob_to_regex(pattern: str) -> re.Pattern:
    """Compile one Glue exclude pattern to an anchored regular expression over relative keys."""
    out, i, n = [], 0, len(pattern)
    in_group = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                out.append(".*")
                i += 2
            else:
                out.append("[^/]*")
                i += 1
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            negate = j < n and pattern[j] == "!"
            if negate:
                j += 1
            start = j
            if j < n and pattern[j] == "]":  # a leading ']' is literal
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal '['
                out.append(re.escape(c))
            else:
                body = "".join("\\" + ch if ch in "\\^[" else ch for ch in pattern[start:j])
                out.append(f"[^/{body}]" if negate else f"[{body}]")
                i = j + 1
                continue
        elif c == "{" and not in_group:
            in_group = True
            out.append("(?:")
        elif c == "}" and in_group:
            in_group = False
            out.append(")")
        elif c == "," and in_group:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if in_group:
        raise ValueError(f"unclosed '{{' in exclude pattern {pattern!r}")
    return re.compile("".join(out) + r"\Z", re.DOTALL)


class Exclusions:
    """The crawler's exclude patterns for one include path."""

    def __init__(self, patterns: list[str] | None = None):
        self.patterns = [p.strip() for p in (patterns or []) if p and p.strip()]
        self._regexes = [glob_to_regex(p) for p in self.patterns]

    def excludes(self, relative_key: str) -> bool:
        """True when an exclude pattern matches the key (relative to the include path)."""
        return any(r.match(relative_key) for r in self._regexes)

    def __bool__(self) -> bool:
        return bool(self.patterns)


def is_skipped(relative_key: str) -> bool:
    """True for what crawlers never read: folder markers, and files or folders named ``_*`` or ``.*``
    (``_SUCCESS``, ``_temporary/``, ``.hidden``, ``_committed_...``)."""
    if not relative_key or relative_key.endswith("/"):
        return True
    return any(part[:1] in ("_", ".") for part in relative_key.split("/"))


def select(bucket: str, prefix: str, listed, exclusions: Exclusions) -> tuple[list[S3Object], int]:
    """Filter ``listed`` ``(key, size)`` pairs under ``prefix``; return the objects to crawl and how many were
    excluded by a pattern."""
    chosen, excluded = [], 0
    for key, size in listed:
        relative = key[len(prefix):]
        if is_skipped(relative):
            continue
        if exclusions and exclusions.excludes(relative):
            excluded += 1
            continue
        chosen.append(S3Object(bucket, key, relative, size))
    chosen.sort(key=lambda o: o.key)
    return chosen, excluded
