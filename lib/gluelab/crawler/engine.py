"""One crawl: list, classify, group, then write the Data Catalog under the crawler's policies.

Nothing is written until every object has been read, so a cancelled crawl (stop_crawler) leaves the catalog as
it was. Policies (AWS Developer Guide, "Setting crawler configuration options", "Incremental crawls"):

* ``SchemaChangePolicy.UpdateBehavior``: ``UPDATE_IN_DATABASE`` (default) rewrites a changed table with
  update_table (the catalog keeps the old version); ``LOG`` leaves it and logs the change. New tables and
  new partitions are created either way. ``Configuration`` ``CrawlerOutput.Tables.AddOrUpdateBehavior =
  "MergeNewColumns"`` only adds columns.
* ``SchemaChangePolicy.DeleteBehavior`` for tables this crawler made whose data is gone:
  ``DEPRECATE_IN_DATABASE`` (default) marks them with the ``DEPRECATED_BY_CRAWLER`` parameter (epoch ms),
  ``DELETE_FROM_DATABASE`` deletes them (and partitions whose folder is gone), ``LOG`` only logs.
* ``RecrawlPolicy.RecrawlBehavior = "CRAWL_NEW_FOLDERS_ONLY"``: after the first crawl, only folders not
  seen before are listed and read; both behaviours are forced to ``LOG``; new folders under a known table
  become its new partitions.
* ``CrawlerOutput.Partitions.AddOrUpdateBehavior = "InheritFromTable"``: partitions copy the table's schema.
* ``TablePrefix`` is put in front of every table name; a name already taken by a table at another location
  gets a short hash suffix, as AWS does.

Bad input (gluelab's rules; the messages are gluelab's wording): an object that cannot be read (a read error,
a truncated gzip, a corrupt Parquet footer) is not taken for deleted data. The tables and partitions whose
location holds it are neither deleted, deprecated nor rewritten from the objects that could be read; the
object is logged at ERROR level with its key and the reason and listed in ``CrawlResult.unreadable`` (an
incremental crawl reads its folder again next time). Objects no classifier recognises (UNKNOWN) are logged
at WARN level and listed in ``CrawlResult.unclassified``; records left out of a classified object (a JSON
line that is not an object) are logged at WARN level with the line and listed in ``CrawlResult.rejected``.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

from .. import catalogmodel
from . import backends, classify, layout, tables
from .listing import Exclusions, select, split_s3_path


class CrawlError(RuntimeError):
    """The crawl could not run (e.g. its database does not exist); the message is the crawl's ErrorMessage."""


class CrawlCancelled(RuntimeError):
    """stop_crawler was called: the crawl ended before writing anything."""


@dataclass
class CrawlerSpec:
    """The parts of a crawler definition a crawl uses (the fields of glue.get_crawler()["Crawler"])."""
    name: str
    database: str
    s3_targets: list = field(default_factory=list)
    table_prefix: str = ""
    update_behavior: str = "UPDATE_IN_DATABASE"
    delete_behavior: str = "DEPRECATE_IN_DATABASE"
    recrawl_behavior: str = "CRAWL_EVERYTHING"
    configuration: dict = field(default_factory=dict)
    csv_classifier: dict | None = None

    @classmethod
    def from_crawler(cls, crawler: dict, csv_classifier: dict | None = None) -> "CrawlerSpec":
        policy = crawler.get("SchemaChangePolicy") or {}
        config = crawler.get("Configuration") or {}
        if isinstance(config, str):
            config = json.loads(config) if config.strip() else {}
        return cls(name=crawler["Name"], database=crawler.get("DatabaseName") or "",
                   s3_targets=list((crawler.get("Targets") or {}).get("S3Targets") or []),
                   table_prefix=crawler.get("TablePrefix") or "",
                   update_behavior=policy.get("UpdateBehavior") or "UPDATE_IN_DATABASE",
                   delete_behavior=policy.get("DeleteBehavior") or "DEPRECATE_IN_DATABASE",
                   recrawl_behavior=(crawler.get("RecrawlPolicy") or {}).get("RecrawlBehavior")
                   or "CRAWL_EVERYTHING",
                   configuration=config, csv_classifier=csv_classifier)


