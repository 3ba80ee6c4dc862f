"""From classified files to tables: where each table's root folder is, and which folders are partitions.

AWS ("How does a crawler determine when to create partitions?"): starting at the include path, when the
files below a folder are compatible (same format, compression, CSV delimiter and header) and their schemas
similar, that folder is one table and the folders below it are partitions; otherwise each sub-folder is
considered on its own. Folder levels named ``key=value`` become partition keys named ``key``; other levels
become ``partition_0``, ``partition_1``, ... with the folder name as the value (all typed ``string``).

Options from the crawler's ``Configuration``:

* ``Grouping.TableGroupingPolicy = "CombineCompatibleSchemas"``: schema similarity is ignored, only
  compatibility counts (one table per include path when the data is compatible).
* ``Grouping.TableLevelConfiguration = n``: tables are created at folder level ``n`` counted from the bucket
  (the top-level folder is level 1); everything below is partitions.

Table names come from the root folder's name (the bucket's when the table is the whole bucket), lower case,
with characters other than letters, digits and ``_`` replaced by ``_``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import infer

#: Schemas at least this alike (shared column names / columns of the smaller one) are "similar" (one table).
SIMILARITY = 0.7


@dataclass
class TablePlan:
    """A table to be: its name (before TablePrefix), root folder, partition keys and files by partition."""
    name: str
    bucket: str
    root: str                       # key prefix of the table's folder, '' or ending in '/'
    partition_keys: list[str]
    partitions: dict = field(default_factory=dict)   # tuple(values) -> (folder key prefix, [(obj, schema)])

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.root}"

    @property
    def files(self) -> list:
        return [f for _, files in self.partitions.values() for f in files]


def table_name(folder: str) -> str:
    """A folder name as AWS's crawler names a table from it: ``Sales-2024`` -> ``sales_2024``."""
    return re.sub(r"[^a-z0-9_]", "_", folder.lower()) or "table"


def _depth(obj, node: str) -> int:
    rest = obj.relative[len(node):]
    return rest.count("/")


def _fits_one_table(files, node: str, combine: bool) -> bool:
    if len({schema.signature for _, schema in files}) != 1:
        return False
    if len({_depth(obj, node) for obj, _ in files}) != 1:
        return False
    if combine:
        return True
    leaves: dict[str, tuple] = {}
    for obj, schema in files:
        leaves[obj.folder] = infer.merge_fields(leaves.get(obj.folder, ()), schema.columns)
    distinct = list({frozenset(n for n, _ in cols): cols for cols in leaves.values()}.values())
    return all(infer.similarity(a, b) >= SIMILARITY for i, a in enumerate(distinct) for b in distinct[i + 1:])


def _plan(bucket: str, prefix: str, node: str, files, name: str) -> TablePlan:
    """One table rooted at ``node`` (relative to the include path) holding ``files``."""
    depth = _depth(files[0][0], node)
    levels: list[set[str]] = [set() for _ in range(depth)]
    for obj, _ in files:
        for i, part in enumerate(obj.relative[len(node):].split("/")[:depth]):
            levels[i].add(part)
    keys, named = [], []
    for i, names in enumerate(levels):
        hive = {n.partition("=")[0] for n in names if "=" in n}
        is_named = len(hive) == 1 and all("=" in n for n in names)
        named.append(is_named)
        keys.append(hive.pop().lower() if is_named else f"partition_{i}")
    plan = TablePlan(name, bucket, prefix + node, keys)
    for obj, schema in files:
        parts = obj.relative[len(node):].split("/")[:depth]
        values = tuple(p.partition("=")[2] if named[i] else p for i, p in enumerate(parts))
        folder = prefix + node + "".join(p + "/" for p in parts)
        plan.partitions.setdefault(values, (folder, []))[1].append((obj, schema))
    return plan


def _node_name(bucket: str, prefix: str, node: str) -> str:
    path = (prefix + node).strip("/")
    return table_name(path.rsplit("/", 1)[-1] if path else bucket)


def group(files, bucket: str, prefix: str, *, combine: bool = False,
          table_level: int | None = None) -> list[TablePlan]:
    """Group classified ``(obj, schema)`` pairs under the include path ``s3://bucket/prefix`` into tables."""
    files = [f for f in files if f[1].classification]
    if not files:
        return []
    if table_level:
        return _group_at_level(files, bucket, prefix, table_level)
    return _split(files, bucket, prefix, "", combine)


def _split(files, bucket, prefix, node, combine) -> list[TablePlan]:
    if _fits_one_table(files, node, combine):
        return [_plan(bucket, prefix, node, files, _node_name(bucket, prefix, node))]
    direct = [f for f in files if _depth(f[0], node) == 0]
    children: dict[str, list] = {}
    for f in files:
        if _depth(f[0], node) > 0:
            child = node + f[0].relative[len(node):].split("/", 1)[0] + "/"
            children.setdefault(child, []).append(f)
    plans = _cluster_direct(direct, bucket, prefix, node, combine) if direct else []
    for child in sorted(children):
        plans += _split(children[child], bucket, prefix, child, combine)
    return plans


def _cluster_direct(files, bucket, prefix, node, combine) -> list[TablePlan]:
    """Files side by side in one folder that cannot all be one table: one table per similar group."""
    clusters: list[list] = []
    for f in files:
        for cluster in clusters:
            if _fits_one_table(cluster + [f], node, combine):
                cluster.append(f)
                break
        else:
            clusters.append([f])
    plans = []
    for i, cluster in enumerate(clusters):
        name = _node_name(bucket, prefix, node) if i == 0 else table_name(
            cluster[0][0].relative.rsplit("/", 1)[-1].split(".", 1)[0])
        plans.append(_plan(bucket, prefix, node, cluster, name))
    return plans


def _group_at_level(files, bucket, prefix, level) -> list[TablePlan]:
    roots: dict[str, list] = {}
    for f in files:
        parts = f[0].key.split("/")[:-1]
        root = "/".join(parts[:level]) + "/" if parts else ""
        roots.setdefault(root, []).append(f)
    plans = []
    for root in sorted(roots):
        node = root[len(prefix):] if root.startswith(prefix) else ""
        by_kind: dict[tuple, list] = {}
        for f in roots[root]:
            by_kind.setdefault((f[1].signature, _depth(f[0], node)), []).append(f)
        for i, kind in enumerate(sorted(by_kind, key=str)):
            name = _node_name(bucket, prefix, node) + (f"_{i}" if i else "")
            plans.append(_plan(bucket, prefix, node, by_kind[kind], name))
    return plans
