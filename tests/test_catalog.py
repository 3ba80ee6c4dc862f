"""Catalog helpers over boto3: versions, diffs between them, rollback, partitions, a readable table view."""
import pytest

from gluelab import catalog
from gluelab.schemas import BACKWARD, BREAKING


def cols(**types):
    return [{"Name": n, "Type": t} for n, t in types.items()]


@pytest.fixture(scope="module")
def orders(lab):
    """A table `orders` with three versions and 2024/2025 x month partitions (made with boto3 only)."""
    glue = lab.client("glue")
    db = lab.names.resource("catalog_tests").replace("-", "_")
    glue.create_database(DatabaseInput={"Name": db})
    location = lab.zones.uri("raw", "orders") + "/"

    def table_input(columns, **params):
        return {"Name": "orders", "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "parquet", **params},
                "PartitionKeys": cols(year="string", month="string"),
                "StorageDescriptor": {"Columns": columns, "Location": location,
                                      "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                                      "SerdeInfo": {"SerializationLibrary":
                                                    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}}

    glue.create_table(DatabaseName=db, TableInput=table_input(cols(order_id="string", amount="int")))
    glue.update_table(DatabaseName=db, TableInput=table_input(cols(order_id="string", amount="bigint",
                                                                   channel="string")))
    glue.update_table(DatabaseName=db, TableInput=table_input(cols(order_id="string", amount="string"),
                                                              note="amount as text"))
    parts = [{"Values": [y, m], "StorageDescriptor": {"Columns": cols(order_id="string"),
                                                     "Location": f"{location}year={y}/month={m}/"}}
             for y in ("2024", "2025") for m in ("01", "02", "03")][:5]
    glue.batch_create_partition(DatabaseName=db, TableName="orders", PartitionInputList=parts)
    yield glue, db
    glue.delete_database(Name=db)


def test_table_versions_oldest_first(orders):
    glue, db = orders
    versions = catalog.table_versions(glue, db, "orders")
    assert [v["VersionId"] for v in versions] == ["1", "2", "3"]
    assert [c["Name"] for c in versions[1]["Columns"]] == ["order_id", "amount", "channel"]
    assert all(v["UpdateTime"] for v in versions)


def test_diff_versions(orders):
    glue, db = orders
    assert [(c.kind, c.path, c.compatibility) for c in catalog.diff_versions(glue, db, "orders", 1, 2)] == [
        ("add_column", "channel", BACKWARD), ("widen_type", "amount", BACKWARD)]
    kinds = {(c.kind, c.path, c.compatibility) for c in catalog.diff_versions(glue, db, "orders", "2", "3")}
    assert kinds == {("remove_column", "channel", "forward"), ("change_type", "amount", BREAKING)}


def test_rollback_makes_a_new_version_with_the_old_definition(orders):
    glue, db = orders
    before = len(catalog.table_versions(glue, db, "orders"))
    new_id = catalog.rollback(glue, db, "orders", "2")
    assert int(new_id) == before + 1
    table = glue.get_table(DatabaseName=db, Name="orders")["Table"]
    assert table["StorageDescriptor"]["Columns"] == cols(order_id="string", amount="bigint", channel="string")
    assert "note" not in table["Parameters"]
    assert catalog.diff_versions(glue, db, "orders", "2", new_id) == []


def test_table_input_strips_read_only_fields():
    table = {"Name": "t", "DatabaseName": "d", "CreateTime": 1, "UpdateTime": 2, "VersionId": "3", "CatalogId": "1",
             "IsRegisteredWithLakeFormation": False, "CreatedBy": "me", "FederatedTable": {}, "Parameters": {}}
    assert catalog.table_input(table) == {"Name": "t", "Parameters": {}}


def test_partitions_with_expression_and_counts(orders):
    glue, db = orders
    rows = catalog.partitions(glue, db, "orders")
    assert [(r["year"], r["month"]) for r in rows] == [("2024", "01"), ("2024", "02"), ("2024", "03"),
                                                         ("2025", "01"), ("2025", "02")]
    assert rows[0]["Location"].endswith("orders/year=2024/month=01/")
    picked = catalog.partitions(glue, db, "orders", "year = '2025' OR month IN ('03')")
    assert [(r["year"], r["month"]) for r in picked] == [("2024", "03"), ("2025", "01"), ("2025", "02")]
    assert catalog.partitions_per(glue, db, "orders", "year") == {"2024": 3, "2025": 2}
    assert catalog.partitions_per(glue, db, "orders", "month", "year = '2024'") == {"01": 1, "02": 1, "03": 1}


def test_render_table(orders):
    glue, db = orders
    view = catalog.render_table(glue, db, "orders")
    text = str(view)
    location = glue.get_table(DatabaseName=db, Name="orders")["Table"]["StorageDescriptor"]["Location"]
    assert text.splitlines()[0] == f"table {db}.orders"
    lines = [ln.split() for ln in text.splitlines()]
    for expected in (["classification", "parquet"], ["partitions", "5"], ["partition", "keys:"],
                     ["year", "string"], ["order_id", "string"], ["classification", "=", "parquet"],
                     ["location", location]):
        assert expected in lines, (expected, text)
    assert "<table>" in view._repr_html_() and "partition key" in view._repr_html_()
