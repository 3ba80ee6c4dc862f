"""The metadata-driven rules engine (gluelab.rules): every rule kind on small data, validation before any
data is read, storage with a Glue table and in S3, and the promise: input rows = output + rejected rows."""
import json
from datetime import date

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from gluelab import rules

SCHEMA = "tx string, day string, product string, price string, qty string, country string, email string"
ROWS = [
    ("1", "12/9/2019", "A", "2.50", "3", "UK", " Ann@X.com "),
    ("2", "2019-12-09", "B", None, "1", "France", "bob@y.com"),
    ("2", "2019-12-09", "B", None, "1", "France", "bob@y.com"),        # exact duplicate
    ("C3", "1/5/2019", "C", "1.00", "-2", "Spain", None),               # a cancellation
    ("4", "31/02/2019", "D", "x", "2", "UK", None),                     # bad price, bad date
    ("5", "3/1/2019", "E", "4.00", "99999999999", "EIRE", "e@z.ie"),    # quantity overflows int
]


@pytest.fixture(scope="module")
def shop(spark):
    return spark.createDataFrame(ROWS, SCHEMA)


def doc(*rule_list, table="shop"):
    return {"table": table, "rules": list(rule_list)}


def rows(df, *cols, order="tx"):
    return [tuple(r) for r in df.orderBy(order).select(*cols).collect()]


def assert_reconciled(result, input_df):
    counts = result.reconcile()
    assert counts == {"input": input_df.count(), "output": result.output.count(),
                      "rejected": result.rejected.count()}
    assert counts["input"] == counts["output"] + counts["rejected"]
    assert (result.input_rows, result.output_rows, result.rejected_rows) == (
        counts["input"], counts["output"], counts["rejected"])


# ---- each rule kind ----------------------------------------------------------------------------------------


def test_null_handling_replacements(spark):
    df = spark.createDataFrame([(1, 2.0, "a"), (2, None, None), (3, 4.0, "c")],
                               "id int, amount double, note string")
    for action, extra, expected in [("replace_with_zero", {}, 0.0), ("replace_with_mean", {}, 3.0),
                                    ("replace_with_value", {"value": 9.5}, 9.5)]:
        result = rules.apply(df, doc({"type": "data_quality", "rule": "null_handling", "column": "amount",
                                      "action": action, **extra}))
        assert rows(result.output, "id", "amount", order="id") == [(1, 2.0), (2, expected), (3, 4.0)], action
        assert (result.stats[0].affected, result.stats[0].rejected) == (1, 0)
    text = rules.apply(df, doc({"rule": "null_handling", "column": "note", "action": "replace_with_value",
                                "value": "n/a"}))
    assert rows(text.output, "id", "note", order="id") == [(1, "a"), (2, "n/a"), (3, "c")]


def test_replace_with_mean_of_an_integer_column_is_rounded_and_keeps_the_type(spark):
    df = spark.createDataFrame([(1, 1), (2, None), (3, 2)], "id int, qty int")
    result = rules.apply(df, doc({"rule": "null_handling", "column": "qty", "action": "replace_with_mean"}))
    assert result.output.schema["qty"].dataType.simpleString() == "int"
    assert rows(result.output, "id", "qty", order="id") == [(1, 1), (2, 2), (3, 2)]


def test_drop_row_rejects_with_the_reason(spark):
    df = spark.createDataFrame([(1, "a"), (2, None), (3, None)], "id int, customer string")
    result = rules.apply(df, doc({"rule": "null_handling", "column": "customer", "action": "drop_row"}))
    assert rows(result.output, "id", order="id") == [(1,)]
    rejected = result.rejected.orderBy("record").collect()
    assert [(r.rule_index, r.rule, r.reason) for r in rejected] == [
        (1, "null_handling", "column 'customer' is null")] * 2
    assert [json.loads(r.record) for r in rejected] == [{"id": 2, "customer": None},
                                                         {"id": 3, "customer": None}]
    assert_reconciled(result, df)


