"""The facade: ``gluelab.start()`` is the only set-up a notebook does.

A :class:`Lab` hands out boto3 clients bound to the chosen backend, the process's SparkSession, the lake zones,
resource names carrying the lab's prefix, ``prepare(stage)`` to re-create what earlier lessons built, and
``teardown()``. The same notebook runs on both backends:

* ``backend="local"``: moto's server inside this process (``gluelab.localaws``) with gluelab's execution hooks,
  local Spark, fake credentials. Free, offline.
* ``backend="aws"``: a boto3 session from the normal credential chain (environment, profile, SSO, instance role).
  It refuses to start without an explicit ``prefix`` and ``region``, refuses to change anything whose name does
  not carry the prefix (``gluelab.guard``), shows the cost estimate before billable work, and deletes only
  prefixed resources in ``teardown()``.

``dry_run=True`` (either backend): every helper that would create, change, delete or start something (the
``ensure_*`` methods, ``upload``, ``put_bytes``, ``delete_*``, ``prepare``, ``gluelab.jobs``,
``gluelab.workflows``, the lab clock's scheduled starts) prints what it would do, with the cost estimate of
billable work, records it in ``lab.planned`` and does nothing.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import timedelta

import boto3
from botocore.config import Config

from . import clock, cost, guard, jobs, localaws, spark, stages, tagging, workflows
from .naming import BOUNDARY, ZONES, Naming, validate_prefix
from .uris import split_uri

BACKENDS = ("local", "aws")
#: The local backend's account id (moto's default) and the prefix used when a local lab names none.
LOCAL_ACCOUNT_ID = "123456789012"
DEFAULT_LOCAL_PREFIX = "gluelab"
#: Object metadata key holding the MD5 of what the lab uploaded (makes re-uploads of the same bytes no-ops).
MD5_METADATA = "gluelab-md5"
#: AWS's managed policy for Glue's service role.
GLUE_SERVICE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"
#: The roles a lab makes for AWS services to assume: ``service -> (AWS managed policy or None, actions allowed on
#: the lab's own jobs, crawlers, workflows, functions, topics, queues, state machines and parameters)``.
SERVICE_ROLES = {
    "glue": (GLUE_SERVICE_POLICY, ()),
    "lambda": ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
               ("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:StartCrawler", "glue:GetCrawler",
                "glue:StartWorkflowRun", "glue:GetWorkflowRun", "ssm:GetParameter", "sqs:SendMessage",
                "sns:Publish")),
    "states": (None, ("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun",
                      "glue:StartCrawler", "glue:GetCrawler", "lambda:InvokeFunction", "sns:Publish",
                      "sqs:SendMessage")),
    "events": (None, ("lambda:InvokeFunction", "states:StartExecution", "sns:Publish", "sqs:SendMessage",
                      "glue:notifyEvent")),
}


@dataclass(frozen=True)
class Zones:
    """The lake's zones as ``s3://bucket/`` URIs: raw -> processed -> curated, plus temp and scripts."""
    raw: str
    processed: str
    curated: str
    temp: str
    scripts: str

    def __iter__(self):
        return iter(ZONES)

    def bucket(self, zone: str) -> str:
        """The bucket name of a zone (without ``s3://``)."""
        return getattr(self, zone)[len("s3://"):].rstrip("/")

    def uri(self, zone: str, *parts: str) -> str:
        """``s3://<zone bucket>/<parts joined with '/'>``; a trailing ``/`` on the last part is kept, so a
        folder's URI can be extended with ``+ "key=value/"``."""
        parts = [p for p in parts if p]
        folder = "/" if parts and parts[-1].endswith("/") else ""
        return getattr(self, zone) + "/".join(p.strip("/") for p in parts) + folder


