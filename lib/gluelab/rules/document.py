"""The rules document: its vocabulary, normalising and checking it, and reading and storing it.

Holds the constants that define a document (:data:`RULES`, :data:`ALIASES`, categories, actions, the Glue
table parameters), :class:`RuleError`, :func:`normalize` (structure and values, no schema needed),
:func:`dumps`, :func:`load` and the stores (S3, a Glue table's parameters), and :func:`describe`.

Why apart from :mod:`.engine`: all of this works on the document alone, without Spark, and is what people
who own the rules read and change; the engine builds on it (it imports from here, never the reverse). The
user-facing documentation is :mod:`gluelab.rules`'s docstring.
"""
from __future__ import annotations

import copy
import difflib
import html
import json
import re
from pathlib import Path

from ..uris import split_uri


#: Table parameter holding the rules document as JSON text.
PARAMETER = "transformation_rules"
#: Table parameter holding the S3 URI of a rules document (for documents too large for a parameter).
PARAMETER_URI = "transformation_rules_uri"
#: Glue's limit on a table parameter value (TableInput.Parameters: at most 512,000 characters).
PARAMETER_LIMIT = 512_000
CATEGORIES = ("data_quality", "business_logic", "optimization")

_COMMON = ("description", "enabled")
#: rule -> (default category, required keys, optional keys)
RULES = {
    "null_handling": ("data_quality", ("column", "action"), ("value",)),
    "derived_field": ("business_logic", ("expression", "target_column"), ()),
    "filter": ("business_logic", ("condition",), ()),
    "type_conversion": ("optimization", ("column", "target_type"), ()),
    "categorical_mapping": ("business_logic", ("column", "mapping"), ("default", "target_column")),
    "partition_key": ("optimization", ("expression", "target_column"), ()),
    "deduplicate": ("data_quality", ("keys",), ("order_by", "keep")),
    "standardize": ("data_quality", ("column", "action"), ("formats",)),
}
#: Other names for rules: the guide's static-vs-dynamic example and common spellings.
ALIASES = {"column_combination": "derived_field", "data_type_conversion": "type_conversion",
           "dedup": "deduplicate", "duplicate_detection": "deduplicate",
           "format_standardization": "standardize", "standardise": "standardize"}
NULL_ACTIONS = ("replace_with_zero", "replace_with_value", "replace_with_mean", "drop_row")
STANDARDIZE_ACTIONS = ("trim", "lower", "upper", "collapse_spaces", "phone", "email", "date")


