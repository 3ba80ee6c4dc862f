"""``getResolvedOptions``: a Glue job script's arguments, as AWS Glue passes and parses them.

A job run's script gets ``sys.argv`` like ``[script, "--JOB_NAME", "orders", "--JOB_RUN_ID", "jr_...",
"--job-bookmark-option", "job-bookmark-enable", "--TempDir", "s3://...", "--day", "2024-05-01"]``: the
job's default arguments merged with the run's. ``getResolvedOptions(sys.argv, ["JOB_NAME", "day"])`` returns
``{"JOB_NAME": "orders", "day": "2024-05-01", "job_bookmark_option": "job-bookmark-enable", ...}``.

As on AWS: names are given without ``--``; each one asked for is required (a missing one raises
:class:`GlueArgumentError` listing all that are missing, instead of exiting the interpreter); arguments not
asked for are ignored; the reserved arguments are always in the result (``None`` when absent), with
``job_bookmark_option`` defaulting to ``job-bookmark-disable``; ``--TempDir`` and ``--RedshiftTempDir``
mirror each other; a dash in a name becomes an underscore in the result's key (``--job-bookmark-option`` ->
``job_bookmark_option``). Reserved names may be asked for too and are then returned (``JOB_RUN_ID``,
``TempDir``, ``job-bookmark-option``).
"""
from __future__ import annotations

from . import bookmarks

#: Reserved arguments that are always returned (None when the run did not pass them).
RESERVED = ("JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION", "job-bookmark-option", "job-bookmark-from",
            "job-bookmark-to", "encryption-type", "enable-data-lineage", "RedshiftTempDir", "TempDir")
#: Reserved arguments that are optional even when asked for.
OPTIONAL = {"TempDir", "RedshiftTempDir", "job-bookmark-option"}
_CONTINUATION = {"continuation-enabled": bookmarks.ENABLE, "continuation-readonly": bookmarks.PAUSE,
                 "continuation-ignore": bookmarks.DISABLE}
_CHOICES = {"job-bookmark-option": bookmarks.OPTIONS, "continuation-option": tuple(_CONTINUATION),
            "encryption-type": ("sse-s3",)}


class GlueArgumentError(Exception):
    """A job argument is missing or has a value Glue does not accept."""


def _key(name: str) -> str:
    return name.replace("-", "_")


def parse_arguments(argv: list[str]) -> dict[str, str]:
    """``--name value`` pairs of ``argv`` (without the script name) as ``{name: value}``; ``--name=value`` is
    accepted too, and a ``--name`` followed by another ``--option`` (or nothing) has the value ``""``. A later
    occurrence wins, as with argparse."""
    out: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = str(argv[i])
        if token.startswith("--") and len(token) > 2:
            name = token[2:]
            if "=" in name:
                name, value = name.split("=", 1)
                i += 1
            elif i + 1 < len(argv) and not str(argv[i + 1]).startswith("--"):
                value = str(argv[i + 1])
                i += 2
            else:
                value = ""
                i += 1
            out[name] = value
        else:
            i += 1
    return out


def getResolvedOptions(args: list[str], options: list[str]) -> dict:
    """The job arguments ``options`` (names without ``--``) from ``args`` (``sys.argv``), plus the reserved
    ones. Raises :class:`GlueArgumentError` naming every missing argument, or a value Glue rejects."""
    given = parse_arguments(list(args)[1:])
    wanted = [o.removeprefix("--") for o in options]
    for name, choices in _CHOICES.items():
        if name in given and given[name] not in choices:
            raise GlueArgumentError(f"argument --{name}: invalid choice {given[name]!r} "
                                    f"(choose from {', '.join(choices)})")
    missing = [o for o in wanted if o not in given and o not in OPTIONAL]
    if missing:
        raise GlueArgumentError(
            "the following arguments are required: " + ", ".join("--" + m for m in missing)
            + ". Pass them as job arguments, e.g. DefaultArguments or start_job_run(Arguments={"
            + ", ".join(f"'--{m}': '...'" for m in missing) + "})")
    resolved: dict = {_key(name): given.get(name) for name in RESERVED}
    for name in wanted:
        resolved[_key(name)] = given.get(name)
    if resolved["TempDir"] is not None:
        resolved["RedshiftTempDir"] = resolved["TempDir"]
    elif resolved["RedshiftTempDir"] is not None:
        resolved["TempDir"] = resolved["RedshiftTempDir"]
    option = resolved["job_bookmark_option"]
    if option is None:
        old = given.get("continuation-option")
        option = _CONTINUATION[old] if old else bookmarks.DISABLE
    resolved["job_bookmark_option"] = option
    ranges = [r for r in ("job_bookmark_from", "job_bookmark_to") if resolved[r] is not None]
    if option == bookmarks.PAUSE and len(ranges) == 1:
        absent = "--job-bookmark-to" if ranges[0] == "job_bookmark_from" else "--job-bookmark-from"
        raise GlueArgumentError(f"job-bookmark-pause with a range needs both --job-bookmark-from and "
                                f"--job-bookmark-to: missing {absent}")
    if option != bookmarks.PAUSE and ranges:
        raise GlueArgumentError("--job-bookmark-from / --job-bookmark-to are only valid with "
                                "--job-bookmark-option job-bookmark-pause")
    return resolved
