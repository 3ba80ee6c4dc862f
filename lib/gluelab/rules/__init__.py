"""Metadata-driven transformation rules: the rules live with the table, one generic job applies them.

Why: hard-coded ETL puts every business decision (how to fill a missing amount, which rows count, how a
partition key is built) into code, so each change is a code change, a review and a deployment. Kept as
metadata next to the table (a Glue table parameter, or a JSON/YAML document in S3), the same decisions can be
read, versioned and changed by the people who own them, and one generic job applies whatever the table says.

A rules document, in the shape of the guide's example::

    {"table": "customer_transactions",
     "rules": [
       {"type": "data_quality", "rule": "null_handling", "column": "transaction_amount",
        "action": "replace_with_zero"},
       {"type": "business_logic", "rule": "derived_field", "expression": "transaction_amount * tax_rate",
        "target_column": "total_amount"},
       {"type": "optimization", "rule": "partition_key",
        "expression": "date_format(transaction_date, 'yyyy-MM')", "target_column": "year_month"}]}

``type`` is a category (``data_quality``, ``business_logic``, ``optimization``: a label for people) and
``rule`` the kind of rule. The guide's shorter form, where ``type`` names the rule (``column_combination``,
``filter``, ``data_type_conversion``), is accepted too. Rule kinds (:data:`RULES` lists their keys):

* ``null_handling``: ``column``, ``action`` = replace_with_zero | replace_with_value (+ ``value``) |
  replace_with_mean | drop_row;
* ``derived_field``: ``expression`` (Spark SQL), ``target_column``;
* ``filter``: ``condition`` (Spark SQL); rows where it is false or null are rejected;
* ``type_conversion``: ``column``, ``target_type`` (a Spark SQL type); values that do not convert are
  rejected;
* ``categorical_mapping``: ``column``, ``mapping`` {value: new value}, optional ``default`` (else unmapped
  values are kept) and ``target_column`` (else the column is replaced);
* ``partition_key``: ``expression``, ``target_column``; the result lists it in ``partition_keys``;
* ``deduplicate``: ``keys``, optional ``order_by`` ("col" or "col desc", or a list) and ``keep``
  (first | last); later duplicates are rejected;
* ``standardize``: ``column``, ``action`` (one or a list of trim, lower, upper, collapse_spaces, phone,
  email, date); ``date`` needs ``formats`` (Spark datetime patterns) and makes a DATE, rejecting text that
  matches none of them.

Every rule may carry ``description`` (text) and ``enabled`` (false skips it).

The engine's promises: :func:`validate` checks a document against a schema before any data is read (unknown
rules, missing keys, missing columns, expressions Spark cannot parse or resolve, unknown types: all problems
in one :class:`RuleError`); rules apply in order, so a rule may use a column an earlier one made; and
:func:`apply` never drops a row silently: every input row ends up either in ``output`` or in ``rejected``
(with the rule and the reason), which :meth:`RuleResult.reconcile` proves by counting.
"""

from .document import (ALIASES, CATEGORIES, NULL_ACTIONS, PARAMETER, PARAMETER_LIMIT, PARAMETER_URI, RULES,
                       STANDARDIZE_ACTIONS, RuleError, RulesView, describe, dumps, load, load_from_table, normalize,
                       save_to_s3, save_to_table)
from .engine import RuleResult, RuleStat, apply, apply_to_table, read_table, spark_schema, validate

__all__ = ["ALIASES", "CATEGORIES", "NULL_ACTIONS", "PARAMETER", "PARAMETER_LIMIT", "PARAMETER_URI", "RULES",
           "STANDARDIZE_ACTIONS", "RuleError", "RuleResult", "RuleStat", "RulesView", "apply", "apply_to_table",
           "describe", "dumps", "load", "load_from_table", "normalize", "read_table", "save_to_s3", "save_to_table",
           "spark_schema", "validate"]