def test_derived_field_may_use_a_column_an_earlier_rule_made(shop):
    result = rules.apply(shop, doc(
        {"rule": "derived_field", "expression": "try_cast(price AS double)", "target_column": "unit"},
        {"rule": "derived_field", "expression": "unit * 2", "target_column": "double_unit"}))
    got = dict((r.tx, r.double_unit) for r in result.output.collect() if r.tx in ("1", "C3", "2"))
    assert got == {"1": 5.0, "C3": 2.0, "2": None}
    assert [s.affected for s in result.stats] == [3, 3]   # rows given a value: 2.5, 1.0, 4.0 (not 'x', nulls)


def test_filter_rejects_false_and_null_conditions(spark):
    df = spark.createDataFrame([(1, 5), (2, -1), (3, None)], "id int, qty int")
    result = rules.apply(df, doc({"type": "business_logic", "rule": "filter", "condition": "qty > 0"}))
    assert rows(result.output, "id", order="id") == [(1,)]
    assert sorted(r.reason for r in result.rejected.collect()) == ["condition qty > 0 is false",
                                                                 "condition qty > 0 is null"]
    assert (result.stats[0].affected, result.stats[0].rejected) == (0, 2)
    assert_reconciled(result, df)


def test_type_conversion_routes_failures_to_rejected_never_to_null(shop):
    result = rules.apply(shop, doc(
        {"rule": "type_conversion", "column": "price", "target_type": "decimal(10,2)"},
        {"rule": "type_conversion", "column": "qty", "target_type": "int"}))
    out = rows(result.output, "tx", "price", "qty")
    assert [(tx, None if p is None else str(p), q) for tx, p, q in out] == [
        ("1", "2.50", 3), ("2", None, 1), ("2", None, 1), ("C3", "1.00", -2)]   # price was NULL in the input
    reasons = sorted(r.reason for r in result.rejected.collect())
    assert reasons == ["column 'price': cannot convert 'x' to decimal(10,2)",
                       "column 'qty': cannot convert '99999999999' to int"]
    assert result.output.schema["qty"].dataType.simpleString() == "int"
    assert [(s.affected, s.rejected) for s in result.stats] == [(3, 1), (4, 1)]
    assert_reconciled(result, shop)


def test_categorical_mapping_default_keep_and_target(shop):
    mapped = rules.apply(shop, doc({"rule": "categorical_mapping", "column": "country",
                                    "mapping": {"UK": "domestic", "EIRE": "domestic"}, "default": "export",
                                    "target_column": "market"}))
    assert rows(mapped.output, "tx", "country", "market") == [
        ("1", "UK", "domestic"), ("2", "France", "export"), ("2", "France", "export"),
        ("4", "UK", "domestic"), ("5", "EIRE", "domestic"), ("C3", "Spain", "export")]
    assert mapped.stats[0].affected == 3 and mapped.stats[0].note == "3 unmapped values set to 'export'"
    kept = rules.apply(shop, doc({"rule": "categorical_mapping", "column": "country",
                                  "mapping": {"UK": "GB"}}))
    assert sorted(set(r.country for r in kept.output.collect())) == ["EIRE", "France", "GB", "Spain"]
    numbers = rules.apply(shop, doc({"rule": "categorical_mapping", "column": "country",
                                     "mapping": {"UK": 0.2, "France": 0.2}, "default": 0,
                                     "target_column": "tax_rate"}))
    assert numbers.output.schema["tax_rate"].dataType.simpleString() == "double"
    assert dict(rows(numbers.output, "country", "tax_rate", order="country")) == {
        "EIRE": 0.0, "France": 0.2, "Spain": 0.0, "UK": 0.2}


def test_partition_key_is_listed_with_its_distinct_values(spark):
    df = spark.createDataFrame([(1, date(2019, 1, 5)), (2, date(2019, 1, 9)), (3, date(2019, 2, 1)),
                                (4, None)], "id int, day date")
    result = rules.apply(df, doc({"type": "optimization", "rule": "partition_key",
                                  "expression": "date_format(day, 'yyyy-MM')",
                                  "target_column": "year_month"}))
    assert result.partition_keys == ("year_month",)
    assert rows(result.output, "id", "year_month", order="id") == [(1, "2019-01"), (2, "2019-01"),
                                                                   (3, "2019-02"), (4, None)]
    assert result.stats[0].note == "2 distinct values, 1 row without a value"


