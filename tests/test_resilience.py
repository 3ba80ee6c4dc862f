"""Error-handling patterns: retry with backoff on the lab's clock, circuit breaker, error classes and their
policies, the SQS dead-letter queue (on the local endpoint), compensating steps, checkpoints, fallback."""
import json
import random
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoRegionError

from gluelab.clock import Clock
from gluelab.resilience import (CLASSIFIER, POLICIES, BusinessLogicError, Checkpoint, CircuitBreaker,
                                CircuitOpenError, Classifier, ConfigurationError, DataQualityError,
                                DeadLetterQueue, ErrorClass, MemoryStore, RetriesExhausted, Retry, S3Store,
                                Saga, SagaFailed, Step, classify, create_queue_with_dlq, decide, fallback,
                                is_transient, retry)

START = datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def no_real_sleep(monkeypatch):
    """Fail the test if this thread calls time.sleep (the local endpoint's threads may sleep as they like)."""
    main = threading.get_ident()
    calls = []
    real_sleep = time.sleep

    def sleep(seconds):
        if threading.get_ident() == main:
            calls.append(seconds)
            raise AssertionError(f"time.sleep({seconds}) called: waits must pass on the lab's clock")
        real_sleep(seconds)
    monkeypatch.setattr(time, "sleep", sleep)
    return calls


def client_error(code, status=400, operation="GetObject"):
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def failing(errors):
    """A function that raises the given errors in turn, then returns "ok"; ``calls`` counts its calls."""
    errors = list(errors)

    def fn(*args, **kwargs):
        fn.calls.append((args, kwargs))
        if errors:
            raise errors.pop(0)
        return "ok"
    fn.calls = []
    return fn


# --- retry -------------------------------------------------------------------------------------------------

def test_backoff_waits_are_exponential_capped_plus_seeded_jitter_and_pass_on_the_clock(clock, no_real_sleep):
    fn = failing([TimeoutError(f"timeout {i}") for i in range(10)])
    policy = Retry(attempts=5, initial_delay=2, multiplier=3, max_delay=30, jitter=1.5, seed=42,
                   retry_on=TimeoutError, clock=clock)
    with pytest.raises(RetriesExhausted):
        policy.call(fn)
    rng = random.Random(42)
    expected = [base + rng.uniform(0, 1.5) for base in (2, 6, 18, 30)]
    assert policy.waits == pytest.approx(expected)
    assert len(fn.calls) == 5
    assert clock.now() - START == timedelta(seconds=sum(policy.waits))
    starts = [START + timedelta(seconds=sum(expected[:i])) for i in range(5)]
    assert [a.at for a in policy.history] == starts
    assert [a.wait for a in policy.history][-1] is None
    assert no_real_sleep == []


def test_the_same_seed_gives_the_same_waits_and_another_seed_other_waits(clock):
    def waits(seed):
        policy = Retry(attempts=4, initial_delay=1, jitter=1, seed=seed, clock=clock)
        with pytest.raises(RetriesExhausted):
            policy.call(failing([OSError("x")] * 4))
        return policy.waits
    assert waits(7) == waits(7)
    assert waits(7) != waits(8)
    policy = Retry(attempts=4, initial_delay=1, clock=clock)           # no jitter: the plain backoff
    with pytest.raises(RetriesExhausted):
        policy.call(failing([OSError("x")] * 4))
    assert policy.waits == [1, 2, 4]


def test_a_source_timeout_is_retried_3_times_5_min_apart_then_the_cache_is_used(clock, no_real_sleep):
    errors = [TimeoutError(f"source database connection timed out (try {i})") for i in range(1, 5)]
    extract = failing(errors)
    policy = retry(attempts=4, initial_delay=300, multiplier=1, retry_on=is_transient, clock=clock)
    with pytest.raises(RetriesExhausted) as caught:
        policy.call(extract)
    error = caught.value
    assert error.attempts == 4 and error.__cause__ is errors[3] and error.last_error is errors[3]
    text = str(error)
    assert "failed all 4 attempts (waited 15 min in all)" in text
    assert "last error TimeoutError: source database connection timed out (try 4)" in text
    assert "attempt 1 at 02:00:00 failed (TimeoutError: source database connection timed out (try 1)); " \
           "waited 5 min" in text
    assert "attempt 4 at 02:15:00 failed" in text and "no attempts left" in text
    assert [a.outcome for a in policy.history] == ["retried", "retried", "retried", "exhausted"]
    assert policy.waits == [300, 300, 300] and clock.now() == START + timedelta(minutes=15)
    assert classify(error) is ErrorClass.SYSTEM                 # retries did not help: escalate

    notices = []
    result = fallback(lambda: policy.call(failing([TimeoutError("down")] * 4)),
                      lambda: "2024-02-29 cache", on=RetriesExhausted, notify=notices.append)
    assert (result.value, result.path, result.degraded) == ("2024-02-29 cache", "fallback", True)
    assert notices == [result.error] and isinstance(result.error, RetriesExhausted)
    assert clock.now() == START + timedelta(minutes=30)       # the second run waited 15 lab minutes too
    assert no_real_sleep == []