@dataclass
class CrawlState:
    """What a crawler remembers between crawls: the leaf folders it has read (``s3://`` URIs) and its runs."""
    seen_folders: set = field(default_factory=set)
    crawls: int = 0


@dataclass
class CrawlResult:
    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0
    partitions_created: int = 0
    partitions_updated: int = 0
    partitions_deleted: int = 0
    objects_listed: int = 0
    objects_read: int = 0
    tables: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    #: ``(s3 uri, reason)`` of objects that could not be read: what the catalog says about them is kept
    unreadable: list = field(default_factory=list)
    #: ``(s3 uri, reason)`` of objects no classifier recognised (classification UNKNOWN)
    unclassified: list = field(default_factory=list)
    #: ``(s3 uri, "line N: reason")`` of records left out of classified objects
    rejected: list = field(default_factory=list)


def _never() -> bool:
    return False


def crawl(spec: CrawlerSpec, storage: backends.Storage, catalog: backends.Catalog,
          state: CrawlState | None = None, cancelled=_never, log=None) -> CrawlResult:
    """Run one crawl of ``spec``; ``state`` (updated in place) carries what earlier crawls saw.

    ``cancelled()`` is polled while objects are read; ``log(message, level)`` receives each message as it
    happens (level ``INFO``, ``WARN`` or ``ERROR``). Raises CrawlError when the crawl cannot run and
    CrawlCancelled when cancelled before writing.
    """
    state = state if state is not None else CrawlState()
    result = CrawlResult()

    def note(message: str, level: str = "INFO") -> None:
        result.messages.append(message)
        if log:
            log(message, level)

    if not spec.database or not catalog.database_exists(spec.database):
        raise CrawlError(f"Database {spec.database or '(none)'} not found.")
    incremental = spec.recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY" and state.crawls > 0
    update = "LOG" if spec.recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY" else spec.update_behavior
    delete = "LOG" if spec.recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY" else spec.delete_behavior
    grouping = spec.configuration.get("Grouping") or {}
    output = spec.configuration.get("CrawlerOutput") or {}
    inherit = (output.get("Partitions") or {}).get("AddOrUpdateBehavior") == "InheritFromTable"
    merge_new = (output.get("Tables") or {}).get("AddOrUpdateBehavior") == "MergeNewColumns"
    combine = grouping.get("TableGroupingPolicy") == "CombineCompatibleSchemas"
    level = grouping.get("TableLevelConfiguration")
    note(f"Crawl started: {'new folders only' if incremental else 'everything'}, "
         f"{len(spec.s3_targets)} S3 target(s), database {spec.database}")

    existing = {t["Name"]: t for t in catalog.tables(spec.database)}
    plans: list[tuple[str, layout.TablePlan, list]] = []   # (table name, plan, exclusions)
    appended: list[tuple[dict, layout.TablePlan]] = []     # incremental: new partitions of known tables
    include_uris = []
    seen_now: set[str] = set()
    for target in spec.s3_targets:
        bucket, prefix = split_s3_path(target["Path"])
        include_uris.append(f"s3://{bucket}/{prefix}")
        patterns = list(target.get("Exclusions") or [])
        exclusions = Exclusions(patterns)
        try:
            if incremental:
                listed = storage.walk(bucket, prefix, lambda f, b=bucket: f"s3://{b}/{f}" in state.seen_folders)
            else:
                listed = storage.list(bucket, prefix)
            objects, excluded = select(bucket, prefix, listed, exclusions)
        except FileNotFoundError as exc:
            note(f"Skipping {target['Path']}: {exc}")
            continue
        result.objects_listed += len(objects) + excluded
        if excluded:
            note(f"{excluded} object(s) under {target['Path']} excluded by {patterns}")
        objects = _sample(objects, target.get("SampleSize"))
        classified = []
        for i, obj in enumerate(objects):
            if i % 64 == 0 and cancelled():
                raise CrawlCancelled("the crawl was stopped before it wrote to the Data Catalog")
            schema = classify.classify(storage, obj, spec.csv_classifier)
            result.objects_read += 1
            uri = f"s3://{bucket}/{obj.key}"
            seen_now.add(f"s3://{bucket}/{obj.key[:obj.key.rfind('/') + 1]}")
            if schema.unreadable:
                result.unreadable.append((uri, schema.message))
                note(schema.message, "ERROR")
                continue
            if schema.classification is None:
                result.unclassified.append((uri, schema.message))
                note(schema.message, "WARN")
                continue
            for problem in schema.problems:
                result.rejected.append((uri, problem))
                note(f"{uri} {problem}: record left out of the {schema.classification} table", "WARN")
            classified.append((obj, schema))
        if incremental:
            classified = _attach_to_known(classified, existing, spec.name, bucket, appended)
        elif result.unreadable:
            classified, kept = _keep_layout(classified, existing, spec.name, bucket,
                                            [uri for uri, _ in result.unreadable], spec.table_prefix)
            plans += [(plan, patterns) for plan in kept]
        for plan in layout.group(classified, bucket, prefix, combine=combine, table_level=level):
            plans.append((plan, patterns))
    if cancelled():
        raise CrawlCancelled("the crawl was stopped before it wrote to the Data Catalog")

    named = _name_tables(plans, existing, spec.table_prefix)
    unread = [uri for uri, _ in result.unreadable]
    written: set[str] = set()
    for name, plan, patterns in named:
        new = tables.table_input(name, plan, spec.name, [f"{plan.location}{p}" for p in patterns] or None)
        written.add(name)
        result.tables.append(name)
        old = existing.get(name)
        if old is None:
            catalog.create_table(spec.database, new)
            result.tables_created += 1
            note(f"Created table {name} in database {spec.database} ({plan.location})")
            _add_partitions(catalog, spec, name, new, plan, plan.partitions, inherit, result)
            continue
        if merge_new and "DEPRECATED_BY_CRAWLER" not in old.get("Parameters", {}):
            new = _merge_new_columns(old, new)
        blocked = _unread_under(unread, plan.location)
        if blocked and tables.shape(old) != tables.shape(new):
            note(f"Table {name} not updated: {blocked} object(s) under {plan.location} could not be read, so "
                 f"its schema is kept as it was (gluelab)", "WARN")
            new = catalogmodel.table_input(old)
        elif tables.shape(old) != tables.shape(new):
            if update == "UPDATE_IN_DATABASE" or "DEPRECATED_BY_CRAWLER" in old.get("Parameters", {}):
                catalog.update_table(spec.database, new)
                result.tables_updated += 1
                note(f"Updated table {name} in database {spec.database}: schema change")
            else:
                note(f"Table {name} has a schema change; not updated (SchemaChangePolicy UpdateBehavior LOG)")
                new = catalogmodel.table_input(old)
        _sync_partitions(catalog, spec, name, new, plan, inherit, delete, update, result, note, unread)
    for table, plan in appended:
        _add_partitions(catalog, spec, table["Name"], catalogmodel.table_input(table), plan, plan.partitions,
                        inherit, result)
        result.tables.append(table["Name"])

    if not incremental:
        _handle_deleted_tables(catalog, spec, existing, written, include_uris, delete, result, note, unread)
    # a folder with an object that could not be read is not "seen": an incremental crawl reads it again
    state.seen_folders |= {f for f in seen_now if not _unread_under(unread, f)}
    state.crawls += 1
    note(f"Crawl finished: {result.tables_created} table(s) created, {result.tables_updated} updated, "
         f"{result.tables_deleted} deleted; {result.partitions_created} partition(s) added; "
         f"{result.objects_read} object(s) read"
         + (f", {len(result.unreadable)} could not be read" if result.unreadable else "")
         + (f", {len(result.unclassified)} not classified (UNKNOWN)" if result.unclassified else "")
         + (f"; {len(result.rejected)} record(s) left out" if result.rejected else ""),
         "ERROR" if result.unreadable else "INFO")
    return result