def test_deduplicate_keeps_the_first_by_the_order_column(spark):
    df = spark.createDataFrame([("a", 1, "old"), ("a", 3, "new"), ("b", 2, "only"), ("a", 2, "mid")],
                               "key string, version int, v string")
    latest = rules.apply(df, doc({"rule": "deduplicate", "keys": ["key"], "order_by": "version desc"}))
    assert rows(latest.output, "key", "v", order="key") == [("a", "new"), ("b", "only")]
    assert sorted(r.reason for r in latest.rejected.collect()) == ["duplicate of (key) = (a)"] * 2
    earliest = rules.apply(df, doc({"rule": "dedup", "keys": "key", "order_by": ["version"], "keep": "last"}))
    assert rows(earliest.output, "key", "v", order="key") == [("a", "new"), ("b", "only")]
    first = rules.apply(df, doc({"rule": "deduplicate", "keys": ["key"], "order_by": ["version"]}))
    assert rows(first.output, "key", "v", order="key") == [("a", "old"), ("b", "only")]
    assert_reconciled(first, df)


def test_deduplicate_without_order_removes_exact_copies(shop):
    result = rules.apply(shop, doc({"rule": "deduplicate", "keys": ["tx", "product"]}))
    assert result.output.count() == len(ROWS) - 1
    assert [r.reason for r in result.rejected.collect()] == ["duplicate of (tx, product) = (2, B)"]


def test_standardize_text_actions(spark):
    df = spark.createDataFrame([(1, "  Mixed   Case ", " Ann@X.COM ", "+44 (0)20-7946 0958"),
                                (2, "ok", "b@c.d", "0044 20 1234"), (3, None, None, None)],
                               "id int, name string, email string, phone string")
    result = rules.apply(df, doc(
        {"rule": "standardize", "column": "name", "action": ["collapse_spaces", "upper"]},
        {"rule": "standardize", "column": "email", "action": "email"},
        {"rule": "format_standardization", "column": "phone", "action": "phone"}))
    assert rows(result.output, "id", "name", "email", "phone", order="id") == [
        (1, "MIXED CASE", "ann@x.com", "+440207946 0958".replace(" ", "")), (2, "OK", "b@c.d", "+44201234"),
        (3, None, None, None)]
    assert [s.affected for s in result.stats] == [2, 1, 2]


def test_standardize_dates_from_several_formats_rejects_the_rest(shop):
    result = rules.apply(shop, doc({"rule": "standardize", "column": "day", "action": ["trim", "date"],
                                    "formats": ["M/d/yyyy", "yyyy-MM-dd"]}))
    assert result.output.schema["day"].dataType.simpleString() == "date"
    assert rows(result.output, "tx", "day") == [("1", date(2019, 12, 9)), ("2", date(2019, 12, 9)),
                                              ("2", date(2019, 12, 9)), ("5", date(2019, 3, 1)),
                                              ("C3", date(2019, 1, 5))]
    assert [r.reason for r in result.rejected.collect()] == [
        "column 'day': '31/02/2019' matches none of the formats M/d/yyyy, yyyy-MM-dd"]
    assert_reconciled(result, shop)


def test_disabled_rules_are_skipped(shop):
    result = rules.apply(shop, doc({"rule": "filter", "condition": "country = 'UK'", "enabled": False}))
    assert result.output.count() == len(ROWS) and result.stats[0].note == "disabled"


# ---- aliases -----------------------------------------------------------------------------------------------


def test_the_guides_dynamic_form_means_the_same_rules():
    short = doc({"type": "column_combination", "expression": "a + b", "target_column": "c"},
                {"type": "filter", "condition": "c > 0"},
                {"type": "data_type_conversion", "column": "c", "target_type": "bigint"})
    assert rules.normalize(short)["rules"] == [
        {"type": "business_logic", "rule": "derived_field", "expression": "a + b", "target_column": "c"},
        {"type": "business_logic", "rule": "filter", "condition": "c > 0"},
        {"type": "optimization", "rule": "type_conversion", "column": "c", "target_type": "bigint"}]
    assert rules.normalize(doc({"type": "data_quality", "rule": "column_combination", "expression": "1",
                                "target_column": "x"}))["rules"][0]["rule"] == "derived_field"