def test_a_call_that_recovers_returns_its_result_and_records_each_attempt(clock):
    fn = failing([client_error("ThrottlingException"), ConnectionError("reset")])
    policy = Retry(attempts=5, initial_delay=10, retry_on=is_transient, clock=clock)
    assert policy.call(fn, "a", key=1) == "ok"
    assert fn.calls == [(("a",), {"key": 1})] * 3
    assert [(a.number, a.outcome, a.wait) for a in policy.history] == [
        (1, "retried", 10), (2, "retried", 20), (3, "succeeded", None)]
    assert policy.report().splitlines()[2] == "attempt 3 at 02:00:30 succeeded"


def test_an_error_retry_on_rejects_is_raised_at_once_without_waiting(clock):
    bad = DataQualityError("column id is null in 3 rows")
    fn = failing([bad])
    policy = Retry(attempts=4, initial_delay=60, retry_on=is_transient, clock=clock)
    with pytest.raises(DataQualityError) as caught:
        policy.call(fn)
    assert caught.value is bad and len(fn.calls) == 1 and clock.now() == START
    assert [a.outcome for a in policy.history] == ["not retryable"]
    predicate = Retry(attempts=3, retry_on=lambda e: "retry me" in str(e), clock=clock)
    with pytest.raises(ValueError, match="no"):
        predicate.call(failing([ValueError("retry me"), ValueError("no")]))
    assert len(predicate.history) == 2


def test_retry_works_as_a_bare_decorator_a_configured_one_and_a_wrapper(clock):
    @retry
    def plain(x):
        return x * 2
    assert plain(21) == 42 and plain.__name__ == "plain" and len(plain.retry.history) == 1

    @retry(attempts=3, initial_delay=5, clock=clock)
    def flaky(fn):
        return fn()
    assert flaky(failing([OSError("once")])) == "ok" and flaky.retry.waits == [5]

    wrapped = retry(failing([OSError("1"), OSError("2"), OSError("3")]), attempts=2, clock=clock)
    with pytest.raises(RetriesExhausted, match="failed all 2 attempts"):
        wrapped()


@pytest.mark.parametrize("options, error", [
    ({"attempts": 0}, ValueError), ({"attempts": 2.5}, ValueError), ({"multiplier": 0.5}, ValueError),
    ({"initial_delay": -1}, ValueError), ({"jitter": "lots"}, TypeError),
    ({"retry_on": "TimeoutError"}, TypeError),
    ({"clock": object()}, TypeError), ({"seed": "x"}, TypeError)])
def test_bad_retry_options_are_clear_errors(options, error):
    with pytest.raises(error):
        Retry(**options)


# --- circuit breaker ---------------------------------------------------------------------------------------

