"""AWS Glue crawlers: ``start_crawler`` really crawls S3 into the Data Catalog.

A crawl runs gluelab's crawler (:mod:`gluelab.crawler`) in a background thread, directly on moto's S3 and Glue
backends (:mod:`.crawler_storage`: no HTTP round trips, so 10,000 objects crawl in seconds). The crawler is
RUNNING, then STOPPING, then READY; LastCrawl says SUCCEEDED, FAILED (with ErrorMessage) or CANCELLED
(``stop_crawler``). Messages go to CloudWatch Logs, group ``/aws-glue/crawlers``, stream = the crawler's name,
each prefixed by the crawl's id and its level (``INFO``, ``WARN``, ``ERROR``). A crawl that met objects it
could not read still completes (SUCCEEDED: the tables and partitions over them are kept as they were, see
:mod:`gluelab.crawler.engine`); its ErrorMessage, in gluelab's words, names them and the reason, and every one
is an ERROR line of the log. The crawl's ``Summary`` (list_crawls) counts them too: ``ObjectsUnreadable``,
``ObjectsUnclassified`` and ``RecordsLeftOut`` are gluelab's additions to the counts AWS reports.
``get_crawler_metrics`` and ``update_crawler``, which moto lacks, are answered at moto's Glue dispatch. A
crawler's cron ``Schedule`` fires on the lab's clock (:mod:`.scheduler`); every finished crawl emits
``"Glue Crawler State Change"`` (:mod:`.signals`).

Teardown deletes the lab's crawlers; the guard checks ``CrawlerName`` (and ``Name`` of crawler calls).
"""
from __future__ import annotations

import json
import statistics
import threading
import time
from datetime import datetime, timezone

from moto.glue import exceptions as glue_exceptions
from moto.glue.models import FakeCrawl, FakeCrawler, glue_backends
from moto.glue.responses import GlueResponse

from ..clock import Cron
from ..crawler import CrawlCancelled, CrawlerSpec, CrawlState, engine
from . import dispatch, logship, scheduler, signals
from .crawler_storage import MotoCatalog, MotoStorage
from .hooks import hook
from .service import Owned, Service, glue_tags, paged

def _delete_crawler(glue, name: str) -> None:
    """Delete a crawler, stopping a running crawl first (AWS refuses to delete a running crawler)."""
    for _ in range(600):
        state = glue.get_crawler(Name=name)["Crawler"]["State"]
        if state == "READY":
            break
        if state == "RUNNING":
            try:
                glue.stop_crawler(Name=name)
            except glue.exceptions.CrawlerNotRunningException:
                pass
        time.sleep(0.1)
    glue.delete_crawler(Name=name)


SERVICE = Service(
    "glue", guarded=("CrawlerName",),
    operations=("CreateCrawler", "UpdateCrawler", "DeleteCrawler", "StartCrawler", "StopCrawler",
                "UpdateCrawlerSchedule", "StartCrawlerSchedule", "StopCrawlerSchedule"),
    owned=(Owned("crawler", paged("get_crawlers", "Crawlers"), _delete_crawler, tags=glue_tags("crawler")),))


CRAWLER_LOG_GROUP = "/aws-glue/crawlers"
#: Seconds a finished crawl stays STOPPING before READY (AWS takes a while to wrap up; tests may set 0).
CRAWLER_STOPPING_SECONDS = 0.2
_LAST_CRAWL_STATUS = {"COMPLETED": "SUCCEEDED", "FAILED": "FAILED", "STOPPED": "CANCELLED"}
#: A finished crawl's ``state`` in its "Glue Crawler State Change" event, as AWS spells it.
_EVENT_STATE = {"COMPLETED": "Succeeded", "FAILED": "Failed", "STOPPED": "Cancelled"}
#: ErrorMessage's limit in the Glue API (Crawl, CrawlerHistory, LastCrawlInfo).
_ERROR_MESSAGE_MAX = 2048