def _unread_under(unread: list[str], location: str) -> int:
    """How many of the unreadable objects' URIs lie under ``location`` (a folder URI)."""
    if not location.endswith("/"):
        location += "/"
    return sum(1 for uri in unread if uri.startswith(location))


def _sample(objects, sample_size):
    """At most ``sample_size`` objects per leaf folder (SampleSize), in key order."""
    if not sample_size:
        return objects
    kept, per_folder = [], {}
    for obj in objects:
        n = per_folder.get(obj.folder, 0)
        if n < sample_size:
            kept.append(obj)
            per_folder[obj.folder] = n + 1
    return kept


def _attach_to_known(classified, existing, crawler, bucket, appended):
    """Incremental crawls: files in new folders under a table this crawler made become its new partitions."""
    known = [t for t in existing.values()
             if t.get("Parameters", {}).get("UPDATED_BY_CRAWLER") == crawler and t.get("PartitionKeys")]
    rest, attached = _attach(classified, known, bucket)
    appended.extend(attached)
    return rest


def _keep_layout(classified, existing, crawler, bucket, unread, table_prefix):
    """Tables this crawler made whose location holds an object that could not be read keep their name, root
    and partition keys: without that object the readable files could group differently (e.g. into one table
    at the include path). Returns ``(the other files, plans for those tables)``."""
    pinned = [t for t in existing.values() if t.get("Parameters", {}).get("UPDATED_BY_CRAWLER") == crawler
              and _unread_under(unread, t.get("StorageDescriptor", {}).get("Location", ""))]
    rest, attached = _attach(classified, pinned, bucket)
    plans = []
    for table, plan in attached:
        if plan.name.startswith(table_prefix):
            plan.name = plan.name[len(table_prefix):]
        plans.append(plan)
    return rest, plans


