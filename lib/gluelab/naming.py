"""Resource names: every AWS resource a lab creates carries the lab's prefix.

The prefix is what makes the real-AWS backend safe: the lab creates, changes and deletes only resources whose
names it made, and ``Lab.teardown()`` finds them by prefix. Names follow each service's rules (S3 buckets:
lowercase, hyphens, globally unique, so they include the account id and region; Glue databases: lowercase with
underscores; everything else: hyphens).
"""
from __future__ import annotations

import re

PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")

#: The lake zones every lab has, in pipeline order.
ZONES = ("raw", "processed", "curated", "temp", "scripts")


def validate_prefix(prefix: str | None) -> str:
    """Return ``prefix`` if it is a valid lab prefix (3-20 chars: lowercase letters, digits, hyphens; starts
    with a letter, does not end with a hyphen), else raise ValueError saying what is wrong."""
    if not prefix:
        raise ValueError("a lab needs an explicit prefix, e.g. prefix='gluelab-ana' (3-20 lowercase characters); "
                         "every resource the lab creates is named with it and teardown() deletes only those")
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        raise ValueError(f"invalid prefix {prefix!r}: use 3-20 characters, lowercase letters, digits and hyphens, "
                         "starting with a letter and not ending with a hyphen (e.g. 'gluelab-ana')")
    if "--" in prefix:
        raise ValueError(f"invalid prefix {prefix!r}: no double hyphens")
    return prefix


class Naming:
    """Names for one lab: ``Naming("gluelab", account_id="123456789012", region="us-east-1")``."""

    def __init__(self, prefix: str, account_id: str, region: str):
        self.prefix = validate_prefix(prefix)
        self.account_id = account_id
        self.region = region

    def bucket(self, zone: str) -> str:
        """The S3 bucket of a lake zone: ``<prefix>-<zone>-<account>-<region>`` (globally unique on AWS)."""
        return f"{self.prefix}-{zone}-{self.account_id}-{self.region}"

    def resource(self, base: str) -> str:
        """A job, crawler, workflow, trigger, function or queue name: ``<prefix>-<base>``."""
        return f"{self.prefix}-{_slug(base, '-')}"

    def database(self, base: str) -> str:
        """A Glue database name: ``<prefix>_<base>`` with underscores (Athena-friendly)."""
        return f"{self.prefix}_{_slug(base, '_')}".replace("-", "_")

    def owns(self, name: str) -> bool:
        """Whether a resource name (or the last part of an ARN or URL) was made by this lab's naming."""
        last = re.split(r"[/:]", name.rstrip("/"))[-1] if ("/" in name or ":" in name) else name
        for p in (self.prefix, self.prefix.replace("-", "_")):
            if last == p or last.startswith(p + "-") or last.startswith(p + "_"):
                return True
        return False


def _slug(base: str, sep: str) -> str:
    s = re.sub(r"[^a-z0-9]+", sep, base.lower()).strip(sep)
    if not s:
        raise ValueError(f"cannot make a resource name from {base!r}")
    return s