class ExecutedCrawl(FakeCrawl):
    """A crawl whose state comes from a real crawl instead of moto's state machine."""

    @property
    def status(self):
        return self._exec_status

    @status.setter
    def status(self, value):
        self._exec_status = value

    def advance(self) -> None:  # moto's list_crawls advances its simulated crawls; ours move on their own
        pass

    def as_dict(self):
        d = super().as_dict()
        d["State"] = {"STOPPING": "RUNNING"}.get(self.status, self.status)
        if self.error_message:
            d["ErrorMessage"] = self.error_message
        d["Summary"] = json.dumps(self.summary) if self.summary else ""
        return d


def _crawler_state(crawler: FakeCrawler) -> dict:
    """gluelab's per-crawler memory: incremental-crawl state and the figures get_crawler_metrics reports."""
    state = crawler.__dict__.get("_gluelab")
    if state is None:
        state = crawler.__dict__["_gluelab"] = {"crawl_state": CrawlState(), "runtimes": [], "last": None}
    return state


@hook(FakeCrawler, "start_crawler", ())
def _start_crawler(original, crawler: FakeCrawler):
    if crawler.crawls and crawler.crawls[-1].status in ("RUNNING", "STOPPING"):
        raise glue_exceptions.CrawlerRunningException(f"Crawler with name {crawler.name} has already started")
    original(crawler)
    crawl = crawler.crawls[-1]
    crawl.__class__ = ExecutedCrawl
    crawl.status = "RUNNING"
    crawl.error_message = None
    crawl.summary = None
    crawl.cancel = threading.Event()
    crawl.started_monotonic = time.monotonic()
    crawl.start_time = datetime.now(timezone.utc)
    # who started it (a workflow run sets this before start_crawler), kept with the crawl before it can end
    crawl.owner = crawler.__dict__.pop("start_owner", None)
    threading.Thread(target=_run_crawl, args=(crawler, crawl), daemon=True,
                     name=f"gluelab-crawl-{crawler.name[:20]}").start()


@hook(FakeCrawler, "stop_crawler", ())
def _stop_crawler(original, crawler: FakeCrawler):
    crawl = crawler.crawls[-1] if crawler.crawls else None
    if isinstance(crawl, ExecutedCrawl) and crawl.status == "STOPPING":
        raise glue_exceptions.GlueClientError("CrawlerStoppingException",
                                              f"Crawler with name {crawler.name} is stopping")
    original(crawler)  # raises CrawlerNotRunningException unless RUNNING; sets STOPPING
    if isinstance(crawl, ExecutedCrawl):
        crawl.cancel.set()


@hook(FakeCrawler, "as_dict", ())
def _crawler_as_dict(original, crawler: FakeCrawler):
    d = original(crawler)
    finished = [c for c in crawler.crawls if c.status in _LAST_CRAWL_STATUS]
    if finished:
        last = finished[-1]
        d["LastCrawl"] = {"Status": _LAST_CRAWL_STATUS[last.status], "LogGroup": last.log_group,
                          "LogStream": last.log_stream, "MessagePrefix": last.message_prefix,
                          "StartTime": last.start_time}
        if getattr(last, "error_message", None):
            d["LastCrawl"]["ErrorMessage"] = last.error_message
    else:
        d.pop("LastCrawl", None)
    running = crawler.crawls[-1] if crawler.crawls else None
    if isinstance(running, ExecutedCrawl) and running.status in ("RUNNING", "STOPPING"):
        d["CrawlElapsedTime"] = int((time.monotonic() - running.started_monotonic) * 1000)
    else:
        d["CrawlElapsedTime"] = 0
    return d


def _crawl_logger(crawler: FakeCrawler, crawl: ExecutedCrawl):
    def log(level: str, message: str) -> None:
        logship.ship(crawler.backend.account_id, crawler.backend.region_name, CRAWLER_LOG_GROUP, crawler.name,
                     [f"[{crawl.message_prefix}] {level} : {message}"])
    return log