def test_breaker_opens_fails_fast_half_opens_after_the_timeout_and_closes_on_success(clock):
    breaker = CircuitBreaker("source-db", failure_threshold=3, reset_timeout=60, clock=clock)
    fn = failing([ConnectionError(f"refused {i}") for i in range(4)])
    for _ in range(3):
        with pytest.raises(ConnectionError):
            breaker.call(fn)
    assert breaker.state == "OPEN" and len(fn.calls) == 3
    with pytest.raises(CircuitOpenError) as caught:
        breaker.call(fn)
    assert len(fn.calls) == 3                                   # failed fast: the function was not called
    assert caught.value.retry_at == START + timedelta(seconds=60)
    assert "circuit 'source-db' is OPEN since 02:00:00 after 3 consecutive failures" in str(caught.value)

    clock.advance(timedelta(seconds=59))
    assert breaker.state == "OPEN"
    clock.advance(timedelta(seconds=1))
    assert breaker.state == "HALF_OPEN"
    with pytest.raises(ConnectionError, match="refused 3"):     # the trial fails: open again
        breaker.call(fn)
    assert breaker.state == "OPEN" and breaker.opened_at == START + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    assert breaker.call(fn) == "ok" and breaker.state == "CLOSED" and breaker.failures == 0
    assert [(t.at - START, t.source, t.target) for t in breaker.transitions] == [
        (timedelta(0), "CLOSED", "OPEN"), (timedelta(seconds=60), "OPEN", "HALF_OPEN"),
        (timedelta(seconds=60), "HALF_OPEN", "OPEN"), (timedelta(seconds=120), "OPEN", "HALF_OPEN"),
        (timedelta(seconds=120), "HALF_OPEN", "CLOSED")]
    assert "3 consecutive failures (last: ConnectionError: refused 2)" in breaker.report()


def test_only_consecutive_counted_failures_open_the_breaker(clock):
    breaker = CircuitBreaker(failure_threshold=2, failure_on=ConnectionError, clock=clock)
    guarded = breaker(failing([ConnectionError("down")]))
    with pytest.raises(ConnectionError):
        guarded()
    assert guarded() == "ok" and breaker.failures == 0          # a success resets the count
    for error in (KeyError("a bug, not the dependency"), ConnectionError("down")):
        with pytest.raises(type(error)):
            breaker.call(failing([error]))
    assert breaker.state == "CLOSED" and breaker.failures == 1
    with pytest.raises(ConnectionError):
        breaker.call(failing([ConnectionError("down again")]))
    assert breaker.state == "OPEN"
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(TypeError):
        CircuitBreaker(failure_on="ConnectionError")


def test_retry_waits_out_an_open_breaker_on_the_clock(clock):
    breaker = CircuitBreaker("api", failure_threshold=2, reset_timeout=60, clock=clock)
    dependency = failing([ConnectionError("down"), ConnectionError("down")])
    policy = Retry(attempts=5, initial_delay=20, retry_on=is_transient, clock=clock)
    assert policy.call(breaker.call, dependency) == "ok"
    # 0 s fails, 20 s fails (opens), 60 s refused by the open breaker, 140 s trial succeeds
    assert [type(a.error).__name__ if a.error else "ok" for a in policy.history] == [
        "ConnectionError", "ConnectionError", "CircuitOpenError", "ok"]
    assert len(dependency.calls) == 3 and clock.now() == START + timedelta(seconds=140)
    assert [(t.target, t.at - START) for t in breaker.transitions] == [
        ("OPEN", timedelta(seconds=20)), ("HALF_OPEN", timedelta(seconds=80)),
        ("CLOSED", timedelta(seconds=140))]


# --- error classes ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("error, expected", [
    (client_error("ThrottlingException"), ErrorClass.TRANSIENT),
    (client_error("ServiceUnavailable", 503), ErrorClass.TRANSIENT),
    (client_error("RequestTimeout"), ErrorClass.TRANSIENT),
    (client_error("SomethingNew", 502), ErrorClass.TRANSIENT),
    (ConnectionError("reset by peer"), ErrorClass.TRANSIENT),
    (TimeoutError("source database connection timed out"), ErrorClass.TRANSIENT),
    (EndpointConnectionError(endpoint_url="https://glue.example"), ErrorClass.TRANSIENT),
    (DataQualityError("3 rows break the schema"), ErrorClass.DATA_QUALITY),
    (json.JSONDecodeError("Expecting value", "{", 1), ErrorClass.DATA_QUALITY),
    (MemoryError(), ErrorClass.SYSTEM),
    (ConfigurationError("--source_table is missing"), ErrorClass.SYSTEM),
    (NoRegionError(), ErrorClass.SYSTEM),
    (client_error("AccessDeniedException"), ErrorClass.SYSTEM),
    (KeyError("nobody classified this"), ErrorClass.SYSTEM),
    (BusinessLogicError("revenue does not reconcile with orders"), ErrorClass.BUSINESS_LOGIC),
    (ZeroDivisionError("division by zero"), ErrorClass.BUSINESS_LOGIC),
])
def test_classify_maps_common_errors_to_the_four_classes(error, expected):
    assert classify(error) is expected
    assert is_transient(error) is (expected is ErrorClass.TRANSIENT)


