"""gluelab.quarantine: malformed records are set aside with a reason, and the counts always reconcile."""
import datetime as dt
import uuid

import boto3
import pytest

from gluelab import quarantine
from gluelab.quarantine import QuarantineError, QuarantineResult

SCHEMA = "id INT, amount DOUBLE, day DATE, name STRING"

CSV_A = (b"id,amount,day,name\n"
         b"1,2.5,2024-01-01,alpha\n"
         b"2,abc,2024-01-02,beta\n"          # not a number
         b"\n"                               # blank lines are not records
         b"3,4.0,2024-13-45,gamma\n"         # not a date
         b"4,5.0,2024-01-04\n"               # a column short
         b"5,6.0,2024-01-05,eps,extra\n"     # a column too many
         b"8,1.0,2024-01-08,,\n"             # a trailing separator: an empty fifth column, not a short row
         b"9,,2024-01-09,\n"                 # empty fields are NULLs, not errors
         b"   \n"
         b'6,"7.0",2024-01-06,"zeta, quoted"\n')
CSV_B = b"id,amount,day,name\n7,8.5,2024-02-01,eta\nx,1.0,2024-02-02,theta\n"

JSON_LINES = (b'{"id": 1, "amount": 2.5, "tags": ["a", "b"], "address": {"city": "Oslo", "zip": 150}}\n'
              b'{"id": "two", "amount": 1}\n'                  # wrong type
              b'{"id": 3, "amount": \n'                        # broken line
              b'\n'
              b'[1, 2]\n'                                      # valid JSON, not an object
              b'{"id": 4, "tags": [], "address": {"city": "Rome", "zip": 100}}\n')
JSON_SCHEMA = "id INT, amount DOUBLE, tags ARRAY<STRING>, address STRUCT<city: STRING, zip: INT>"


@pytest.fixture(scope="module")
def bucket(endpoint):
    s3 = boto3.client("s3", endpoint_url=endpoint)
    name = f"quarantine-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    for key, body in [("csv/a.csv", CSV_A), ("csv/b.csv", CSV_B), ("json/lines.json", JSON_LINES),
                      ("bad/notes.txt", b"this is\nnot a table at all\n"),
                      ("comments/c.csv", b"# exported\nid,amount,day,name\n1,1.0,2024-01-01,a\n# end\n"),
                      ("quotes/q.csv",
                       b'id,amount,day,name\n1,1.0,2024-01-01,"ok, quoted"\n2,2.0,2024-01-02,"cut short\n'
                       b'3,3.0,2024-01-03,plain\n4,"4.0,2024-01-04,d\n5,5.0,2024-01-05,say ""hi""\n'
                       b'2,2.0,2024-01-02,cut short\n'),
                      ("latin 1/caf\u00e9 x=1.csv", "id,amount,day,name\n1,1.0,2024-01-01,Jos\u00e9\n"
                                                      "2,2.0,2024-01-02,Bob\n".encode("latin-1")),
                      ("multiline/m.csv",
                       b'id,amount,day,name\n1,1.0,2024-01-01,"two\nlines"\n2,x,2024-01-02,b\n')]:
        s3.put_object(Bucket=name, Key=key, Body=body)
    return name


def reasons(result):
    return sorted((r.raw_record, r.reason) for r in result.quarantined.collect())


def test_csv_rows_are_split_into_good_and_quarantined(spark, bucket):
    result = quarantine.read_csv(spark, f"s3://{bucket}/csv/a.csv", SCHEMA, header=True)
    assert (result.input_rows, result.good_rows, result.quarantined_rows) == (8, 3, 5)
    assert result.reconciled and result.assert_reconciled() is result
    good = sorted(tuple(r) for r in result.good.collect())
    assert good == [(1, 2.5, dt.date(2024, 1, 1), "alpha"), (6, 7.0, dt.date(2024, 1, 6), "zeta, quoted"),
                    (9, None, dt.date(2024, 1, 9), None)]
    assert result.good.dtypes == [("id", "int"), ("amount", "double"), ("day", "date"), ("name", "string")]
    assert reasons(result) == [
        ("2,abc,2024-01-02,beta", "column amount: cannot parse 'abc' as double"),
        ("3,4.0,2024-13-45,gamma", "column day: cannot parse '2024-13-45' as date"),
        ("4,5.0,2024-01-04", "fewer columns than the 4 expected"),
        ("5,6.0,2024-01-05,eps,extra", "more columns than the 4 expected"),
        ("8,1.0,2024-01-08,,", "more columns than the 4 expected"),
    ]
    assert {r.source_file for r in result.quarantined.collect()} == {f"s3://{bucket}/csv/a.csv"}