def _attach(classified, tables_, bucket):
    """Files under the location of one of ``tables_`` (deepest first), at its partition depth, planned as that
    table's files: ``(the other files, [(table, plan)])``."""
    rest, attached = [], []
    known = sorted(((t["StorageDescriptor"].get("Location", ""), t) for t in tables_),
                   key=lambda lt: -len(lt[0]))
    plans: dict[str, layout.TablePlan] = {}
    for obj, schema in classified:
        uri = f"s3://{bucket}/{obj.key}"
        for location, table in known:
            if not location.endswith("/"):
                location += "/"
            keys = table.get("PartitionKeys") or []
            if uri.startswith(location):
                parts = uri[len(location):].split("/")[:-1]
                if len(parts) != len(keys):
                    continue
                plan = plans.get(table["Name"])
                if plan is None:
                    plan = layout.TablePlan(table["Name"], bucket, location[len(f"s3://{bucket}/"):],
                                            [k["Name"] for k in keys])
                    plans[table["Name"]] = plan
                    attached.append((table, plan))
                values = tuple(p.partition("=")[2] if "=" in p and k["Name"] == p.partition("=")[0].lower()
                               else p for p, k in zip(parts, keys))
                folder = plan.root + "".join(p + "/" for p in parts)
                plan.partitions.setdefault(values, (folder, []))[1].append((obj, schema))
                break
        else:
            rest.append((obj, schema))
    return rest, attached


def _name_tables(plans, existing, prefix):
    """Final names: TablePrefix + folder name; a clash with a table at another location gets a hash suffix."""
    out, used = [], {}
    for plan, patterns in plans:
        name = prefix + plan.name
        old = existing.get(name)
        old_location = (old or {}).get("StorageDescriptor", {}).get("Location")
        if name in used or (old is not None and old_location != plan.location):
            name = f"{name}_{hashlib.md5(plan.location.encode()).hexdigest()[:8]}"
        used[name] = plan.location
        out.append((name, plan, patterns))
    return out


def _merge_new_columns(old: dict, new: dict) -> dict:
    cols = list(old["StorageDescriptor"]["Columns"])
    names = {c["Name"] for c in cols}
    cols += [c for c in new["StorageDescriptor"]["Columns"] if c["Name"] not in names]
    merged = catalogmodel.table_input(old)
    merged["StorageDescriptor"] = {**old["StorageDescriptor"], "Columns": cols}
    return merged