def test_static_and_dynamic_etl_give_the_same_frame(spark):
    customers = spark.createDataFrame(
        [("Ann", "Lee", "active"), ("Bo", "Ng", "closed"), ("Cy", "Oh", "active")],
        "first_name string, last_name string, status string")
    static = (customers.withColumn("full_name", F.concat(F.col("first_name"), F.lit(" "), F.col("last_name")))
              .filter(F.col("status") == "active"))
    dynamic = rules.apply(customers, doc(
        {"type": "column_combination", "expression": "concat(first_name, ' ', last_name)",
         "target_column": "full_name"},
        {"type": "filter", "condition": "status = 'active'"}))
    assertDataFrameEqual(dynamic.output, static)
    assert dynamic.rejected.count() == 1


# ---- validation --------------------------------------------------------------------------------------------


def _problems(document, schema):
    with pytest.raises(rules.RuleError) as info:
        rules.validate(document, schema)
    return info.value.problems


@pytest.mark.parametrize("rule, expected", [
    ({"rule": "no_such_rule"}, "rule 1: unknown rule 'no_such_rule'"),
    ({"type": "derivd_field", "expression": "1", "target_column": "x"}, "(did you mean 'derived_field'?)"),
    ({"rule": "derived_field", "expression": "1"}, "rule 1 (derived_field): missing key 'target_column'"),
    ({"rule": "filter", "condition": "1 = 1", "colum": "x"}, "unknown key 'colum'"),
    ({"rule": "derived_field", "expression": "price * tax_rate", "target_column": "t"},
     "rule 1 (derived_field): expression 'price * tax_rate': column 'tax_rate' does not exist; columns are "
     "tx, day, product, price, qty, country, email"),
    ({"rule": "filter", "condition": "qty >"},
     "condition 'qty >': cannot be parsed: syntax error at or near end of input"),
    ({"rule": "derived_field", "expression": "no_such_fn(qty)", "target_column": "t"},
     "function no_such_fn does not exist"),
    ({"rule": "type_conversion", "column": "qty", "target_type": "integr"},
     "target_type 'integr': not a Spark SQL type"),
    ({"rule": "type_conversion", "column": "qty", "target_type": "array<int>"},
     'cannot cast "STRING" to "ARRAY<INT>"'),
    ({"rule": "null_handling", "column": "discount", "action": "drop_row"},
     "column 'discount' does not exist; columns are tx, day"),
    ({"rule": "null_handling", "column": "Price", "action": "drop_row"},
     "column 'Price' does not exist (did you mean 'price'?)"),
    ({"rule": "null_handling", "column": "price", "action": "replace_with_zero"}, "needs a numeric column"),
    ({"rule": "null_handling", "column": "price", "action": "fill"}, "unknown action 'fill'"),
    ({"rule": "filter", "condition": "qty"}, "condition 'qty' gives string, not true/false"),
    ({"rule": "standardize", "column": "day", "action": "date", "formats": ["dd/mm/yyyy"]}, "'m' is minutes"),
    ({"rule": "standardize", "column": "day", "action": "date"}, "action 'date' needs 'formats'"),
    ({"rule": "deduplicate", "keys": ["tx"], "order_by": "version desc"},
     "order_by column 'version' does not exist"),
    ({"rule": "partition_key", "expression": "array(qty)", "target_column": "p"}, "must be a simple value"),
    ({"rule": "partition_key", "expression": "date_format(to_date(day, 'M/d/yyyy'), 'yyyy-mm')",
      "target_column": "p"}, "format 'yyyy-mm': 'm' is minutes; use 'M' for the month"),
    ({"rule": "derived_field", "expression": "qty * prise", "target_column": "t"},
     "column 'prise' does not exist (did you mean 'price'?)"),
])
def test_each_kind_of_problem_is_named(shop, rule, expected):
    problems = _problems(doc(rule), shop)
    assert len(problems) == 1 and expected in problems[0], problems