def _run_crawl(crawler: FakeCrawler, crawl: ExecutedCrawl) -> None:
    state = _crawler_state(crawler)
    log = _crawl_logger(crawler, crawl)
    log("BENCHMARK", f"Running Start Crawl for Crawler {crawler.name}")
    signals.emit(signals.CRAWLER_STATE_CHANGE, {
        "accountId": crawler.backend.account_id, "crawlerName": crawler.name,
        "startTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "state": "Started",
        "message": "Crawler Started"}, resource=crawler)
    status, error, result = "COMPLETED", None, None
    try:
        spec = CrawlerSpec.from_crawler({**crawler.as_dict(), "Configuration": crawler.configuration})
        backend = crawler.backend
        result = engine.crawl(spec, MotoStorage(backend.account_id, backend.partition), MotoCatalog(backend),
                              state["crawl_state"], cancelled=crawl.cancel.is_set,
                              log=lambda message, level="INFO": log(level, message))
    except CrawlCancelled as exc:
        status = "STOPPED"
        log("INFO", str(exc))
    except Exception as exc:  # the crawl failed: LastCrawl FAILED with the reason, as on AWS
        status, error = "FAILED", (str(exc) or type(exc).__name__)
        log("ERROR", error)
    runtime = time.monotonic() - crawl.started_monotonic
    if status == "COMPLETED" and result is not None:
        state["runtimes"].append(runtime)
        state["last"] = result
        crawl.summary = {"TablesCreated": result.tables_created, "TablesUpdated": result.tables_updated,
                         "TablesDeleted": result.tables_deleted,
                         "PartitionsCreated": result.partitions_created,
                         "ObjectsUnreadable": len(result.unreadable),
                         "ObjectsUnclassified": len(result.unclassified),
                         "RecordsLeftOut": len(result.rejected)}
        error = unreadable_message(result.unreadable)
    crawl.error_message = error
    crawl.dpu_hour = round(runtime / 3600 * 2, 6)
    crawl.status = "STOPPING"
    time.sleep(CRAWLER_STOPPING_SECONDS)
    crawl.end_time = datetime.now(timezone.utc)
    crawl.status = status
    crawler.crawl_elapsed_time = 0
    log("BENCHMARK", "Crawler has finished running and is in state READY")
    signals.emit(signals.CRAWLER_STATE_CHANGE, crawl_event_detail(crawler, _EVENT_STATE[status], error, result,
                                                                  runtime, crawl.end_time),
                 resource=crawler, source="" if status == "STOPPED" else None)


def crawl_event_detail(crawler: FakeCrawler, state: str, error: str | None, result, runtime: float,
                       ended: datetime) -> dict:
    """The detail of AWS's "Glue Crawler State Change" event (its numbers as strings, as AWS writes them); a
    cancelled crawl's signal is gluelab's own (AWS sends no event for it)."""
    backend = crawler.backend
    link = (f"https://console.aws.amazon.com/cloudwatch/home?region={backend.region_name}#logEventViewer:"
            f"group={CRAWLER_LOG_GROUP};stream={crawler.name}")
    if state == "Failed":
        return {"crawlerName": crawler.name, "errorMessage": error or "", "accountId": backend.account_id,
                "cloudWatchLogLink": link, "state": "Failed", "message": "Crawler Failed"}
    if state != "Succeeded":
        return {"crawlerName": crawler.name, "accountId": backend.account_id, "state": state,
                "message": f"Crawler {state}"}
    count = lambda name: str(getattr(result, name, 0) or 0)  # noqa: E731
    return {"tablesCreated": count("tables_created"), "warningMessage": error or "N/A",
            "partitionsUpdated": count("partitions_updated"), "tablesUpdated": count("tables_updated"),
            "message": "Crawler Succeeded", "partitionsDeleted": count("partitions_deleted"),
            "accountId": backend.account_id, "runningTime (sec)": str(int(round(runtime))),
            "tablesDeleted": count("tables_deleted"), "crawlerName": crawler.name,
            "completionDate": ended.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "state": "Succeeded",
            "partitionsCreated": count("partitions_created"), "cloudWatchLogLink": link}


def unreadable_message(unreadable: list) -> str | None:
    """The ErrorMessage of a crawl that completed but could not read some objects (gluelab's wording)."""
    if not unreadable:
        return None
    head = (f"gluelab: {len(unreadable)} object(s) could not be read; the tables and partitions over them were "
            f"kept as they were. ")
    text = head + "; ".join(reason for _, reason in unreadable)
    if len(text) > _ERROR_MESSAGE_MAX:
        text = text[:_ERROR_MESSAGE_MAX - 40].rsplit(";", 1)[0] + "; ... (every one is in the crawl's log)"
    return text