def test_several_csv_files_each_with_a_header(spark, bucket):
    result = quarantine.read_csv(spark, f"s3://{bucket}/csv", SCHEMA, header=True)
    assert (result.input_rows, result.good_rows, result.quarantined_rows) == (10, 4, 6)
    bad_b = [r for r in result.quarantined.collect() if r.source_file.endswith("/b.csv")]
    assert [(r.raw_record, r.reason) for r in bad_b] == [("x,1.0,2024-02-02,theta",
                                                          "column id: cannot parse 'x' as int")]


def test_json_lines_broken_and_mistyped_are_quarantined(spark, bucket):
    result = quarantine.read_json(spark, f"s3://{bucket}/json", JSON_SCHEMA)
    assert (result.input_rows, result.good_rows, result.quarantined_rows) == (5, 2, 3)
    good = {r.id: r for r in result.good.collect()}
    assert good[1].tags == ["a", "b"] and good[1].address.city == "Oslo" and good[4].address.zip == 100
    assert reasons(result) == [
        ('[1, 2]', "not a JSON object"),
        ('{"id": "two", "amount": 1}', "column id: cannot parse 'two' as int"),
        ('{"id": 3, "amount": ', "not valid JSON"),
    ]


def test_an_unterminated_quote_is_never_a_good_row(spark, bucket):
    result = quarantine.read_csv(spark, f"s3://{bucket}/quotes", SCHEMA, header=True)
    assert (result.input_rows, result.good_rows, result.quarantined_rows) == (6, 4, 2)
    good = sorted(tuple(r) for r in result.good.collect())
    assert [(r[0], r[3]) for r in good] == [(1, "ok, quoted"), (2, "cut short"), (3, "plain"),
                                            (5, 'say ""hi""')]
    assert reasons(result) == [
        ('2,2.0,2024-01-02,"cut short',
         "unterminated quote in column name: the value would be cut short at the end of the line"),
        ('4,"4.0,2024-01-04,d', "column amount: cannot parse '4.0,2024-01-04,d' as double"),
    ]
    assert result.good.count() + result.quarantined.count() == result.input_rows


def test_text_that_is_not_utf8_is_quarantined_and_named(spark, bucket):
    uri = f"s3://{bucket}/latin 1/caf\u00e9 x=1.csv"
    result = quarantine.read_csv(spark, uri, SCHEMA, header=True)
    assert (result.input_rows, result.good_rows, result.quarantined_rows) == (2, 1, 1)
    bad, = result.quarantined.collect()
    assert bad.source_file == uri and bad.reason.startswith("not UTF-8 text") and "encoding=" in bad.reason
    right = quarantine.read_csv(spark, uri, SCHEMA, header=True, encoding="ISO-8859-1")
    assert sorted(r.name for r in right.good.collect()) == ["Bob", "Jos\u00e9"] and right.quarantined_rows == 0


def test_comment_lines_are_not_records(spark, bucket):
    result = quarantine.read_csv(spark, f"s3://{bucket}/comments", SCHEMA, header=True, comment="#")
    assert (result.input_rows, result.good_rows, result.quarantined_rows) == (1, 1, 0)


def test_multiline_csv_reconciles_with_the_parsers_count(spark, bucket):
    result = quarantine.read_csv(spark, f"s3://{bucket}/multiline", SCHEMA, header=True, multiLine=True)
    assert not result.independent_count
    assert (result.input_rows, result.good_rows, result.quarantined_rows) == (2, 1, 1)
    assert result.good.first().name == "two\nlines"


def test_unreadable_input_raises_a_clear_error(spark, bucket):
    with pytest.raises(QuarantineError, match=f"cannot read s3://{bucket}/nowhere as CSV: .*PATH_NOT_FOUND"):
        quarantine.read_csv(spark, f"s3://{bucket}/nowhere", SCHEMA)
    with pytest.raises(QuarantineError, match="none of the 2 records .* could be read as CSV") as err:
        quarantine.read_csv(spark, f"s3://{bucket}/bad", "id INT, day DATE")
    assert "Traceback" not in str(err.value) and "\tat " not in str(err.value)
    with pytest.raises(TypeError, match="DDL string"):
        quarantine.read_json(spark, f"s3://{bucket}/json", 42)


def test_counts_that_do_not_add_up_are_an_error(spark):
    empty = spark.createDataFrame([], "id INT")
    lost = QuarantineResult("s3://b/k", empty, empty, input_rows=10, good_rows=7, quarantined_rows=2)
    assert not lost.reconciled
    expected = "10 input records but 7 good \\+ 2 quarantined = 9 \\(1 lost\\)"
    with pytest.raises(QuarantineError, match=expected):
        lost.assert_reconciled()