def test_all_problems_are_reported_at_once_without_running_a_job(shop, spark):
    bad = doc({"rule": "derived_field", "expression": "price * tax_rate", "target_column": "total"},
              {"rule": "derivd_field"},
              {"rule": "type_conversion", "column": "qty", "target_type": "integr"},
              {"rule": "derived_field", "expression": "total * 2", "target_column": "double_total"},
              {"rule": "null_handling", "colum": "price", "action": "drop_row"},
              {"rule": "filter", "condition": "country IN ('UK'"})
    tracker, group = spark.sparkContext.statusTracker(), "gluelab-test-rules-validate"
    spark.sparkContext.setJobGroup(group, "validation must not run jobs")
    try:
        with pytest.raises(rules.RuleError) as info:
            rules.validate(bad, shop)
        assert tracker.getJobIdsForGroup(group) == []
        shop.count()                               # the probe works: an action in the group is seen
        assert tracker.getJobIdsForGroup(group) != []
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    problems = info.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "rule 1 (derived_field)", "rule 2", "rule 3 (type_conversion)", "rule 5 (null_handling)",
        "rule 5 (null_handling)", "rule 6 (filter)"]   # rule 4 uses rule 1's column: not reported again
    assert str(info.value).startswith("6 problems in the rules for table shop:\n  - rule 1 (derived_field)")


def test_a_wrong_case_column_does_not_hide_the_real_one_from_later_rules(shop):
    problems = _problems(doc({"rule": "type_conversion", "column": "QTY", "target_type": "int"},
                             {"rule": "standardize", "column": "qty", "action": "trim"}), shop)
    # only rule 1 is reported: rule 2 still sees qty, as text (standardize would refuse anything else)
    assert problems == ["rule 1 (type_conversion): column 'QTY' does not exist (did you mean 'qty'?); "
                        "columns are tx, day, product, price, qty, country, email"]


def test_validate_returns_the_output_schema_and_checks_against_a_glue_table():
    table = {"Name": "orders", "StorageDescriptor": {"Columns": [
        {"Name": "order_id", "Type": "string"}, {"Name": "amount", "Type": "decimal(10,2)"},
        {"Name": "note", "Type": "varchar(20)"}]}, "PartitionKeys": [{"Name": "year", "Type": "string"}]}
    out = rules.validate(doc({"rule": "derived_field", "expression": "amount * 2", "target_column": "double"},
                             {"rule": "type_conversion", "column": "year", "target_type": "int"}), table)
    assert out.simpleString() == ("struct<order_id:string,amount:decimal(10,2),note:string,year:int,"
                                  "double:decimal(12,2)>")
    problems = _problems(doc({"rule": "filter", "condition": "amt > 0"}), table)
    assert "column 'amt' does not exist" in problems[0]


def test_bad_documents_fail_before_any_rule_runs():
    with pytest.raises(rules.RuleError, match="'rules' must be a list"):
        rules.normalize({"table": "t", "rules": {"rule": "filter"}})
    with pytest.raises(rules.RuleError, match=r"unknown key 'rule' \(did you mean 'rules'\?\) at the top"):
        rules.normalize({"table": "t", "rules": [], "rule": []})
    with pytest.raises(rules.RuleError, match="mapping values .* must all be text"):
        rules.normalize(doc({"rule": "categorical_mapping", "column": "c", "mapping": {"a": "x", "b": 1}}))


def test_engine_columns_in_the_input_are_refused(spark):
    df = spark.createDataFrame([(1,)], "__rules_rejected int")
    with pytest.raises(rules.RuleError, match="columns the engine uses"):
        rules.apply(df, doc({"rule": "filter", "condition": "true"}))


# ---- reconciliation and determinism ------------------------------------------------------------------------


PIPELINE = doc(
    {"rule": "standardize", "column": "email", "action": "email"},
    {"rule": "type_conversion", "column": "price", "target_type": "double"},
    {"rule": "null_handling", "column": "price", "action": "replace_with_zero"},
    {"rule": "type_conversion", "column": "qty", "target_type": "int"},
    {"rule": "filter", "condition": "qty > 0"},
    {"rule": "standardize", "column": "day", "action": "date", "formats": ["M/d/yyyy", "yyyy-MM-dd"]},
    {"rule": "deduplicate", "keys": ["tx", "product"]},
    {"rule": "categorical_mapping", "column": "country", "mapping": {"UK": 0.2, "France": 0.2},
     "default": 0.0, "target_column": "tax_rate"},
    {"rule": "derived_field", "expression": "round(price * qty * (1 + tax_rate), 2)",
     "target_column": "total"},
    {"rule": "partition_key", "expression": "date_format(day, 'yyyy-MM')", "target_column": "year_month"})


