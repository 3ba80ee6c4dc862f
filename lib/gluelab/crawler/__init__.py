"""gluelab's crawler: what an AWS Glue crawler does to S3 data, done by gluelab.

The local endpoint runs it for ``start_crawler`` (:mod:`gluelab.localaws.glue_crawlers`); it
can also be called directly, synchronously, over boto3 clients::

    from gluelab import crawler
    result = crawler.crawl("my-crawler")            # the crawler's definition from glue.get_crawler
    result.tables_created, result.messages

Modules, one concept each: :mod:`.listing` (include path, exclusions, skipped files), :mod:`.classify`
(built-in classifiers), :mod:`.infer` (Hive types and widening), :mod:`.layout` (tables and partitions),
:mod:`.tables` (TableInput / PartitionInput as AWS writes them), :mod:`.backends` (storage and catalog
over boto3), :mod:`.engine` (one crawl run under the crawler's policies).
"""
from __future__ import annotations

from .backends import Boto3Catalog, Boto3Storage
from .engine import CrawlCancelled, CrawlError, CrawlerSpec, CrawlResult, CrawlState

__all__ = ["crawl", "CrawlerSpec", "CrawlResult", "CrawlState", "CrawlError", "CrawlCancelled",
           "Boto3Storage", "Boto3Catalog"]


def crawl(crawler, *, glue=None, s3=None, state: CrawlState | None = None,
          csv_classifier: dict | None = None) -> CrawlResult:
    """Crawl now, in this thread, over boto3: ``crawler`` is a crawler name (read with get_crawler), a
    ``get_crawler()["Crawler"]`` dict or a :class:`CrawlerSpec`. Clients default to ``boto3.client(...)``
    (after ``gluelab.start()`` that is the lab). Pass the same ``state`` to later calls for incremental
    crawls. Returns the :class:`CrawlResult` (counts and messages)."""
    from . import engine

    if glue is None or s3 is None:
        import boto3

        glue = glue or boto3.client("glue")
        s3 = s3 or boto3.client("s3")
    if isinstance(crawler, str):
        crawler = glue.get_crawler(Name=crawler)["Crawler"]
    spec = crawler if isinstance(crawler, CrawlerSpec) else CrawlerSpec.from_crawler(crawler, csv_classifier)
    return engine.crawl(spec, Boto3Storage(s3), Boto3Catalog(glue), state)
