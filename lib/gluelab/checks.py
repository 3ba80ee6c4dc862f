"""Checks for lesson and exercise cells: asserts whose failure messages are hints for the learner.

Every check returns quietly when it holds and otherwise raises AssertionError with a message in three parts:
the hint (what to try), what was expected and what was found. `passed()` prints a short success line.

    from gluelab.checks import check_columns, check_rows, passed
    check_columns(orders, ["order_id", "amount"], hint="select only the two columns the report needs")
    check_rows(orders, 42, hint="drop the cancelled orders with a filter on status")
    passed("orders are clean")

DataFrames may be pandas or Spark (a Glue DynamicFrame is read through `toDF()`). pyspark and pandas are
imported only when a check is handed one of their objects, so checks on pandas data never start Spark.
"""
from __future__ import annotations

import builtins
import math
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

__all__ = ["check", "check_equal", "check_columns", "check_rows", "check_frame_equal", "check_close",
           "check_s3_object", "check_s3_prefix", "passed"]

_MAX_REPR = 400


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR - 20] + f"... ({len(text)} characters)"


def _fail(hint: str, expected: str | None = None, found: str | None = None, detail: str | None = None,
          default_hint: str = ""):
    lines = [hint or default_hint or "Check failed."]
    if expected is not None:
        lines.append(f"  expected: {expected}")
    if found is not None:
        lines.append(f"  found:    {found}")
    if detail:
        lines.append(detail)
    raise AssertionError("\n".join(lines))


def passed(message: str = "all checks passed") -> None:
    """Print a short success line ("✔ message") so the learner sees the cell's checks held."""
    print(f"\u2714 {message}")


def check(condition, hint: str) -> None:
    """Fail with `hint` unless `condition` is true."""
    if not condition:
        _fail(hint)


def _difference(actual, expected) -> str | None:
    """A short description of how two containers differ, or None."""
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        changed = [k for k in expected if k in actual and actual[k] != expected[k]]
        parts = []
        if missing:
            parts.append(f"missing keys: {_show(missing)}")
        if extra:
            parts.append(f"unexpected keys: {_show(extra)}")
        for k in changed[:5]:
            parts.append(f"[{k!r}]: expected {_show(expected[k])}, found {_show(actual[k])}")
        return "  " + "\n  ".join(parts) if parts else None
    if isinstance(actual, AbstractSet) and isinstance(expected, AbstractSet):
        parts = []
        if expected - actual:
            parts.append(f"missing: {_show(sorted(expected - actual, key=repr))}")
        if actual - expected:
            parts.append(f"unexpected: {_show(sorted(actual - expected, key=repr))}")
        return "  " + "\n  ".join(parts) if parts else None
    if (isinstance(actual, Sequence) and isinstance(expected, Sequence)
            and not isinstance(actual, (str, bytes)) and not isinstance(expected, (str, bytes))):
        if len(actual) != len(expected):
            return f"  lengths differ: expected {len(expected)} items, found {len(actual)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            if a != e:
                return f"  first difference at index {i}: expected {_show(e)}, found {_show(a)}"
    return None


def check_equal(actual, expected, hint: str = "") -> None:
    """Fail unless `actual == expected`: plain values, lists, dicts, sets (frames: check_frame_equal)."""
    try:
        equal = bool(actual == expected)
    except (ValueError, TypeError) as e:  # e.g. the truth value of an array or DataFrame is ambiguous
        raise TypeError(f"check_equal compares plain values, not {type(actual).__name__}; for DataFrames use "
                        "check_frame_equal, for floats check_close") from e
    if equal:
        return
    found = _show(actual)
    if type(actual) is not type(expected):
        found += f" (type {type(actual).__name__}, expected {type(expected).__name__})"
    _fail(hint, _show(expected), found, _difference(actual, expected),
          default_hint="The value is not the expected one.")