def test_reconciliation_over_a_pipeline(shop):
    result = rules.apply(shop, PIPELINE)
    assert_reconciled(result, shop)
    assert rows(result.output, "tx", "total", "year_month") == [("1", 9.0, "2019-12"), ("2", 0.0, "2019-12")]
    assert sorted((r.rule_index, r.rule) for r in result.rejected.collect()) == [
        (2, "type_conversion"), (4, "type_conversion"), (5, "filter"), (7, "deduplicate")]
    assert sum(s.rejected for s in result.stats) == result.rejected_rows == 4
    report = result.report()
    assert report.splitlines()[0].split() == ["#", "type", "rule", "target", "affected", "rejected", "note"]
    assert report.splitlines()[-1] == "input 6 = output 2 + rejected 4"
    frame = result.stats_frame()
    assert list(frame["rejected"]) == [0, 1, 0, 1, 1, 0, 1, 0, 0, 0]


def test_apply_twice_gives_the_same_result(shop):
    first, second = rules.apply(shop, PIPELINE), rules.apply(shop, PIPELINE)
    assertDataFrameEqual(first.output, second.output)
    assertDataFrameEqual(first.rejected, second.rejected)
    assert first.stats == second.stats


def test_rules_applied_to_their_own_output_change_nothing(shop):
    idempotent = doc({"rule": "standardize", "column": "email", "action": ["trim", "lower"]},
                     {"rule": "null_handling", "column": "price", "action": "replace_with_value",
                      "value": "0"},
                     {"rule": "filter", "condition": "country <> 'Spain'"},
                     {"rule": "deduplicate", "keys": ["tx", "product"]},
                     {"rule": "categorical_mapping", "column": "country", "mapping": {"EIRE": "IE"}})
    once = rules.apply(shop, idempotent)
    twice = rules.apply(once.output, idempotent)
    assertDataFrameEqual(twice.output, once.output)
    assert twice.rejected_rows == 0 and all(s.affected == 0 for s in twice.stats)


# ---- storage -----------------------------------------------------------------------------------------------


RULES_DOC = doc({"type": "data_quality", "rule": "null_handling", "column": "amount",
                 "action": "replace_with_zero"},
                {"type": "business_logic", "rule": "derived_field", "expression": "amount * 1.2",
                 "target_column": "gross"}, table="orders")


@pytest.fixture(scope="module")
def orders_table(lab):
    glue = lab.client("glue")
    database = lab.names.database("rules_test")
    try:
        glue.create_database(DatabaseInput={"Name": database})
    except glue.exceptions.AlreadyExistsException:
        pass
    try:
        glue.delete_table(DatabaseName=database, Name="orders")
    except glue.exceptions.EntityNotFoundException:
        pass
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "orders", "Parameters": {"classification": "csv"},
        "StorageDescriptor": {"Columns": [{"Name": "order_id", "Type": "string"},
                                          {"Name": "amount", "Type": "double"}],
                              "Location": lab.zones.uri("raw", "orders/")}})
    return glue, database


def test_rules_stored_in_the_tables_parameters(orders_table):
    glue, database = orders_table
    with pytest.raises(rules.RuleError, match="has no rules"):
        rules.load_from_table(glue, database, "orders")
    version = rules.save_to_table(glue, database, "orders", RULES_DOC)
    table = glue.get_table(DatabaseName=database, Name="orders")["Table"]
    assert version == table["VersionId"]
    assert table["Parameters"]["classification"] == "csv"          # other parameters are kept
    assert json.loads(table["Parameters"][rules.PARAMETER]) == rules.normalize(RULES_DOC)
    assert rules.load_from_table(glue, database, "orders") == rules.normalize(RULES_DOC)
    changed = doc(*RULES_DOC["rules"][:1], table="orders")
    newer = rules.save_to_table(glue, database, "orders", changed)
    assert int(newer) == int(version) + 1
    assert rules.load_from_table(glue, database, "orders")["rules"] == changed["rules"]
    stored = rules.load_from_table(glue, database, "orders")
    assert rules.validate(stored, table).names == ["order_id", "amount"]