class RuleError(ValueError):
    """A rules document that cannot be used, with every problem found (``.problems``)."""

    def __init__(self, problems, table: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        where = f" for table {table}" if table else ""
        n = len(self.problems)
        head = f"{n} problem{'s' * (n != 1)} in the rules{where}:"
        super().__init__(head + "".join(f"\n  - {p}" for p in self.problems))


# ---- documents: normalise, load, store ---------------------------------------------------------------------


def _suggest(word, choices) -> str:
    choices = list(choices)
    same = [c for c in choices if str(c).lower() == str(word).lower()]
    close = same or difflib.get_close_matches(str(word), choices, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _label(i: int, rule: dict) -> str:
    return f"rule {i} ({rule['rule']})" if rule.get("rule") in RULES else f"rule {i}"


def _as_list(value):
    return [value] if isinstance(value, str) else value


def _check_values(rule: dict) -> list[str]:
    """Problems with the values of a rule's keys (types, allowed actions) that need no schema."""
    out = []

    def text(key):
        v = rule.get(key)
        if key in rule and not (isinstance(v, str) and v.strip()):
            out.append(f"{key!r} must be a non-empty string, not {v!r}")

    for key in ("column", "expression", "condition", "target_column", "target_type", "description"):
        text(key)
    for key in ("expression", "condition"):
        if isinstance(rule.get(key), str):
            out += [h for h in map(_pattern_hint, _DATETIME_PATTERN.findall(rule[key])) if h]
    kind = rule["rule"]
    if kind == "null_handling" and "action" in rule:
        if rule["action"] not in NULL_ACTIONS:
            out.append(f"unknown action {rule['action']!r}{_suggest(rule['action'], NULL_ACTIONS)}; actions "
                       f"are {', '.join(NULL_ACTIONS)}")
        elif rule["action"] == "replace_with_value" and "value" not in rule:
            out.append("action 'replace_with_value' needs a 'value'")
    if kind == "categorical_mapping" and "mapping" in rule:
        m = rule["mapping"]
        if not isinstance(m, dict) or not m:
            out.append(f"'mapping' must be a non-empty object {{value: new value}}, not {m!r}")
        else:
            kinds = {_value_kind(v) for v in [*m.values(), *([rule["default"]] if "default" in rule else [])]}
            kinds.discard("null")
            if len(kinds) > 1 or "other" in kinds:
                out.append("mapping values (and the default) must all be text, all numbers or all true/false")
    if kind == "deduplicate":
        keys = _as_list(rule.get("keys"))
        if "keys" in rule and not (isinstance(keys, list) and keys
                                   and all(isinstance(k, str) and k for k in keys)):
            out.append(f"'keys' must be a column name or a non-empty list of them, not {rule['keys']!r}")
        order = _as_list(rule.get("order_by", []))
        if not (isinstance(order, list) and all(isinstance(o, str) and o.strip() for o in order)):
            out.append(f"'order_by' must be a column (optionally 'col desc') or a list of them, not "
                       f"{rule['order_by']!r}")
        if rule.get("keep", "first") not in ("first", "last"):
            out.append(f"'keep' must be 'first' or 'last', not {rule['keep']!r}")
    if kind == "standardize" and "action" in rule:
        actions = _as_list(rule["action"])
        if not (isinstance(actions, list) and actions and all(isinstance(a, str) for a in actions)):
            out.append(f"'action' must be one of {', '.join(STANDARDIZE_ACTIONS)} or a list of them")
        else:
            for a in actions:
                if a not in STANDARDIZE_ACTIONS:
                    out.append(f"unknown action {a!r}{_suggest(a, STANDARDIZE_ACTIONS)}; actions are "
                               f"{', '.join(STANDARDIZE_ACTIONS)}")
            if "date" in actions and actions[-1] != "date":
                out.append("'date' must be the last action (it turns text into a DATE)")
            if "date" in actions:
                formats = _as_list(rule.get("formats"))
                if not (isinstance(formats, list) and formats
                        and all(isinstance(f, str) and f for f in formats)):
                    out.append("action 'date' needs 'formats': a list of Spark datetime patterns, e.g. "
                               "['M/d/yyyy', 'yyyy-MM-dd']")
                else:
                    out += [_pattern_hint(f) for f in formats if _pattern_hint(f)]
    if "enabled" in rule and not isinstance(rule["enabled"], bool):
        out.append(f"'enabled' must be true or false, not {rule['enabled']!r}")
    return out


def _value_kind(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return "text" if isinstance(v, str) else "other"


#: The pattern argument of Spark's datetime functions inside an expression (one level of nested parentheses).
_DATETIME_PATTERN = re.compile(r"\b(?:date_format|to_date|to_timestamp|try_to_date|try_to_timestamp|"
                               r"unix_timestamp|to_unix_timestamp|from_unixtime)"
                               r"\s*\((?:[^()']|\([^()]*\))*?,\s*'([^']*)'", re.I)


def _pattern_hint(fmt: str) -> str:
    """A likely mistake in a Spark datetime pattern, or ''."""
    letters = re.sub(r"'[^']*'", "", fmt)
    if "Y" in letters:
        return f"format {fmt!r}: 'Y' is the week-based year; use 'y' for the calendar year"
    if "D" in letters:
        return f"format {fmt!r}: 'D' is the day of the year; use 'd' for the day of the month"
    if "m" in letters and not re.search("[Hhk]", letters):
        return f"format {fmt!r}: 'm' is minutes; use 'M' for the month"
    return ""


def _normalize_rule(i: int, raw) -> tuple[dict, list[str]]:
    if not isinstance(raw, dict):
        return {}, [f"rule {i}: must be an object with 'type' and 'rule', not {raw!r}"]
    rule = dict(raw)
    kind = rule.get("rule")
    category = rule.get("type")
    names = [*CATEGORIES, *RULES, *ALIASES]
    if kind is None and category is None:
        return rule, [f"rule {i}: has neither 'type' nor 'rule'"]
    if kind is None:              # the guide's short form: "type" names the rule
        kind, category = category, None
    if not isinstance(kind, str) or not isinstance(category, (str, type(None))):
        return rule, [f"rule {i}: 'type' and 'rule' must be names, not {raw.get('type')!r} and "
                      f"{raw.get('rule')!r}"]
    kind = ALIASES.get(kind, kind)
    if kind not in RULES:
        known = ", ".join(RULES)
        return rule, [f"rule {i}: unknown rule {kind!r}{_suggest(kind, names)}; rules are {known}"]
    if category is not None and ALIASES.get(category, category) not in (*CATEGORIES, kind):
        return rule, [f"rule {i} ({kind}): unknown type {category!r}{_suggest(category, CATEGORIES)}; types "
                      f"are {', '.join(CATEGORIES)}"]
    if category is None or category not in CATEGORIES:
        category = RULES[kind][0]
    _, required, optional = RULES[kind]
    allowed = {"type", "rule", *required, *optional, *_COMMON}
    out = {"type": category, "rule": kind, **{k: v for k, v in rule.items() if k not in ("type", "rule")}}
    label = f"rule {i} ({kind})"
    problems = [f"{label}: missing key {k!r}" for k in required if k not in rule]
    problems += [f"{label}: unknown key {k!r}{_suggest(k, allowed)}" for k in rule if k not in allowed]
    problems += [f"{label}: {p}" for p in _check_values(out)]
    return out, problems


def _normalized(doc) -> tuple[dict, list[tuple[int, str]], set[int]]:
    """(canonical document, problems as (rule number or 0, text), numbers of the rules with problems)."""
    if isinstance(doc, list):
        doc = {"rules": doc}
    if not isinstance(doc, dict):
        raise RuleError(f"a rules document is an object {{'table': ..., 'rules': [...]}}, "
                        f"not {type(doc).__name__}")
    problems = [(0, f"unknown key {k!r}{_suggest(k, ('table', 'rules'))} at the top level (expected 'table' "
                 "and 'rules')") for k in doc if k not in ("table", "rules")]
    table = doc.get("table")
    if table is not None and not (isinstance(table, str) and table):
        problems.append((0, f"'table' must be a table name, not {table!r}"))
    rules = doc.get("rules")
    if not isinstance(rules, list):
        raise RuleError([p for _, p in problems] + [f"'rules' must be a list of rules, not {rules!r}"], table)
    out, broken = [], set()
    for i, raw in enumerate(rules, start=1):
        rule, found = _normalize_rule(i, raw)
        out.append(rule)
        problems += [(i, p) for p in found]
        broken |= {i} if found else set()
    return {"table": table, "rules": copy.deepcopy(out)}, problems, broken


def normalize(doc) -> dict:
    """The canonical form of a rules document (aliases resolved, every rule with ``type`` and ``rule``).

    Raises :class:`RuleError` listing every structural problem (unknown rules and keys, missing keys, wrong
    values); checks that need the table's schema are :func:`validate`'s.
    """
    doc, problems, _ = _normalized(doc)
    if problems:
        raise RuleError([p for _, p in problems], doc["table"])
    return doc


def dumps(doc, fmt: str = "json") -> str:
    """The document as text: ``json`` (compact, for a table parameter), ``json-pretty`` or ``yaml``."""
    doc = normalize(doc)
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    if fmt == "json-pretty":
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    raise ValueError(f"fmt must be 'json', 'json-pretty' or 'yaml', not {fmt!r}")


def _parse(text: str, name: str, fmt: str | None = None):
    if fmt is None:
        fmt = "yaml" if name.lower().endswith((".yaml", ".yml")) else "json" if name.lower().endswith(
            ".json") else None
    if fmt in (None, "json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            if fmt == "json":
                raise RuleError(f"{name} is not valid JSON: {e}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RuleError(f"{name} is neither valid JSON nor valid YAML: {e}") from None


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, key = split_uri(uri)
    if not bucket or not key:
        raise ValueError(f"not an S3 object URI: {uri!r} (expected s3://bucket/key)")
    return bucket, key


def load(source, *, s3=None) -> dict:
    """Read a rules document from a dict, a JSON/YAML file path, an ``s3://bucket/key`` URI or JSON text.

    The format comes from the extension (``.json``, ``.yaml``/``.yml``); without one JSON is tried, then YAML.
    ``s3`` is a boto3 S3 client (default: ``boto3.client("s3")``, which reaches the lab's endpoint once it is
    started). Returns the normalised document (:func:`normalize`).
    """
    if isinstance(source, (dict, list)):
        return normalize(source)
    text = str(source)
    if isinstance(source, str) and text.lstrip().startswith("{"):
        return normalize(_parse(text, "the rules text", "json"))
    if text.startswith("s3://"):
        if s3 is None:
            import boto3

            s3 = boto3.client("s3")
        bucket, key = _split_s3(text)
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        return normalize(_parse(body, text))
    path = Path(source)
    return normalize(_parse(path.read_text(encoding="utf-8"), path.name))


def save_to_s3(s3, uri: str, doc) -> str:
    """Write the document to ``s3://bucket/key``: YAML for ``.yaml``/``.yml``, else pretty JSON."""
    fmt = "yaml" if uri.lower().endswith((".yaml", ".yml")) else "json-pretty"
    bucket, key = _split_s3(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=dumps(doc, fmt).encode("utf-8"),
                  ContentType="application/yaml" if fmt == "yaml" else "application/json")
    return uri


def save_to_table(glue, database: str, table: str, doc=None, *, uri: str | None = None) -> str:
    """Store rules with a Glue table: the document as JSON in the parameter :data:`PARAMETER`, or (``uri=``)
    the S3 URI of a document in :data:`PARAMETER_URI`. Returns the table's new version id.

    Every ``update_table`` keeps the previous definition as a table version, so the catalog records the
    history of the rules too. A parameter value holds at most 512,000 characters: a larger document is
    refused with a :class:`RuleError` that says to store it in S3 and save its URI instead.
    """
    if (doc is None) == (uri is None):
        raise ValueError("give either the rules document or uri='s3://...' of one")
    from ..catalog import table_input

    current = glue.get_table(DatabaseName=database, Name=table)["Table"]
    params = dict(current.get("Parameters", {}))
    params.pop(PARAMETER, None)
    params.pop(PARAMETER_URI, None)
    if uri is not None:
        _split_s3(uri)
        params[PARAMETER_URI] = uri
    else:
        doc = normalize(doc)
        if doc["table"] not in (None, table):
            raise RuleError(f"the document is for table {doc['table']!r}, not {table!r}", table)
        text = dumps({**doc, "table": table})
        if len(text) > PARAMETER_LIMIT or len(text.encode("utf-8")) > PARAMETER_LIMIT:
            raise RuleError(f"the rules are {len(text.encode('utf-8')):,} bytes as JSON; a Glue table "
                            f"parameter value holds at most {PARAMETER_LIMIT:,}: store the document in S3 "
                            "(save_to_s3) and save its URI with save_to_table(..., uri='s3://...')", table)
        params[PARAMETER] = text
    glue.update_table(DatabaseName=database, TableInput={**table_input(current), "Parameters": params})
    return glue.get_table(DatabaseName=database, Name=table)["Table"].get("VersionId", "")


def load_from_table(glue, database: str, table: str, *, s3=None) -> dict:
    """The rules stored with a Glue table (see :func:`save_to_table`), normalised."""
    params = glue.get_table(DatabaseName=database, Name=table)["Table"].get("Parameters", {})
    if PARAMETER in params:
        doc = _parse(params[PARAMETER], f"parameter {PARAMETER!r} of {database}.{table}", "json")
    elif PARAMETER_URI in params:
        doc = load(params[PARAMETER_URI], s3=s3)
    else:
        raise RuleError(f"table {database}.{table} has no rules: no parameter {PARAMETER!r} (JSON) or "
                        f"{PARAMETER_URI!r} (S3 URI of a JSON/YAML document); store some with "
                        "rules.save_to_table", table)
    doc = normalize(doc)
    return {**doc, "table": doc["table"] or table}


# ---- describe ----------------------------------------------------------------------------------------------


def _what(rule: dict) -> str:
    """A rule in words."""
    kind = rule["rule"]
    if kind == "null_handling":
        action = rule["action"]
        fill = {"replace_with_zero": "0", "replace_with_mean": "the column's mean",
                "replace_with_value": repr(rule.get("value"))}.get(action)
        return (f"reject rows where {rule['column']} is null" if action == "drop_row"
                else f"replace nulls in {rule['column']} with {fill}")
    if kind in ("derived_field", "partition_key"):
        return f"{rule['target_column']} = {rule['expression']}"
    if kind == "filter":
        return f"keep rows where {rule['condition']}"
    if kind == "type_conversion":
        return f"convert {rule['column']} to {rule['target_type']}"
    if kind == "categorical_mapping":
        m = rule["mapping"]
        shown = ", ".join(f"{k}->{v}" for k, v in list(m.items())[:3]) + (", ..." if len(m) > 3 else "")
        rest = f"; else {rule['default']!r}" if "default" in rule else ""
        into = f" into {rule['target_column']}" if rule.get("target_column") else ""
        return f"map {rule['column']}{into}: {shown}{rest}"
    if kind == "deduplicate":
        order = ", ".join(_as_list(rule.get("order_by", []))) or "all columns"
        keys = ", ".join(_as_list(rule["keys"]))
        return f"keep the {rule.get('keep', 'first')} row per ({keys}) by {order}"
    actions = _as_list(rule["action"])
    formats = f" from {' or '.join(_as_list(rule['formats']))}" if "date" in actions else ""
    return f"{' + '.join(actions)} {rule['column']}{formats}"


class RulesView:
    """A rules document as a small table; ``print()`` it, or let Jupyter show it as HTML."""

    HEAD = ("#", "type", "rule", "what", "enabled")

    def __init__(self, doc: dict):
        self.table = doc["table"]
        self.rows = [(str(i), r["type"], r["rule"], _what(r), "yes" if r.get("enabled", True) else "no")
                     for i, r in enumerate(doc["rules"], start=1)]

    def __str__(self) -> str:
        widths = [max(len(r[k]) for r in [self.HEAD, *self.rows]) for k in range(len(self.HEAD))]
        lines = [f"rules for {self.table or '(no table)'}"]
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in [self.HEAD, *self.rows]]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(f"<th>{e(h)}</th>" for h in self.HEAD)
        body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in self.rows)
        return (f"<div><b>rules for {e(self.table or '(no table)')}</b>"
                f"<table><tr>{head}</tr>{body}</table></div>")


def describe(doc) -> RulesView:
    """The rules as a small table (number, type, rule, what it does in words, enabled)."""
    return RulesView(normalize(doc))
