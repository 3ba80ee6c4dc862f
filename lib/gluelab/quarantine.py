"""Reading untrusted CSV and JSON without losing records silently.

Spark's readers in their default PERMISSIVE mode turn a record they cannot parse into a row of NULLs (or a row
with some NULLs), which then flows on as if it were data. :func:`read_csv` and :func:`read_json` split the
input instead into

* ``good``: the rows that parsed completely, typed by the given schema;
* ``quarantined``: the rows that did not, with the raw record text (``raw_record``), why it was rejected
  (``reason``, e.g. ``column amount: cannot parse 'abc' as double``) and the file it came from
  (``source_file``);

and check that nothing went missing: the input's record count, taken independently from the raw text lines
(blank and comment lines and CSV header lines excepted), must equal ``good + quarantined``.

How: Spark parses with the schema plus a corrupt-record column (``columnNameOfCorruptRecord``), and the parsed
result is cached (Spark refuses queries that reference only that column otherwise). Reasons come from parsing
the raw text a second time with every column as a string: a column whose text is there but whose typed value
is NULL failed to parse; for CSV, a wrong column count is the remaining cause.

A CSV line with an unterminated quote (a field that opens a quote and never closes it) is one Spark's parser
in line mode accepts: the value ends where the line ends, cut short, and the row looks good. Such lines are
found in the raw text (after complete ``"..."`` sections are removed, a quote still opens a field) and their
rows are moved from ``good`` to ``quarantined`` with the reason ``unterminated quote in column <name>``.
Lines that are not UTF-8 text (Spark's CSV reader decodes them with U+FFFD replacement characters, silently)
are moved the same way, with a reason that points to the ``encoding`` option. ``source_file`` is the object's URI as
S3 names it (spaces and non-ASCII characters as they are, not %-encoded).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

RAW, REASON, SOURCE = "raw_record", "reason", "source_file"
_CORRUPT = "_corrupt_record"
#: Reader options that shape the file, not a record: not passed on when a single record is re-parsed.
_FILE_OPTIONS = {"header", "multiline", "mode", "columnnameofcorruptrecord", "inferschema", "enforceschema",
                 "samplingratio", "encoding", "charset", "linesep", "pathglobfilter", "recursivefilelookup",
                 "modifiedbefore", "modifiedafter", "ignorecorruptfiles", "ignoremissingfiles"}
#: Reader options that decide which files and lines are read: the independent line count uses them too.
_TEXT_OPTIONS = {"linesep": "lineSep", "pathglobfilter": "pathGlobFilter",
                 "recursivefilelookup": "recursiveFileLookup", "modifiedbefore": "modifiedBefore",
                 "modifiedafter": "modifiedAfter"}


_HINTS = {"csv": "Check the format, the separator (sep=), header= and the schema.",
          "json": "Check the format and the schema; pretty-printed JSON needs multiLine=True."}


class QuarantineError(ValueError):
    """The input could not be read at all, or its records do not add up."""


@dataclass(frozen=True)
class QuarantineResult:
    """What :func:`read_csv` / :func:`read_json` found in ``path``."""

    path: str
    good: DataFrame
    quarantined: DataFrame
    input_rows: int
    good_rows: int
    quarantined_rows: int
    #: False with ``multiLine``: records can span lines, so ``input_rows`` is Spark's own record count.
    independent_count: bool = True
    _parsed: DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def reconciled(self) -> bool:
        """True when every input record is either good or quarantined."""
        return self.input_rows == self.good_rows + self.quarantined_rows

    def assert_reconciled(self) -> QuarantineResult:
        """Raise :class:`QuarantineError` unless ``input_rows == good_rows + quarantined_rows``."""
        if not self.reconciled:
            missing = self.input_rows - self.good_rows - self.quarantined_rows
            raise QuarantineError(
                f"{self.path}: {self.input_rows} input records but {self.good_rows} good + "
                f"{self.quarantined_rows} quarantined = {self.good_rows + self.quarantined_rows} "
                f"({abs(missing)} {'lost' if missing > 0 else 'extra'}); check the reader options "
                f"(header, comment, lineSep, multiLine)")
        return self

    def unpersist(self) -> None:
        """Release the cached parse (the DataFrames stay usable, recomputed from the files)."""
        if self._parsed is not None:
            self._parsed.unpersist()

    def __repr__(self) -> str:
        return (f"<QuarantineResult {self.path}: {self.input_rows} records = {self.good_rows} good + "
                f"{self.quarantined_rows} quarantined>")


def read_csv(spark: SparkSession, path: str | list[str], schema: StructType | str,
             **options) -> QuarantineResult:
    """Read CSV from ``path`` with ``schema`` (a StructType or DDL string), quarantining malformed rows.

    ``options`` are Spark's CSV options (``header=True``, ``sep=";"``, ``dateFormat=...``, ...). Rows with the
    wrong number of columns or a value that does not parse as its column's type are quarantined. Raises
    :class:`QuarantineError` when the input cannot be read or not a single record parses.
    """
    return _read(spark, "csv", path, schema, options)


def read_json(spark: SparkSession, path: str | list[str], schema: StructType | str,
              **options) -> QuarantineResult:
    """Read JSON Lines from ``path`` with ``schema``, quarantining broken lines and lines that do not fit.

    ``options`` are Spark's JSON options. A line that is not valid JSON, not a JSON object, or has a value of
    the wrong type is quarantined. Raises :class:`QuarantineError` as :func:`read_csv` does.
    """
    return _read(spark, "json", path, schema, options)


def _read(spark, fmt, path, schema, options) -> QuarantineResult:
    schema = _as_struct(spark, schema)
    opts = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in options.items()}
    lower = {k.lower(): v for k, v in opts.items()}
    corrupt = _CORRUPT if _CORRUPT not in schema.fieldNames() else "_gluelab_corrupt_record"
    where = path if isinstance(path, str) else ", ".join(path)

    passed_on = {k: v for k, v in opts.items() if k.lower() not in ("mode", "columnnameofcorruptrecord")}
    if fmt == "json" and "maxstringlen" not in lower:  # Jackson's default (20,000,000) is no JSON rule
        passed_on["maxStringLen"] = str(2**31 - 1)
    reader = (spark.read.schema(StructType(schema.fields + [StructField(corrupt, StringType())]))
              .options(**passed_on)
              .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", corrupt))
    try:
        parsed = getattr(reader, fmt)(path).select("*", _source_file())
        # Cached: Spark will not run a query that reads only the corrupt-record column straight from files.
        parsed = parsed.persist(StorageLevel.MEMORY_AND_DISK)
        counts = {row[0]: row[1] for row in parsed.groupBy(F.col(corrupt).isNull()).count().collect()}
        multiline = lower.get("multiline", "false") == "true"
        input_rows, suspects = ((counts.get(True, 0) + counts.get(False, 0)), None) if multiline else \
            _count_records(spark, fmt, path, lower)
    except Exception as e:  # Spark's errors arrive as several exception types; keep the first line only
        if isinstance(e, QuarantineError):
            raise
        raise QuarantineError(f"cannot read {where} as {fmt.upper()}: {_first_line(e)}") from None

    good_rows, bad_rows = counts.get(True, 0), counts.get(False, 0)
    if bad_rows and not good_rows:
        sample = [r[0] for r in _quarantined(parsed, fmt, schema, corrupt, lower)
                  .select(REASON).distinct().limit(3).collect()]
        parsed.unpersist()
        raise QuarantineError(f"none of the {bad_rows} records in {where} could be read as {fmt.upper()} "
                              f"with the given schema, e.g.: {'; '.join(sample)}. {_HINTS[fmt]}")
    user_columns = [c for c in parsed.columns if c not in (corrupt, SOURCE)]
    good = parsed.where(F.col(corrupt).isNull())
    quarantined = _quarantined(parsed, fmt, schema, corrupt, lower)
    if suspects is not None:
        good, moved = _unterminated(parsed, good, suspects, schema, corrupt, lower)
        n = moved.count()
        if n:
            good_rows, bad_rows = good_rows - n, bad_rows + n
            quarantined = quarantined.unionByName(moved).orderBy(SOURCE, RAW)
    good = good.select(*[_col(c) for c in user_columns])
    result = QuarantineResult(where, good, quarantined, input_rows,
                              good_rows, bad_rows, independent_count=not multiline, _parsed=parsed)
    return result.assert_reconciled()


def _quarantined(parsed: DataFrame, fmt: str, schema: StructType, corrupt: str, lower: dict) -> DataFrame:
    bad = parsed.where(F.col(corrupt).isNotNull())
    return bad.select(F.col(corrupt).alias(RAW), _reason(fmt, schema, corrupt, lower).alias(REASON),
                      F.col(SOURCE)).orderBy(SOURCE, RAW)


def _reason(fmt: str, schema: StructType, corrupt: str, lower: dict):
    """Why a row is quarantined: re-parse its raw text with every column as a string and see which column's
    text is there while its typed value is not."""
    raw = F.col(corrupt)
    record_options = {k: v for k, v in lower.items() if k not in _FILE_OPTIONS}
    names = schema.fieldNames()
    as_strings = ", ".join(f"{_quote(n)} STRING" for n in names)
    checks = []
    if fmt == "csv":
        # Count fields from the text itself (quoted sections removed, then separators counted): Spark's
        # parser reads an empty last field and a missing one alike as NULL, so "...,0," would look short.
        sep = lower.get("sep", lower.get("delimiter", ","))
        quote = lower.get("quote", '"')
        q = re.escape(quote)
        unquoted = F.regexp_replace(raw, f"{q}(?:[^{q}]|{q}{q})*{q}", "") if quote else raw
        fields = F.size(F.split(unquoted, re.escape(sep), -1))
        checks.append(F.when(fields > len(names), F.lit(f"more columns than the {len(names)} expected")))
        checks.append(F.when(fields < len(names), F.lit(f"fewer columns than the {len(names)} expected")))
        tokens = F.from_csv(raw, as_strings, record_options)
    else:
        tokens = F.from_json(raw, as_strings, record_options)
        checks.append(F.when(F.get_json_object(raw, "$").isNull(), F.lit("not valid JSON")))
        checks.append(F.when(~F.ltrim(raw).startswith("{"), F.lit("not a JSON object")))
    for column in schema.fields:
        if isinstance(column.dataType, StringType):
            continue
        token = tokens[column.name]
        checks.append(F.when(_col(column.name).isNull() & token.isNotNull(),
                             F.concat(F.lit(f"column {column.name}: cannot parse '"), token,
                                      F.lit(f"' as {column.dataType.simpleString()}"))))
    checks.append(F.lit("does not match the schema"))
    return F.coalesce(*checks)


def _count_records(spark: SparkSession, fmt: str, path, lower: dict) -> tuple[int, DataFrame | None]:
    """Records in the input counted from its raw lines, independently of the parser: lines with something
    other than whitespace, minus comment lines, minus one header line per non-empty file for CSV. Second:
    for CSV with lines that :func:`_suspect_line` flags, those lines (``value``, ``source_file``), else None."""
    text_options = {name: lower[key] for key, name in _TEXT_OPTIONS.items() if key in lower}
    lines = spark.read.options(**text_options).text(path)
    lines = lines.where(F.col("value").rlike(r"[^\x00-\x20]"))
    comment = lower.get("comment")
    if fmt == "csv" and comment:
        lines = lines.where(~F.col("value").startswith(comment))
    open_quote = _suspect_line(F.col("value"), lower) if fmt == "csv" else None
    aggregates = [F.count(F.lit(1)), F.countDistinct(F.col("_metadata.file_path"))]
    if open_quote is not None:
        aggregates.append(F.count(F.when(open_quote, F.lit(1))))
    row = lines.agg(*aggregates).first()
    headers = row[1] if fmt == "csv" and lower.get("header", "false") == "true" else 0
    suspects = None
    if open_quote is not None and row[2]:
        suspects = lines.where(open_quote).select(F.col("value"), _source_file())
    return row[0] - headers, suspects


def _quote_and_sep(lower: dict) -> tuple[str, str]:
    quote = lower.get("quote", '"')
    return ("" if quote in ("", "\u0000") else quote), lower.get("sep", lower.get("delimiter", ","))


def _without_quoted(raw, quote: str):
    """``raw`` with its complete quoted sections (``"..."``, doubled quotes inside) removed."""
    q = re.escape(quote)
    return F.regexp_replace(raw, f"{q}(?:[^{q}]|{q}{q})*{q}", "")


def _source_file():
    """The file of a row as S3 names it (Spark's ``_metadata.file_path`` is a URI: %-encoded, '+' literal)."""
    return F.expr("url_decode(replace(_metadata.file_path, '+', '%2B'))").alias(SOURCE)


def _not_utf8(raw):
    """True for text read as bytes (Spark's text source) that is not valid UTF-8."""
    return ~F.call_function("is_valid_utf8", raw)


def _suspect_line(raw, lower: dict):
    """True for a CSV line that Spark may parse into a good row with a wrong value: a field opens a quote that
    the line never closes, or the text is not UTF-8 (decoded with U+FFFD)."""
    quote, sep = _quote_and_sep(lower)
    utf8 = lower.get("encoding", lower.get("charset", "utf-8")).lower().replace("-", "") == "utf8"
    not_utf8 = _not_utf8(raw) if utf8 else F.lit(False)
    if not quote:
        return not_utf8
    return _without_quoted(raw, quote).rlike(f"(^|{re.escape(sep)}){re.escape(quote)}") | not_utf8


def _unterminated(parsed: DataFrame, good: DataFrame, suspects: DataFrame, schema: StructType, corrupt: str,
                  lower: dict) -> tuple[DataFrame, DataFrame]:
    """Rows Spark parsed as good from lines with an unterminated quote: ``(good without them, them as
    quarantined rows)``. Each such line is parsed again on its own and matched to a good row of the same file
    with the same values (as many rows as lines, so nothing is counted twice)."""
    from pyspark.sql import Window

    names = schema.fieldNames()
    quote, sep = _quote_and_sep(lower)
    # lines Spark already quarantined are not looked for among the good rows
    already = parsed.where(F.col(corrupt).isNotNull()).select(F.col(corrupt).alias("value"), SOURCE)
    suspects = suspects.join(already, ["value", SOURCE], "left_anti")
    record_options = {k: v for k, v in lower.items() if k not in _FILE_OPTIONS}
    ddl = ", ".join(f"{_quote(f.name)} {f.dataType.simpleString()}" for f in schema.fields)
    again = F.from_csv(F.col("value"), ddl, record_options)
    key_of = lambda cols: F.to_json(F.struct(*cols))  # noqa: E731 - one string per (file, values)
    lines = suspects.select("value", SOURCE, key_of([F.col(SOURCE)] + [again[n].alias(n) for n in names])
                            .alias("__key"))
    rows = good.select("*", key_of([F.col(SOURCE)] + [_col(n) for n in names]).alias("__key"))
    rank = Window.partitionBy("__key").orderBy("__key")
    lines = lines.withColumn("__rank", F.row_number().over(rank))
    rows = rows.withColumn("__rank", F.row_number().over(rank))
    per_key = lambda df: df.groupBy("__key").agg(F.count(F.lit(1)).alias("__n"))  # noqa: E731
    kept = (rows.join(per_key(lines), "__key", "left")
            .where(F.col("__rank") > F.coalesce(F.col("__n"), F.lit(0))).drop("__key", "__rank", "__n"))
    column = F.lit("?")
    if quote:  # the field the unclosed quote opens: separators outside complete quoted sections before it
        unquoted = _without_quoted(F.col("value"), quote)
        before = F.regexp_extract(unquoted, f"^(.*?)(?:^|{re.escape(sep)}){re.escape(quote)}", 1)
        index = F.when(unquoted.startswith(quote), F.lit(0)).otherwise(
            F.size(F.split(before, re.escape(sep), -1)))
        column = F.coalesce(F.element_at(F.array(*[F.lit(n) for n in names]), index + 1),
                            F.lit("past the last"))
    moved = (lines.join(per_key(rows), "__key").where(F.col("__rank") <= F.col("__n"))
             .select(F.col("value").alias(RAW),
                     F.when(_not_utf8(F.col("value")),
                            F.lit("not UTF-8 text: bytes that are not UTF-8 were replaced by U+FFFD (read it "
                                  "with its encoding, e.g. encoding='ISO-8859-1')"))
                      .otherwise(F.concat(F.lit("unterminated quote in column "), column,
                                          F.lit(": the value would be cut short at the end of the line")))
                     .alias(REASON),
                     F.col(SOURCE)))
    return kept, moved


def _as_struct(spark: SparkSession, schema) -> StructType:
    if isinstance(schema, StructType):
        return schema
    if isinstance(schema, str):
        return spark.createDataFrame([], schema).schema
    raise TypeError(f"schema must be a StructType or a DDL string like 'id INT, name STRING', got {schema!r}")


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _col(name: str):
    return F.col(_quote(name))


def _first_line(e: Exception) -> str:
    """The informative line of a Spark error (the root Java cause for py4j errors), without the stack."""
    java = getattr(e, "java_exception", None)
    if java is not None:
        while java.getCause() is not None:
            java = java.getCause()
        return str(java.toString())[:500]
    text = str(e).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("Traceback", "py4j", "at ")):
            return line[:500]
    return type(e).__name__