def test_a_document_too_large_for_a_parameter_is_refused_with_the_way_out(orders_table):
    glue, database = orders_table
    mapping = {f"code{i:06d}": f"category number {i}" for i in range(20_000)}
    huge = doc({"rule": "categorical_mapping", "column": "order_id", "mapping": mapping}, table="orders")
    with pytest.raises(rules.RuleError, match=r"at most 512,000: store the document in S3 \(save_to_s3\)"):
        rules.save_to_table(glue, database, "orders", huge)


def test_rules_in_s3_as_json_and_yaml(lab, orders_table, tmp_path):
    glue, database = orders_table
    s3 = lab.client("s3")
    json_uri = rules.save_to_s3(s3, lab.zones.uri("scripts", "rules/orders.json"), RULES_DOC)
    yaml_uri = rules.save_to_s3(s3, lab.zones.uri("scripts", "rules/orders.yaml"), RULES_DOC)
    bucket = lab.zones.bucket("scripts")
    text = s3.get_object(Bucket=bucket, Key="rules/orders.yaml")["Body"].read().decode()
    assert text.startswith("table: orders\nrules:\n- type: data_quality\n")
    assert rules.load(json_uri, s3=s3) == rules.load(yaml_uri, s3=s3) == rules.normalize(RULES_DOC)
    rules.save_to_table(glue, database, "orders", uri=yaml_uri)
    params = glue.get_table(DatabaseName=database, Name="orders")["Table"]["Parameters"]
    assert params[rules.PARAMETER_URI] == yaml_uri and rules.PARAMETER not in params
    assert rules.load_from_table(glue, database, "orders", s3=s3) == rules.normalize(RULES_DOC)
    local = tmp_path / "rules.yml"
    local.write_text(rules.dumps(RULES_DOC, "yaml"))
    assert rules.load(local) == rules.load(str(local)) == rules.normalize(RULES_DOC)
    assert rules.load(json.dumps(RULES_DOC)) == rules.normalize(RULES_DOC)
    broken = tmp_path / "broken.json"
    broken.write_text('{"table": "orders", "rules": [')
    with pytest.raises(rules.RuleError, match="broken.json is not valid JSON"):
        rules.load(broken)


def test_describe_renders_the_rules():
    view = rules.describe(RULES_DOC)
    assert str(view).splitlines() == [
        "rules for orders",
        "#  type            rule           what                            enabled",
        "1  data_quality    null_handling  replace nulls in amount with 0  yes",
        "2  business_logic  derived_field  gross = amount * 1.2            yes"]
    assert "<td>gross = amount * 1.2</td>" in view._repr_html_()


def test_apply_to_table_runs_the_rules_stored_with_the_table_on_its_data(lab, spark, orders_table):
    glue, database = orders_table
    lab.put_bytes(lab.zones.uri("raw", "orders/part-0.csv"), b"A1,10.0\nA2,\nA3,5.5\n")
    rules.save_to_table(glue, database, "orders", RULES_DOC)
    table = glue.get_table(DatabaseName=database, Name="orders")["Table"]
    assert rules.read_table(spark, table).schema == rules.spark_schema(table)
    result = rules.apply_to_table(spark, glue, database, "orders")
    assert rows(result.output, "order_id", "amount", "gross", order="order_id") == [
        ("A1", 10.0, 12.0), ("A2", 0.0, 0.0), ("A3", 5.5, 6.6)]
    rules.save_to_table(glue, database, "orders", doc({"type": "business_logic", "rule": "derived_field",
                                                       "expression": "no_such_column * 2",
                                                       "target_column": "x"}, table="orders"))
    with pytest.raises(rules.RuleError, match="no_such_column"):
        rules.apply_to_table(spark, glue, database, "orders")