def check_close(actual, expected, rel: float = 1e-9, abs: float = 0.0, hint: str = "") -> None:
    """Fail unless `actual` is within `rel` (relative) or `abs` (absolute) of `expected`.

    For money and other floats: Decimals (Spark's DecimalType) are compared as floats. For amounts in cents,
    `abs=0.005` accepts any rounding to the cent.
    """
    if actual is None or isinstance(actual, (str, bytes, bool)):
        _fail(hint, f"a number close to {expected!r}", f"{_show(actual)} ({type(actual).__name__})",
              default_hint="Expected a number.")
    try:
        a, e = float(actual), float(expected)
    except (TypeError, ValueError):
        _fail(hint, f"a number close to {expected!r}", f"{_show(actual)} ({type(actual).__name__})",
              default_hint="Expected a number.")
    if math.isclose(a, e, rel_tol=rel, abs_tol=abs):
        return
    _fail(hint, f"{expected!r} (within rel={rel:g}, abs={abs:g})",
          f"{actual!r} (off by {builtins.abs(a - e):.6g})",
          default_hint="The number is not the expected one.")


# ---- DataFrames --------------------------------------------------------------------------------------------


def _kind(df) -> str:
    module = type(df).__module__ or ""
    if module.startswith("pyspark.pandas"):
        return "pandas-on-spark"
    if module.startswith("pyspark"):
        return "spark"
    if module.startswith("pandas"):
        return "pandas"
    if hasattr(df, "toDF") and hasattr(df, "schema") and callable(df.schema):
        return "dynamicframe"
    return "other"


def _as_frame(df):
    """A DynamicFrame becomes its Spark DataFrame; everything else is returned as it is."""
    return df.toDF() if _kind(df) == "dynamicframe" else df


def _columns(df) -> list[str]:
    df = _as_frame(df)
    if not hasattr(df, "columns"):
        raise TypeError(f"expected a pandas or Spark DataFrame (or a DynamicFrame), got {type(df).__name__}")
    return [str(c) for c in df.columns]


def check_columns(df, expected_columns, hint: str = "", ordered: bool = False) -> None:
    """Fail unless the frame has exactly `expected_columns` (in that order too, when `ordered`)."""
    found = _columns(df)
    expected = [str(c) for c in expected_columns]
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    if not missing and not extra and (not ordered or found == expected):
        return
    parts = []
    if missing:
        parts.append(f"  missing:    {missing}")
        case = [f for f in found for m in missing if f.lower() == m.lower() and f != m]
        if case:
            parts.append(f"  (same name, different case: {case}; column names are case-sensitive here)")
    if extra:
        parts.append(f"  unexpected: {extra}")
    if not missing and not extra:
        parts.append("  the same columns in another order: select them in the expected order")
    _fail(hint, str(expected), str(found), "\n".join(parts),
          default_hint="The columns are not the expected ones: select, rename or drop columns to match.")


def _count(df) -> int:
    df = _as_frame(df)
    if _kind(df) == "spark":
        return int(df.count())
    if hasattr(df, "__len__"):
        return len(df)
    raise TypeError(f"cannot count the rows of a {type(df).__name__}")


def check_rows(df, n: int, hint: str = "") -> None:
    """Fail unless the frame (pandas, Spark, DynamicFrame or any sized collection) has `n` rows."""
    found = _count(df)
    if found == n:
        return
    if found > n:
        why = ("  too many rows: look for a missing filter, duplicates to drop, or a join that matches a row "
               "more than once")
    else:
        why = ("  too few rows: look for a filter that is too strict or an inner join that drops unmatched "
               "rows")
    _fail(hint, f"{n} rows", f"{found} rows", why, default_hint="The number of rows is not the expected one.")


def _sorted_pandas(df):
    try:
        ordered = df.sort_values(by=list(df.columns), kind="mergesort", na_position="last")
        return ordered.reset_index(drop=True)
    except TypeError:  # unorderable values (dicts, mixed types): fall back to their text form
        return df.loc[df.astype(str).sort_values(by=list(df.columns), kind="mergesort").index].reset_index(
            drop=True)