def test_each_class_has_the_patterns_policy():
    actions = {c: (p.action, p.retry, p.continue_processing) for c, p in POLICIES.items()}
    assert actions == {
        ErrorClass.TRANSIENT: ("retry with backoff", True, True),
        ErrorClass.DATA_QUALITY: ("quarantine and continue", False, True),
        ErrorClass.SYSTEM: ("escalate and stop", False, False),
        ErrorClass.BUSINESS_LOGIC: ("stop and require approval", False, False)}
    decision = decide(DataQualityError("bad rows", records=[{"id": None}]))
    assert decision.error_class is ErrorClass.DATA_QUALITY
    assert "Quarantine invalid records for review" in decision.policy.responses
    assert decision.error.records == [{"id": None}]
    assert str(decide(BusinessLogicError("totals off"))).startswith(
        "BusinessLogicError: totals off -> business logic error: stop and require approval")


def test_a_classifier_can_be_taught_new_types_and_codes_without_touching_the_default(lab):
    class StaleCacheError(TimeoutError):
        pass
    classifier = Classifier().add(StaleCacheError, ErrorClass.DATA_QUALITY)
    assert classifier.classify(StaleCacheError()) is ErrorClass.DATA_QUALITY    # the most specific type wins
    assert classifier.classify(TimeoutError()) is ErrorClass.TRANSIENT
    sqs = lab.client("sqs")
    with pytest.raises(ClientError) as caught:                  # a real error from the local endpoint
        sqs.get_queue_url(QueueName=lab.names.resource(f"missing-{uuid.uuid4().hex[:8]}"))
    assert classifier.classify(caught.value) is ErrorClass.SYSTEM
    classifier.add("AWS.SimpleQueueService.NonExistentQueue", ErrorClass.TRANSIENT)   # by the AWS error code
    assert classifier.classify(caught.value) is ErrorClass.TRANSIENT
    by_type = Classifier().add(sqs.exceptions.QueueDoesNotExist, ErrorClass.BUSINESS_LOGIC)   # boto3's class
    assert by_type.classify(caught.value) is ErrorClass.BUSINESS_LOGIC
    assert classify(caught.value) is ErrorClass.SYSTEM and StaleCacheError not in CLASSIFIER.types
    with pytest.raises(TypeError):
        classifier.add(42, ErrorClass.SYSTEM)
    with pytest.raises(TypeError):
        classifier.add(KeyError, "transient")
    with pytest.raises(TypeError):
        classify("not an exception")


# --- dead-letter queue --------------------------------------------------------------------------------------

@pytest.fixture
def queues(lab):
    sqs, made = lab.client("sqs"), []

    def make(base):
        url = sqs.create_queue(QueueName=lab.names.resource(f"{base}-{uuid.uuid4().hex[:8]}"))["QueueUrl"]
        made.append(url)
        return url
    yield make
    for url in made:
        sqs.delete_queue(QueueUrl=url)


def test_dead_letters_round_trip_and_redrive_accounts_for_every_record(lab, queues, clock):
    sqs = lab.client("sqs")
    dlq = DeadLetterQueue(sqs, queues("resilience-dlq"), clock=clock)
    records = [{"id": i, "email": f"user{i}@example.com", "tags": ["a", i]} for i in range(1, 6)]
    for record in records:
        dlq.send(record, "email failed validation", "customers-etl", error=ValueError(f"bad {record['id']}"))
    letters = dlq.drain()
    assert sorted((x.record["id"], x.reason, x.source, x.error, x.failed_at) for x in letters) == [
        (r["id"], "email failed validation", "customers-etl", f"ValueError: bad {r['id']}", START.isoformat())
        for r in records]
    assert sorted(json.loads(x.body)["record"]["id"] for x in letters) == [1, 2, 3, 4, 5]
    assert len(dlq.drain()) == 5 and dlq.count() == 5            # reviewing deletes nothing
    message = sqs.receive_message(QueueUrl=dlq.queue_url, MessageAttributeNames=["All"],
                                  VisibilityTimeout=0)["Messages"][0]
    assert {k: v["StringValue"] for k, v in message["MessageAttributes"].items()} == {
        "Reason": "email failed validation", "Source": "customers-etl", "ErrorType": "ValueError"}

    seen = []

    def reprocess(record):
        seen.append(record)
        if record["id"] % 2 == 0:
            raise ValueError(f"still bad: {record['id']}")
    report = dlq.redrive(reprocess)
    assert sorted(r["id"] for r in seen) == [1, 2, 3, 4, 5]
    assert sorted(x.record["id"] for x in report.processed) == [1, 3, 5]
    assert sorted(x.record["id"] for x, _ in report.kept) == [2, 4] and report.total == 5
    assert dlq.count() == 2 and sorted(x.record["id"] for x in dlq.drain()) == [2, 4]
    assert "5 letters, 3 reprocessed and deleted, 2 kept in the dead-letter queue" in str(report)
    assert "ValueError: still bad: 2" in str(report)
    assert len(dlq.redrive(lambda record: None).processed) == 2 and dlq.count() == 0