def start(backend: str = "local", region: str | None = "us-east-1", prefix: str | None = None, *,
          dry_run: bool = False, profile: str | None = None, endpoint_url: str | None = None,
          master: str | None = None, **_ignored) -> "Lab":
    """Start a lab on ``backend`` ("local" or "aws") and return it.

    local: starts (once per process) the local AWS endpoint; ``prefix`` defaults to ``"gluelab"``.
    aws: needs an explicit ``prefix`` (3-20 lowercase characters) and ``region``; credentials come from boto3's
    normal chain (or ``profile``). ``dry_run=True`` makes the lab's helpers list what they would create, change,
    delete or start (with the cost of billable work) instead of doing it. ``endpoint_url`` (or the environment
    variable ``GLUELAB_AWS_ENDPOINT_URL``) points the aws backend at an AWS stand-in: the tests run lessons on
    the aws code path against a local endpoint this way.
    ``master`` (or the environment variable ``SPARK_MASTER``) selects a Spark cluster or Spark Connect server.
    Extra keyword arguments (e.g. a notebook's ``scale`` or ``seed`` parameters) are accepted and ignored, so a
    notebook can pass its parameters through unchanged.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "local":
        region = region or "us-east-1"
        url = localaws.start(region)
        session = boto3.Session(region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
        return Lab("local", region, validate_prefix(prefix or DEFAULT_LOCAL_PREFIX), session, url,
                   LOCAL_ACCOUNT_ID, dry_run=dry_run, master=master)
    if not region:
        raise ValueError("the aws backend needs an explicit region, e.g. region='eu-west-1'")
    endpoint_url = endpoint_url or os.environ.get("GLUELAB_AWS_ENDPOINT_URL") or None
    validate_prefix(prefix)
    if profile:  # also for child processes, e.g. the S3 data plane's credential helper
        os.environ["AWS_PROFILE"] = profile
    session = boto3.Session(profile_name=profile, region_name=region)
    if session.get_credentials() is None:
        raise RuntimeError("no AWS credentials found: configure them as for the AWS CLI (aws configure, "
                           "AWS_PROFILE, SSO or environment variables), or use backend='local'")
    sts = session.client("sts", endpoint_url=endpoint_url)
    account = sts.get_caller_identity()["Account"]
    lab = Lab("aws", region, prefix, session, endpoint_url, account, dry_run=dry_run, master=master)
    print(f"AWS backend: account {account}, region {region}, prefix {prefix!r}. Only resources named with the "
          f"prefix are created, changed or deleted; run lab.teardown() when done."
          + (" DRY RUN: nothing will be created, changed, deleted or started." if dry_run else ""))
    return lab


class Lab:
    """One lab: a backend, a region, a prefix. Create it with :func:`gluelab.start`."""

    def __init__(self, backend: str, region: str, prefix: str, session: boto3.Session, endpoint_url: str | None,
                 account_id: str, *, dry_run: bool = False, master: str | None = None):
        self.backend = backend
        self.region = region
        self.prefix = prefix
        self.session = session
        self.endpoint_url = endpoint_url
        self.account_id = account_id
        self.dry_run = dry_run
        self.master = master or os.environ.get("SPARK_MASTER")
        self.names = Naming(prefix, account_id, region)
        self.zones = Zones(**{z: f"s3://{self.names.bucket(z)}/" for z in ZONES})
        #: The lab's clock: ``lab.clock.advance(...)`` then ``lab.clock.run_due()`` fires due schedules, so
        #: lessons never sleep.
        self.clock = clock.Clock()
        #: What a dry run would have done, in order (``(action, target)`` pairs).
        self.planned: list[tuple[str, str]] = []
        #: What a dry run would have created, by ``(kind, name)``: the definitions later helpers read (e.g.
        #: ``jobs.run`` prices a job that ``jobs.deploy`` only planned).
        self.planned_resources: dict[tuple[str, str], dict] = {}
        self._clients: dict[str, object] = {}
        if backend == "local" and not dry_run:
            self.clock.add_source(localaws.scheduler.run_due)
        else:  # AWS fires schedules in real time; lab time starts what it says fell due, inside the prefix only
            # (a dry run plans those starts instead, on either backend)
            glue = _PlannedStarts(self, self.client("glue")) if dry_run else self.client("glue")
            self.clock.add_source(clock.crawler_source(glue, self.names.owns))
            self.clock.add_source(clock.trigger_source(glue, self.names.owns))

    def __repr__(self) -> str:
        where = self.endpoint_url or f"AWS account {self.account_id}"
        return f"<Lab backend={self.backend} region={self.region} prefix={self.prefix!r} at {where}>"

    # --- clients and Spark ---------------------------------------------------------------------------------

    def client(self, service: str):
        """A boto3 client for ``service`` bound to this lab's backend (cached per service)."""
        if service not in self._clients:
            cfg = Config(retries={"max_attempts": 3, "mode": "standard"})
            client = self.session.client(service, endpoint_url=self.endpoint_url, config=cfg)
            tagging.install(client, self.prefix)
            if self.backend == "aws":
                guard.install(client, self.names)
            if self.dry_run:  # a notebook's own calls plan too, never change anything
                guard.plan_instead(client, self._plan)
            self._clients[service] = client
        return self._clients[service]

    @property
    def spark(self):
        """The process's SparkSession (created on first use), reading and writing ``s3://`` in this lab's S3.
        On the aws backend Spark writes and deletes only in the lab's own buckets (reads are not limited)."""
        # aws: no keys passed, so the data plane asks boto3's credential chain itself and refreshes them.
        writable = self.prefix + BOUNDARY if self.backend == "aws" else None
        return spark.session(endpoint_url=self.endpoint_url, region=self.region, master=self.master,
                             writable=writable)

    # --- provisioning (dry-run aware) ----------------------------------------------------------------------

    def _plan(self, action: str, target: str, estimate: object = None) -> bool:
        """Record ``action`` on ``target``; True when it should really happen (not a dry run).

        Every helper that creates, changes, deletes or starts something asks this first. ``estimate`` (a
        :class:`gluelab.cost.Estimate`, or a line of text) is what billable work may cost: a dry run prints it
        under the plan, and the aws backend prints it before the work starts.
        """
        if self.dry_run:
            self.planned.append((action, target))
            print(f"[dry run] would {action} {target}")
            if estimate is not None:
                print(f"  estimated cost: {estimate}")
            return False
        if estimate is not None and self.backend == "aws":
            print(f"{action} {target}: estimated cost {estimate}")
        return True

    def ensure_zones(self) -> Zones:
        """Create the zone buckets that do not exist yet (idempotent) and return :attr:`zones`."""
        s3 = self.client("s3")
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for zone in ZONES:
            bucket = self.zones.bucket(zone)
            if bucket in existing or not self._plan("create bucket", bucket):
                continue
            kwargs = {"Bucket": bucket}
            if self.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            s3.create_bucket(**kwargs)
        return self.zones

    def ensure_glue_role(self) -> str:
        """The ARN of the lab's IAM role for Glue (``<prefix>--glue-role``), created if missing (idempotent).

        Glue assumes this role to run crawlers and jobs: it trusts glue.amazonaws.com, has AWS's managed
        AWSGlueServiceRole policy and may read and write the lab's zone buckets (and nothing else in S3).
        """
        return self.ensure_role("glue")

    def ensure_role(self, service: str) -> str:
        """The ARN of the lab's IAM role that ``service`` assumes (``<prefix>--<service>-role``), created if
        missing (idempotent). ``service`` is one of :data:`SERVICE_ROLES`: ``"glue"`` (crawlers and jobs),
        ``"lambda"`` (functions: logs, the lab's buckets, starting the lab's Glue jobs, crawlers and workflows),
        ``"states"`` (state machines: the lab's Glue jobs and crawlers, its functions, topics and queues) or
        ``"events"`` (EventBridge rules delivering to the lab's targets).

        Each role trusts only its service, gets AWS's managed policy for it where AWS has one, and an inline
        policy that reaches only resources named with the lab's prefix.
        """
        import json

        if service not in SERVICE_ROLES:
            raise ValueError(f"no lab role for {service!r}; there are roles for: {', '.join(SERVICE_ROLES)}")
        managed, actions = SERVICE_ROLES[service]
        iam = self.client("iam")
        name = self.names.resource(f"{service}-role")
        arn = f"arn:aws:iam::{self.account_id}:role/{name}"
        try:
            return iam.get_role(RoleName=name)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            pass
        if not self._plan("create IAM role", name):
            return arn
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": f"{service}.amazonaws.com"}}]}
        buckets = [f"arn:aws:s3:::{self.zones.bucket(z)}" for z in ZONES]
        statements = [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                                     "s3:ListBucket", "s3:GetBucketLocation"],
                       "Resource": buckets + [b + "/*" for b in buckets]}]
        if actions:
            own = f"{self.prefix}{BOUNDARY}*"
            statements.append({"Effect": "Allow", "Action": list(actions), "Resource": [
                f"arn:aws:{kind}:{self.region}:{self.account_id}:{what}{own}"
                for kind, what in (("glue", "job/"), ("glue", "crawler/"), ("glue", "workflow/"),
                                   ("lambda", "function:"), ("sns", ""), ("sqs", ""), ("states", "stateMachine:"),
                                   ("states", "execution:"), ("ssm", "parameter/"))]})
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                              Description=f"{service} service role of the gluelab lab {self.prefix}")["Role"]["Arn"]
        if managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=managed)
        iam.put_role_policy(RoleName=name, PolicyName=self.names.resource("lab-access"),
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
        return arn

    def upload(self, local_path: str | os.PathLike, uri: str) -> str:
        """Upload a local file to ``uri`` (``s3://bucket/key``) unless the same bytes are already there.

        The file is streamed (multipart when large), never read into memory whole; its MD5 is stored as object
        metadata so a second upload of the same bytes is skipped even when the ETag is a multipart one.
        """
        md5 = hashlib.md5()
        size = 0
        with open(local_path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                md5.update(block)
                size += len(block)
        bucket, key = split_uri(uri)
        if self._same_content(bucket, key, md5.hexdigest()):
            return uri
        if self._plan("upload", f"{uri} ({size:,} bytes)"):
            self.client("s3").upload_file(str(local_path), bucket, key,
                                          ExtraArgs={"Metadata": {MD5_METADATA: md5.hexdigest()}})
        return uri

    def put_bytes(self, uri: str, data: bytes) -> str:
        """Write ``data`` to ``uri`` unless an object with the same content is already there (idempotent)."""
        bucket, key = split_uri(uri)
        md5 = hashlib.md5(data).hexdigest()
        if self._same_content(bucket, key, md5):
            return uri
        if self._plan("upload", f"{uri} ({len(data):,} bytes)"):
            self.client("s3").put_object(Bucket=bucket, Key=key, Body=data, Metadata={MD5_METADATA: md5})
        return uri

    def delete_prefix(self, uri: str) -> int:
        """Delete every object under ``uri`` (``s3://bucket/folder/``) and return how many there were.

        Why: a lesson that writes output re-runs from a clean slate (jobs append, as Glue does). Only a folder
        in one of the lab's own buckets can be emptied, so a typo cannot reach anything else.
        """
        bucket, key = split_uri(uri)
        if not self.names.owns(bucket):
            raise ValueError(f"{uri} is not in one of this lab's buckets (prefix {self.prefix!r})")
        if not key.endswith("/"):
            raise ValueError(f"delete_prefix takes a folder URI ending in '/', got {uri}")
        s3 = self.client("s3")
        deleted = 0
        try:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys and self._plan("delete", f"{len(keys)} object(s) under {uri}"):
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
        except s3.exceptions.NoSuchBucket:
            if not self.dry_run:  # a dry run's buckets may exist only in its plan: they would be empty
                raise
        return deleted

    def delete_object(self, uri: str) -> bool:
        """Delete the object at ``uri`` if it is there; True when it was (or, in a dry run, would be)."""
        bucket, key = split_uri(uri)
        s3 = self.client("s3")
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
                return False
            raise
        if self._plan("delete", uri):
            s3.delete_object(Bucket=bucket, Key=key)
        return True

    def pass_time(self, seconds: float) -> list[str]:
        """Let ``seconds`` pass for what the lab's services do on their own time (a queue's visibility timeout,
        a batching window, a schedule): on the local backend the lab clock moves and fires what fell due, at
        once; on AWS that time is real, so this waits it out. Returns what the clock started."""
        if self.backend == "aws" and not self.dry_run:
            time.sleep(seconds)
        self.clock.advance(timedelta(seconds=seconds))
        return self.clock.run_due()

    def ensure_database(self, name: str) -> str:
        """Create the Glue database ``name`` (a full name, e.g. ``lab.names.database("retail")``) unless it
        exists; returns the name."""
        glue = self.client("glue")
        try:
            glue.get_database(Name=name)
            return name
        except glue.exceptions.EntityNotFoundException:
            pass
        if self._plan("create Glue database", name):
            try:
                glue.create_database(DatabaseInput={"Name": name})
            except glue.exceptions.AlreadyExistsException:  # made meanwhile by another notebook
                pass
        return name

    def _same_content(self, bucket: str, key: str, md5: str) -> bool:
        s3 = self.client("s3")
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return md5 in (head.get("Metadata", {}).get(MD5_METADATA), head["ETag"].strip('"'))

    def prepare(self, stage: str, *, scale: float = 1.0, seed: int = 42) -> None:
        """Re-create, idempotently, what the lessons up to ``stage`` built (see ``gluelab.stages``), with
        generated data at ``scale`` from ``seed`` (pass the notebook's parameters)."""
        stages.prepare(self, stage, scale=scale, seed=seed)

    # --- teardown -------------------------------------------------------------------------------------------

    def teardown(self) -> "Teardown":
        """Delete every resource this lab made, and nothing else, and print what happened.

        Each service of :func:`gluelab.localaws.services` says what it owns (buckets with their objects, Glue
        databases, jobs, crawlers, triggers, workflows, registries, queues, topics, IAM roles, ...). A resource
        is deleted when its name carries the lab's prefix and boundary (``<prefix>--``, ``<prefix>__``) and,
        where the kind takes tags, its ``gluelab:lab`` tag names this lab. A running crawler is stopped first.
        One failure is reported and the rest go on; running teardown again deletes what is left. Returns the
        deleted resources (``"job team--etl"``, ...), with ``.kept`` and ``.failed`` for the others.
        """
        report = Teardown()
        for service in localaws.services():
            client = self.client(service.client)
            for owned in service.owned:
                try:
                    idents = list(owned.names(client))
                except Exception as exc:  # e.g. no permission to list: say so, go on with the other kinds
                    report.fail(f"{owned.kind}s", f"could not list them: {_reason(exc)}")
                    continue
                for ident in idents:
                    name = owned.name_of(ident)
                    if self.names.owns(name):
                        self._tear_down(client, owned, ident, name, report)
        report.summarise(self.prefix, self.dry_run)
        return report

    def _tear_down(self, client, owned, ident: str, name: str, report: "Teardown") -> None:
        what = f"{owned.kind} {name}"
        try:
            if owned.tags is not None:
                made_by = tagging.lab_of(owned.tags(client, ident, self.account_id))
                if made_by != self.prefix:
                    report.keep(what, f"its {tagging.TAG_KEY} tag is {made_by!r}, not {self.prefix!r}"
                                if made_by else f"it has no {tagging.TAG_KEY} tag, so this lab did not make it")
                    return
            if not self._plan(f"delete {owned.kind}", name):
                return
            owned.delete(client, ident)
        except Exception as exc:
            if _gone(exc):  # deleted meanwhile (or by an earlier, interrupted teardown): nothing left to do
                return
            report.fail(what, _reason(exc))
            return
        report.append(what)
        print(f"deleted {what}")


class Teardown(list):
    """What ``Lab.teardown()`` deleted (the list), kept (``.kept``: named like the lab's, not tagged as its own)
    and could not delete (``.failed``), each with the reason."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[tuple[str, str]] = []
        self.failed: list[tuple[str, str]] = []

    def keep(self, what: str, why: str) -> None:
        self.kept.append((what, why))
        print(f"kept {what}: {why}")

    def fail(self, what: str, why: str) -> None:
        self.failed.append((what, why))
        print(f"could not delete {what}: {why}")

    def summarise(self, prefix: str, dry_run: bool) -> None:
        if dry_run:
            return
        if not self and not self.failed:
            print(f"nothing to delete for prefix {prefix!r}")
        elif self.failed:
            print(f"teardown: {len(self)} deleted, {len(self.failed)} could not be deleted (see above); run "
                  f"lab.teardown() again once the cause is fixed")


def _reason(exc: Exception) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return f"{error.get('Code')}: {error.get('Message')}" if error else f"{type(exc).__name__}: {exc}"


def _gone(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("EntityNotFoundException", "NoSuchBucket", "NoSuchEntity", "ResourceNotFoundException",
                    "AWS.SimpleQueueService.NonExistentQueue", "NotFound", "404")


class _PlannedStarts:
    """A dry-run lab's Glue client for its clock: what the clock would start (crawls, job runs, workflow runs)
    is planned with its cost estimate instead of started; every other call goes to ``glue``."""

    def __init__(self, lab: Lab, glue):
        self._lab, self._glue = lab, glue

    def __getattr__(self, name: str):
        return getattr(self._glue, name)

    def start_crawler(self, Name: str, **_):
        self._lab._plan("start a crawl of", f"crawler {Name}", cost.crawler_estimate(Name))
        return {}

    def start_job_run(self, JobName: str, **_):
        self._lab._plan("start a run of", f"job {JobName}", jobs.estimate(self._lab, JobName))
        return {"JobRunId": None}

    def start_workflow_run(self, Name: str, **_):
        self._lab._plan("start a run of", f"workflow {Name}", "\n" + workflows.estimate(self._lab, Name))
        return {"RunId": None}
