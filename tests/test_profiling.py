"""Profiling helpers: naming conventions, date formats, and a Spark profile whose counts are exact."""
import pytest

from gluelab.profiling import date_format, naming_convention, profile


@pytest.mark.parametrize("name, expected", [
    ("customer_id", "snake_case"), ("income", "lowercase"), ("customerRef", "camelCase"),
    ("CustomerId", "PascalCase"), ("Review Text", "Title Case"), ("Year_Birth", "mixed"), ("weightG", "camelCase"),
])
def test_naming_convention(name, expected):
    assert naming_convention(name) == expected


@pytest.mark.parametrize("values, expected", [
    (["2024-01-31", "2023-12-01"], "yyyy-mm-dd"),
    (["31/01/2024", "01/02/2024"], "dd/mm/yyyy"),
    (["1/31/2024", "12/1/2023"], "m/d/yyyy"),
    (["2014-06-29 00:00:00"], "yyyy-mm-dd hh:mm:ss"),
    (["30-07-2012"], "dd-mm-yyyy"),
    (["2024-13-01"], None),          # no month 13
    (["2024-01-31", "31/01/2024"], None),   # mixed formats: no single answer
    ([None, "", " "], None),
])
def test_date_format(values, expected):
    assert date_format(values) == expected


def test_profile_counts_rows_missing_duplicates_and_formats(spark):
    df = spark.createDataFrame(
        [(1, "a", "2024-01-31"), (1, "a", "2024-01-31"), (2, None, "2024-02-01"), (3, " ", None)],
        "customer_id INT, firstName STRING, signup_date STRING")
    p = profile(df, "t", date_columns=("signup_date",), size_bytes=10)
    assert p["rows"] == 4 and p["columns"] == 3 and p["size_bytes"] == 10
    assert p["duplicate_rows"] == 1
    assert p["missing_by_column"] == {"firstName": 2, "signup_date": 1}
    assert p["missing_cells"] == 3
    assert p["naming"] == "camelCase, snake_case"
    assert p["date_formats"] == {"signup_date": "yyyy-mm-dd"}