def crawler_metrics(crawler: FakeCrawler) -> dict:
    """One CrawlerMetrics entry as GetCrawlerMetrics returns it."""
    state = _crawler_state(crawler)
    runtimes, last = state["runtimes"], state["last"]
    current = crawler.crawls[-1] if crawler.crawls else None
    running = isinstance(current, ExecutedCrawl) and current.status in ("RUNNING", "STOPPING")
    median = statistics.median(runtimes) if runtimes else 0.0
    left = max(0.0, median - (time.monotonic() - current.started_monotonic)) if running and runtimes else 0.0
    return {"CrawlerName": crawler.name, "TimeLeftSeconds": round(left, 3),
            "StillEstimating": bool(running and not runtimes),
            "LastRuntimeSeconds": round(runtimes[-1], 3) if runtimes else 0.0,
            "MedianRuntimeSeconds": round(median, 3),
            "TablesCreated": last.tables_created if last else 0,
            "TablesUpdated": last.tables_updated if last else 0,
            "TablesDeleted": last.tables_deleted if last else 0}


@dispatch.action(GlueResponse, "get_crawler_metrics")
def _get_crawler_metrics(response: GlueResponse) -> dict:
    params = dispatch.params(response)
    backend = response.glue_backend
    names = params.get("CrawlerNameList") or list(backend.crawlers)
    metrics = [crawler_metrics(backend.get_crawler(n)) for n in names]
    return {"CrawlerMetricsList": metrics}


#: update_crawler's optional fields -> FakeCrawler attributes. As on AWS, only the fields a request names change.
_CRAWLER_UPDATABLE = {"Role": "role", "DatabaseName": "database_name", "Description": "description",
                      "Targets": "targets", "Schedule": "schedule", "Classifiers": "classifiers",
                      "TablePrefix": "table_prefix", "SchemaChangePolicy": "schema_change_policy",
                      "RecrawlPolicy": "recrawl_policy", "LineageConfiguration": "lineage_configuration",
                      "Configuration": "configuration",
                      "CrawlerSecurityConfiguration": "crawler_security_configuration"}


@dispatch.action(GlueResponse, "update_crawler")
def _update_crawler(response: GlueResponse) -> dict:
    """UpdateCrawler (moto has none): change the named fields of an existing crawler, refused while it runs.
    The crawler keeps its crawl history and incremental-crawl state; its Version goes up by one."""
    params = dispatch.params(response)
    try:
        crawler = response.glue_backend.get_crawler(params.get("Name"))
    except glue_exceptions.CrawlerNotFoundException:  # UpdateCrawler's error shape is EntityNotFoundException
        raise glue_exceptions.EntityNotFoundException(f"Crawler {params.get('Name')} not found.") from None
    if crawler.crawls and crawler.crawls[-1].status in ("RUNNING", "STOPPING"):
        raise glue_exceptions.CrawlerRunningException(f"Crawler with name {crawler.name} is running; "
                                                "update it when it is READY")
    for field, attribute in _CRAWLER_UPDATABLE.items():
        if field in params:
            setattr(crawler, attribute, params[field])
    crawler.version += 1
    crawler.last_updated = datetime.now(timezone.utc)
    return {}


@scheduler.source
def _scheduled_crawls(after: datetime, until: datetime) -> list[str]:
    """Start every crawler whose cron ``Schedule`` fell due in ``(after, until]`` (once, however many due
    times); a crawler still running is skipped, as on AWS; a schedule that does not parse never fires."""
    started = []
    for backend in _all_glue_backends():
        for crawler in list(backend.crawlers.values()):
            if not crawler.schedule:
                continue
            try:
                due = Cron(crawler.schedule).fire_times(after, until)
            except ValueError:
                continue
            if not due:
                continue
            try:
                backend.start_crawler(crawler.name)
            except glue_exceptions.CrawlerRunningException:
                continue
            started.append(crawler.name)
    return started


def _all_glue_backends():
    for regions in list(glue_backends.values()):
        for name in list(regions.keys()):
            yield regions[name]
