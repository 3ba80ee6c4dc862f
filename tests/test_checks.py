"""gluelab.checks: each helper passes on good input, and on bad input raises AssertionError whose message
holds the hint and the expected and found values. pandas where possible, one Spark test, S3 through moto."""
import subprocess
import sys
from decimal import Decimal

import pandas as pd
import pytest
from gluelab.checks import (
    check,
    check_close,
    check_columns,
    check_equal,
    check_frame_equal,
    check_rows,
    check_s3_object,
    check_s3_prefix,
    passed,
)

HINT = "Try the hint text"


def fails(call, *args, **kwargs) -> str:
    """The AssertionError message of a failing check, which must start with the hint when one is given."""
    with pytest.raises(AssertionError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    if kwargs.get("hint"):
        assert message.startswith(kwargs["hint"]), message
    return message


def test_check():
    check(1 + 1 == 2, HINT)
    assert fails(check, [], hint=HINT) == HINT


def test_passed_prints_a_success_line(capsys):
    passed("orders are clean")
    assert capsys.readouterr().out == "\u2714 orders are clean\n"


def test_check_equal_plain_values():
    check_equal(3, 3, hint=HINT)
    check_equal({"a": [1, 2]}, {"a": [1, 2]})
    message = fails(check_equal, 41, 42, hint=HINT)
    assert "expected: 42" in message and "found:    41" in message
    message = fails(check_equal, "1", 1, hint=HINT)
    assert "found:    '1' (type str, expected int)" in message
    assert fails(check_equal, 1, 2).startswith("The value is not the expected one.")


def test_check_equal_says_where_containers_differ():
    message = fails(check_equal, [1, 2, 4], [1, 2, 3], hint=HINT)
    assert "first difference at index 2: expected 3, found 4" in message
    assert "lengths differ: expected 3 items, found 2" in fails(check_equal, [1, 2], [1, 2, 3], hint=HINT)
    message = fails(check_equal, {"a": 1, "b": 2, "z": 0}, {"a": 1, "b": 3, "c": 4}, hint=HINT)
    assert "missing keys: ['c']" in message and "unexpected keys: ['z']" in message
    assert "['b']: expected 3, found 2" in message
    message = fails(check_equal, {"x", "y"}, {"x", "z"}, hint=HINT)
    assert "missing: ['z']" in message and "unexpected: ['y']" in message


def test_check_equal_refuses_frames():
    with pytest.raises(TypeError, match="check_frame_equal"):
        check_equal(pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1]}))


def test_check_close_for_money():
    check_close(Decimal("19.99"), 19.99, hint=HINT)
    check_close(10.004, 10.0, abs=0.005)
    check_close(0.1 + 0.2, 0.3)
    message = fails(check_close, 10.5, 10.0, abs=0.005, hint=HINT)
    assert "expected: 10.0 (within rel=1e-09, abs=0.005)" in message
    assert "found:    10.5 (off by 0.5)" in message
    assert "found:    None" in fails(check_close, None, 1.0, hint=HINT)
    assert "found:    'abc' (str)" in fails(check_close, "abc", 1.0, hint=HINT)


ORDERS = pd.DataFrame({"order_id": [3, 1, 2], "amount": [30.0, 10.0, 20.0], "status": ["ok", "ok", "void"]})


def test_check_columns_pandas():
    check_columns(ORDERS, ["status", "order_id", "amount"], hint=HINT)
    check_columns(ORDERS, ["order_id", "amount", "status"], ordered=True)
    message = fails(check_columns, ORDERS, ["order_id", "Amount", "customer"], hint=HINT)
    assert "expected: ['order_id', 'Amount', 'customer']" in message
    assert "found:    ['order_id', 'amount', 'status']" in message
    assert "missing:    ['Amount', 'customer']" in message and "unexpected: ['amount', 'status']" in message
    assert "different case: ['amount']" in message
    message = fails(check_columns, ORDERS, ["amount", "order_id", "status"], hint=HINT, ordered=True)
    assert "another order" in message


def test_check_rows_pandas_and_lists():
    check_rows(ORDERS, 3, hint=HINT)
    check_rows([1, 2], 2)
    message = fails(check_rows, ORDERS, 2, hint=HINT)
    assert "expected: 2 rows" in message and "found:    3 rows" in message and "too many rows" in message
    assert "too few rows" in fails(check_rows, ORDERS.head(1), 3, hint=HINT)


def test_check_frame_equal_pandas_ignores_row_order_and_index_by_default():
    shuffled = ORDERS.sort_values("amount", ascending=False).set_index(pd.Index([7, 8, 9]))
    check_frame_equal(shuffled, ORDERS, hint=HINT)
    message = fails(check_frame_equal, shuffled, ORDERS, hint=HINT, check_row_order=True)
    assert 'column name="order_id"' in message and "[3, 2, 1]" in message and "[3, 1, 2]" in message