def check_frame_equal(actual, expected, hint: str = "", check_row_order: bool = False, **options) -> None:
    """Fail unless two DataFrames hold the same rows, columns and types.

    Spark frames (or a DynamicFrame, or expected rows as a list of Row) go to
    `pyspark.testing.assertDataFrameEqual(actual, expected, checkRowOrder=check_row_order, **options)`;
    pandas frames to `pandas.testing.assert_frame_equal(**options)` after sorting both by all columns unless
    `check_row_order` (the index is not compared: only values, columns and dtypes). The hint comes first in
    the message, then the library's own description of the difference.
    """
    actual, expected = _as_frame(actual), _as_frame(expected)
    kinds = {_kind(actual), _kind(expected)}
    default_hint = "The DataFrame differs from the expected one."
    if "spark" in kinds or "pandas-on-spark" in kinds or isinstance(expected, list):
        from pyspark.testing import assertDataFrameEqual

        try:
            assertDataFrameEqual(actual, expected, checkRowOrder=check_row_order, **options)
        except AssertionError as e:
            raise AssertionError(f"{hint or default_hint}\n{e}") from None
        return
    if kinds != {"pandas"}:
        raise TypeError(f"check_frame_equal compares two pandas or two Spark DataFrames, got "
                        f"{type(actual).__name__} and {type(expected).__name__}")
    import pandas.testing

    if list(actual.columns) != list(expected.columns) and not options.get("check_like"):
        check_columns(actual, list(expected.columns), hint=hint or default_hint, ordered=True)
    a, e = actual.reset_index(drop=True), expected.reset_index(drop=True)
    if not check_row_order and list(a.columns) == list(e.columns):
        a, e = _sorted_pandas(a), _sorted_pandas(e)
    try:
        pandas.testing.assert_frame_equal(a, e, **options)
    except AssertionError as err:
        rows = f"\n  expected: {len(e)} rows\n  found:    {len(a)} rows" if len(a) != len(e) else ""
        raise AssertionError(f"{hint or default_hint}{rows}\n{err}") from None


# ---- S3 ----------------------------------------------------------------------------------------------------


def _error_code(error) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _listing(client, bucket: str, prefix: str, limit: int = 10) -> str:
    """What is under `prefix` (one level, like `aws s3 ls`), for failure messages."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        page = client.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/", MaxKeys=limit)
    except (ClientError, BotoCoreError) as e:  # only for the message: the check has already failed
        if _error_code(e) == "NoSuchBucket":
            return f"  bucket {bucket!r} does not exist: check its name (lab buckets carry the lab's prefix)"
        return f"  (could not list s3://{bucket}/{prefix}: {e})"
    names = [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    names += [o["Key"] for o in page.get("Contents", [])]
    if not names:
        return f"  nothing under s3://{bucket}/{prefix}"
    more = " ..." if page.get("IsTruncated") else ""
    return f"  under s3://{bucket}/{prefix}: " + ", ".join(sorted(names)) + more


def check_s3_object(client, bucket: str, key: str, hint: str = "") -> dict:
    """Fail unless s3://bucket/key exists; returns its head_object response (ContentLength, ...)."""
    from botocore.exceptions import ClientError

    try:
        return client.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        code = _error_code(e)
        if code not in ("404", "NoSuchKey", "NotFound", "NoSuchBucket", "403"):
            raise
        found = ("403 Forbidden: no permission to read it, or it does not exist and listing is not allowed"
                 if code == "403" else "no such object")
        parent = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
        _fail(hint, f"an object at s3://{bucket}/{key}", found, _listing(client, bucket, parent),
              default_hint="The S3 object is not there: check the bucket, the key and that the write ran.")


def check_s3_prefix(client, bucket: str, prefix: str, min_objects: int = 1, hint: str = "") -> list[str]:
    """Fail unless at least `min_objects` objects (folder markers ending in '/' not counted) are under
    s3://bucket/prefix; returns their keys, sorted."""
    from botocore.exceptions import ClientError

    keys: list[str] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/"))
    except ClientError as e:
        if _error_code(e) != "NoSuchBucket":
            raise
    if len(keys) >= min_objects:
        return sorted(keys)
    parent = prefix.rstrip("/").rsplit("/", 1)[0] + "/" if "/" in prefix.rstrip("/") else ""
    _fail(hint, f"at least {min_objects} object{'s' * (min_objects != 1)} under s3://{bucket}/{prefix}",
          f"{len(keys)}" + (f": {_show(sorted(keys))}" if keys else ""), _listing(client, bucket, parent),
          default_hint="Not enough objects under the S3 prefix: check the path and that the write ran.")