def test_a_dead_letter_must_be_json_with_a_reason_and_a_source(lab, queues):
    dlq = DeadLetterQueue(lab.client("sqs"), queues("resilience-bad"))
    with pytest.raises(TypeError, match="JSON data"):
        dlq.send({"when": datetime(2024, 1, 1)}, "late", "orders")
    with pytest.raises(ValueError, match="reason"):
        dlq.send({"id": 1}, "", "orders")
    with pytest.raises(ValueError, match="max_messages"):
        dlq.receive(11)
    assert dlq.count() == 0


def test_the_redrive_policy_moves_a_message_after_max_receive_count_receives(lab):
    sqs = lab.client("sqs")
    base = lab.names.resource(f"resilience-src-{uuid.uuid4().hex[:8]}")
    url, dlq_url = create_queue_with_dlq(sqs, base, max_receive_count=2)
    try:
        policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
                            ["Attributes"]["RedrivePolicy"])
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url,
                                           AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        assert policy["deadLetterTargetArn"] == dlq_arn and int(policy["maxReceiveCount"]) == 2
        assert dlq_url.endswith(f"{base}-dlq")
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"order": 7}))
        for _ in range(2):                                      # received twice, never deleted
            assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])) == 1
        assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", []) == []
        letters = DeadLetterQueue(sqs, dlq_url).drain()
        assert [(x.record, x.reason, x.source) for x in letters] == [({"order": 7}, None, None)]
    finally:
        for u in (url, dlq_url):
            sqs.delete_queue(QueueUrl=u)
    with pytest.raises(ValueError, match="1 to 1000"):
        create_queue_with_dlq(sqs, base, max_receive_count=0)
    with pytest.raises(ValueError, match="FIFO"):
        create_queue_with_dlq(sqs, base + ".fifo")


# --- compensating steps -------------------------------------------------------------------------------------

def test_a_failed_step_compensates_the_completed_ones_in_reverse_order(clock):
    undone = []

    def boom():
        raise BusinessLogicError("totals do not reconcile")
    saga = Saga([Step("extract", lambda: "raw/day.csv", lambda result: undone.append(("extract", result))),
                 ("validate", lambda: None, None),
                 ("write", lambda: ["curated/a.parquet"], lambda result: undone.append(("write", result))),
                 ("publish", boom, lambda result: undone.append(("publish", result))),
                 ("notify", lambda: pytest.fail("a step after the failure ran"), None)], clock=clock)
    with pytest.raises(SagaFailed) as caught:
        saga.run()
    error = caught.value
    assert undone == [("write", ["curated/a.parquet"]), ("extract", "raw/day.csv")]
    assert error.failed_step == "publish" and error.compensated == ["write", "extract"]
    assert isinstance(error.__cause__, BusinessLogicError)
    assert str(error) == ("step 'publish' failed (BusinessLogicError: totals do not reconcile); "
                          "compensated: write, extract")
    assert [(e.step, e.what) for e in saga.log] == [
        ("extract", "done"), ("validate", "done"), ("write", "done"), ("publish", "failed"),
        ("write", "compensated"), ("extract", "compensated")]


