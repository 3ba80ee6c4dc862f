"""Resource names: every AWS resource a lab creates carries the lab's prefix.

The prefix is what makes the real-AWS backend safe: the lab creates, changes and deletes only resources whose
names it made, and ``Lab.teardown()`` finds them by prefix. Names follow each service's rules (S3 buckets:
lowercase, hyphens, globally unique, so they include the account id and region; Glue databases: lowercase with
underscores; everything else: hyphens).

A double separator ends the prefix: ``team--raw-...``, ``team__sales``. A prefix cannot contain ``--`` (nor end
with ``-``), so no other lab's names start with ``team--``: the lab ``team`` never owns what the lab ``team-a``
made (``team-a--raw-...``), and ``student1`` never owns ``student10``'s. Without that boundary, a shared account
in a workshop would let one learner's teardown delete another's buckets.
"""
from __future__ import annotations

import re

PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")

#: What ends the prefix in a name: two hyphens (two underscores in a Glue database name), which no prefix holds.
BOUNDARY = "--"
DB_BOUNDARY = "__"

#: The lake zones every lab has, in pipeline order.
ZONES = ("raw", "processed", "curated", "temp", "scripts")


def validate_prefix(prefix: str | None) -> str:
    """Return ``prefix`` if it is a valid lab prefix (3-20 chars: lowercase letters, digits, hyphens; starts
    with a letter, does not end with a hyphen, does not start with ``aws`` or ``ssm``, which SSM refuses at the
    start of a parameter name), else raise ValueError saying what is wrong."""
    if not prefix:
        raise ValueError("a lab needs an explicit prefix, e.g. prefix='gluelab-ana' (3-20 lowercase characters); "
                         "every resource the lab creates is named with it and teardown() deletes only those")
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        raise ValueError(f"invalid prefix {prefix!r}: use 3-20 characters, lowercase letters, digits and hyphens, "
                         "starting with a letter and not ending with a hyphen (e.g. 'gluelab-ana')")
    if "--" in prefix:
        raise ValueError(f"invalid prefix {prefix!r}: no double hyphens")
    if prefix.startswith(("aws", "ssm")):
        raise ValueError(f"invalid prefix {prefix!r}: it may not start with 'aws' or 'ssm' (AWS reserves those "
                         "at the start of SSM parameter names, which the lab names with its prefix)")
    return prefix


class Naming:
    """Names for one lab: ``Naming("gluelab", account_id="123456789012", region="us-east-1")``."""

    def __init__(self, prefix: str, account_id: str, region: str):
        self.prefix = validate_prefix(prefix)
        self.account_id = account_id
        self.region = region

    def bucket(self, zone: str) -> str:
        """The S3 bucket of a lake zone: ``<prefix>--<zone>-<account>-<region>`` (globally unique on AWS)."""
        return f"{self.prefix}{BOUNDARY}{zone}-{self.account_id}-{self.region}"

    def resource(self, base: str) -> str:
        """A job, crawler, workflow, trigger, function or queue name: ``<prefix>--<base>``."""
        return f"{self.prefix}{BOUNDARY}{_slug(base, '-')}"

    def database(self, base: str) -> str:
        """A Glue database name: ``<prefix>__<base>`` with underscores (Athena-friendly)."""
        return f"{self.db_prefix}{DB_BOUNDARY}{_slug(base, '_')}"

    @property
    def db_prefix(self) -> str:
        """The prefix as Glue database names spell it (underscores for hyphens)."""
        return self.prefix.replace("-", "_")

    def owns(self, name: str) -> bool:
        """Whether a resource name (or the last part of an ARN or URL) was made by this lab's naming: it starts
        with the prefix and the boundary (``team--``, ``team__``), which no other prefix's names can."""
        last = re.split(r"[/:]", name.rstrip("/"))[-1] if ("/" in name or ":" in name) else name
        return last.startswith(self.prefix + BOUNDARY) or last.startswith(self.db_prefix + DB_BOUNDARY)


def _slug(base: str, sep: str) -> str:
    s = re.sub(r"[^a-z0-9]+", sep, base.lower()).strip(sep)
    if not s:
        raise ValueError(f"cannot make a resource name from {base!r}")
    return s