def _add_partitions(catalog, spec, name, table, plan, partitions, inherit, result):
    if not plan.partition_keys:
        return
    inputs = [tables.partition_input(values, f"s3://{plan.bucket}/{folder}", files, table, spec.name, inherit)
              for values, (folder, files) in sorted(partitions.items())]
    for chunk in catalogmodel.batches(inputs):
        catalog.batch_create_partition(spec.database, name, chunk)
    result.partitions_created += len(inputs)


def _sync_partitions(catalog, spec, name, table, plan, inherit, delete, update, result, note, unread=()):
    if not plan.partition_keys:
        return
    current = {tuple(p["Values"]): p for p in catalog.partitions(spec.database, name)}
    new = {v: pf for v, pf in plan.partitions.items() if v not in current}
    _add_partitions(catalog, spec, name, table, plan, new, inherit, result)
    changed = []
    for values, (folder, files) in sorted(plan.partitions.items()):
        if values in current and _unread_under(unread, f"s3://{plan.bucket}/{folder}"):
            continue  # some of its objects could not be read: its schema stays as it was
        if values in current:
            want = tables.partition_input(values, f"s3://{plan.bucket}/{folder}", files, table, spec.name, inherit)
            have = current[values].get("StorageDescriptor", {})
            if (inherit or update == "UPDATE_IN_DATABASE") and \
                    [(c["Name"], c["Type"]) for c in have.get("Columns", [])] != \
                    [(c["Name"], c["Type"]) for c in want["StorageDescriptor"]["Columns"]]:
                changed.append({"PartitionValueList": list(values), "PartitionInput": want})
    for chunk in catalogmodel.batches(changed):
        catalog.batch_update_partition(spec.database, name, chunk)
    result.partitions_updated += len(changed)
    gone = [list(v) for v in current if v not in plan.partitions]
    kept = [v for v in gone
            if _unread_under(unread, current[tuple(v)].get("StorageDescriptor", {}).get("Location", ""))]
    if kept:
        note(f"{len(kept)} partition(s) of table {name} kept: objects in their folders could not be read "
             f"(gluelab)", "WARN")
        gone = [v for v in gone if v not in kept]
    if gone and delete == "DELETE_FROM_DATABASE":
        for chunk in catalogmodel.batches(gone):
            catalog.batch_delete_partition(spec.database, name, chunk)
        result.partitions_deleted += len(gone)
        note(f"Deleted {len(gone)} partition(s) of table {name} whose folders are gone")
    elif gone:
        note(f"{len(gone)} partition(s) of table {name} have no data any more (DeleteBehavior {delete})")


def _handle_deleted_tables(catalog, spec, existing, written, include_uris, delete, result, note, unread=()):
    for name, table in existing.items():
        params = table.get("Parameters", {})
        location = table.get("StorageDescriptor", {}).get("Location", "")
        if name in written or params.get("UPDATED_BY_CRAWLER") != spec.name:
            continue
        if not any(location.startswith(uri) or uri.startswith(location) for uri in include_uris):
            continue
        blocked = _unread_under(list(unread), location)
        if blocked:
            note(f"Table {name} kept as it was: {blocked} object(s) at {location} could not be read (gluelab)",
                 "WARN")
            continue
        if delete == "DELETE_FROM_DATABASE":
            catalog.delete_table(spec.database, name)
            result.tables_deleted += 1
            note(f"Deleted table {name}: its data at {location} is gone")
        elif delete == "DEPRECATE_IN_DATABASE":
            if "DEPRECATED_BY_CRAWLER" in params:
                continue
            marked = catalogmodel.table_input(table)
            stamp = str(int(time.time() * 1000))
            marked["Parameters"] = {**params, "DEPRECATED_BY_CRAWLER": stamp}
            sd = dict(marked.get("StorageDescriptor", {}))
            sd["Parameters"] = {**sd.get("Parameters", {}), "DEPRECATED_BY_CRAWLER": stamp}
            marked["StorageDescriptor"] = sd
            catalog.update_table(spec.database, marked)
            result.tables_deleted += 1
            note(f"Marked table {name} as deprecated: its data at {location} is gone")
        else:
            note(f"Table {name} has no data at {location} any more (DeleteBehavior LOG: left as it is)")