def test_check_frame_equal_pandas_reports_values_and_types():
    changed = ORDERS.assign(amount=[30.0, 10.0, 25.0])
    message = fails(check_frame_equal, changed, ORDERS, hint=HINT)
    assert 'column name="amount"' in message and "25.0" in message and "20.0" in message
    message = fails(check_frame_equal, ORDERS.astype({"order_id": "int32"}), ORDERS, hint=HINT)
    assert "int32" in message and "int64" in message
    message = fails(check_frame_equal, ORDERS.drop(columns="status"), ORDERS, hint=HINT)
    assert "expected: ['order_id', 'amount', 'status']" in message and "missing:    ['status']" in message
    message = fails(check_frame_equal, ORDERS.head(2), ORDERS, hint=HINT)
    assert "expected: 3 rows" in message and "found:    2 rows" in message


def test_pandas_checks_do_not_import_or_start_spark():
    code = ("import sys, gluelab\n"
            "before = 'pyspark' in sys.modules\n"
            "import pandas as pd\n"
            "from gluelab.checks import check_columns, check_rows, check_frame_equal\n"
            "df = pd.DataFrame({'a': [1, 2]})\n"
            "check_columns(df, ['a']); check_rows(df, 2); check_frame_equal(df, df.copy())\n"
            "if before:\n"
            "    from pyspark import SparkContext\n"
            "    assert SparkContext._active_spark_context is None, 'a SparkContext was started'\n"
            "else:\n"
            "    assert 'pyspark' not in sys.modules, 'pyspark was imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr


# ---- Spark -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark_session(request):
    """The shared `spark` fixture from conftest.py when there is one, else the process's gluelab session."""
    try:
        return request.getfixturevalue("spark")
    except pytest.FixtureLookupError:
        from gluelab import spark

        return spark.session()


def test_spark_frames(spark_session):
    from pyspark.sql import Row

    orders = spark_session.createDataFrame(list(ORDERS.itertuples(index=False)),
                                           "order_id long, amount double, status string")
    check_columns(orders, ["order_id", "amount", "status"], hint=HINT)
    check_rows(orders, 3, hint=HINT)
    assert "found:    3 rows" in fails(check_rows, orders, 4, hint=HINT)
    message = fails(check_columns, orders, ["order_id", "amount", "status", "customer"], hint=HINT)
    assert "missing:    ['customer']" in message
    check_frame_equal(orders.orderBy("amount"), orders.orderBy("order_id", ascending=False), hint=HINT)
    check_frame_equal(orders.select("order_id").orderBy("order_id"), [Row(order_id=1), Row(order_id=2),
                                                                      Row(order_id=3)], check_row_order=True)
    message = fails(check_frame_equal, orders.filter("status = 'ok'"), orders, hint=HINT)
    assert "void" in message  # assertDataFrameEqual's own diff follows the hint


# ---- S3 (moto in this process) -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3(endpoint):
    """A bucket on the shared local endpoint (moto's in-process decorator would reset the endpoint's state)."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    bucket = "lake"
    client.create_bucket(Bucket=bucket)
    for key in ("raw/orders/part-0.csv", "raw/orders/part-1.csv", "raw/customers/"):
        client.put_object(Bucket=bucket, Key=key, Body=b"" if key.endswith("/") else b"a,b\n1,2\n")
    return client


def test_check_s3_object(s3):
    head = check_s3_object(s3, "lake", "raw/orders/part-0.csv", hint=HINT)
    assert head["ContentLength"] == 8
    message = fails(check_s3_object, s3, "lake", "raw/orders/part-9.csv", hint=HINT)
    assert "expected: an object at s3://lake/raw/orders/part-9.csv" in message and "no such object" in message
    assert "under s3://lake/raw/orders/: raw/orders/part-0.csv, raw/orders/part-1.csv" in message
    assert "bucket 'nope' does not exist" in fails(check_s3_object, s3, "nope", "raw/x.csv", hint=HINT)


def test_check_s3_prefix(s3):
    assert check_s3_prefix(s3, "lake", "raw/orders/", min_objects=2, hint=HINT) == [
        "raw/orders/part-0.csv", "raw/orders/part-1.csv"]
    message = fails(check_s3_prefix, s3, "lake", "raw/customers/", hint=HINT)  # a folder marker is not data
    assert "expected: at least 1 object under s3://lake/raw/customers/" in message
    assert "found:    0" in message
    assert "under s3://lake/raw/: raw/customers/, raw/orders/" in message
    message = fails(check_s3_prefix, s3, "lake", "raw/orders/", min_objects=3, hint=HINT)
    assert "at least 3 objects" in message and "found:    2: ['raw/orders/part-0.csv'" in message
    assert "bucket 'nope' does not exist" in fails(check_s3_prefix, s3, "nope", "raw/", hint=HINT)