def test_a_failing_compensation_is_reported_and_the_others_still_run():
    undone = []

    def cannot_undo(result):
        raise PermissionError("bucket is locked")
    saga = Saga([("a", lambda: 1, lambda r: undone.append("a")), ("b", lambda: 2, cannot_undo),
                 ("c", lambda: 1 / 0, None)])
    with pytest.raises(SagaFailed) as caught:
        saga.run()
    assert undone == ["a"] and caught.value.compensated == ["a"]
    assert list(caught.value.compensation_errors) == ["b"]
    assert "compensation FAILED for b (PermissionError: bucket is locked): roll these back by hand" \
           in str(caught.value)
    assert Saga([("a", lambda: 1, None), ("b", lambda: 2, None)]).run() == {"a": 1, "b": 2}
    with pytest.raises(ValueError, match="repeated: a"):
        Saga([("a", lambda: 1, None), ("a", lambda: 2, None)])


# --- checkpoint and resume ----------------------------------------------------------------------------------

def test_a_rerun_resumes_after_the_last_completed_step_from_s3(lab, clock):
    s3, bucket = lab.client("s3"), lab.zones.bucket("temp")
    key = f"checkpoints/test-{uuid.uuid4().hex[:8]}.json"
    calls = []

    def step(name, fail=False):
        def fn():
            calls.append(name)
            if fail:
                raise ConnectionError(f"{name} lost the connection")
            return {"rows": len(name)}
        return fn

    def pipeline(checkpoint, fail_load):
        checkpoint.run("extract", step("extract"))
        checkpoint.run("transform", step("transform"))
        return checkpoint.run("load", step("load", fail_load))
    try:
        first = Checkpoint(S3Store(s3, bucket), key, clock=clock)
        with pytest.raises(ConnectionError):
            pipeline(first, fail_load=True)
        document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert document["completed"] == ["extract", "transform"]
        assert document["results"] == {"extract": {"rows": 7}, "transform": {"rows": 9}}
        assert document["updated_at"] == START.isoformat()

        rerun = Checkpoint(S3Store(s3, bucket), key, clock=clock)
        assert pipeline(rerun, fail_load=False) == {"rows": 4}
        assert calls == ["extract", "transform", "load", "load"]      # the rerun repeats only the failed step
        assert (rerun.skipped, rerun.ran) == (["extract", "transform"], ["load"])
        assert rerun.result("transform") == {"rows": 9}

        again = Checkpoint(S3Store(s3, bucket), key)
        pipeline(again, fail_load=True)                               # all done: nothing runs, nothing fails
        again.mark("load", {"rows": 999})                             # marking twice changes nothing
        assert len(calls) == 4 and again.completed == ["extract", "transform", "load"]
        assert again.result("load") == {"rows": 4}
        again.reset()
        assert again.completed == [] and S3Store(s3, bucket).get(key) is None
    finally:
        s3.delete_object(Bucket=bucket, Key=key)


def test_checkpoint_rejects_what_it_cannot_store_or_read():
    store = MemoryStore()
    checkpoint = Checkpoint(store, "run.json")
    with pytest.raises(TypeError, match="not JSON data"):
        checkpoint.run("extract", lambda: {1, 2})
    assert checkpoint.completed == []                               # not recorded: a rerun repeats it
    with pytest.raises(KeyError, match="has not completed"):
        checkpoint.result("extract")
    store.put("run.json", "[1, 2]")
    with pytest.raises(ValueError, match="not a checkpoint document"):
        checkpoint.completed
    with pytest.raises(TypeError, match="get"):
        Checkpoint(object(), "run.json")


# --- fallback -----------------------------------------------------------------------------------------------

def test_fallback_runs_only_when_the_primary_fails_with_an_accepted_error():
    notices = []
    ok = fallback(lambda: "today", lambda: "yesterday", notify=notices.append)
    assert (ok.value, ok.path, ok.error, notices) == ("today", "primary", None, [])
    with pytest.raises(BusinessLogicError):
        fallback(failing([BusinessLogicError("wrong totals")]), lambda: "yesterday", on=is_transient)

    def cache_missing():
        raise FileNotFoundError("no cached data for yesterday")
    with pytest.raises(FileNotFoundError) as caught:
        fallback(failing([TimeoutError("source down")]), cache_missing)
    assert isinstance(caught.value.__context__, TimeoutError)          # the double failure shows both errors
