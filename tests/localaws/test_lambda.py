"""Lambda handlers run without Docker: plain boto3 against the local endpoint, answers and logs as AWS gives them."""
import base64
import io
import json
import threading
import time
import zipfile

import boto3
import pytest

from gluelab import functions
from gluelab.localaws import awslambda

ROLE = "arn:aws:iam::123456789012:role/lambda-test"
APP = '''
import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)
CALLS = 0                                   # module state: kept while the environment stays warm


def lambda_handler(event, context):
    global CALLS
    CALLS += 1
    print("event", event)
    logger.info("handled %s", event.get("n"))
    if event.get("fail"):
        raise ValueError("bad input: " + str(event["fail"]))
    return {"calls": CALLS, "setting": os.environ.get("SETTING"), "function": context.function_name,
            "arn": context.invoked_function_arn, "memory": context.memory_limit_in_mb,
            "request": context.aws_request_id, "left_ms": context.get_remaining_time_in_millis(),
            "group": context.log_group_name, "region": os.environ["AWS_REGION"], "tz": os.environ["TZ"]}
'''


def zipped(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def aws(endpoint):
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "lambda.amazonaws.com"}}]}
    try:
        iam.create_role(RoleName="lambda-test", AssumeRolePolicyDocument=json.dumps(trust))
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    return boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def function(aws):
    made = []

    def make(name, files, handler="app.lambda_handler", **config):
        aws.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler=handler,
                            Code={"ZipFile": zipped(files)}, **config)
        made.append(name)
        return name

    yield make
    for name in made:
        aws.delete_function(FunctionName=name)


def call(aws, name, event=None, **kwargs):
    answer = aws.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    body = answer["Payload"].read()
    return answer, (json.loads(body) if body else None)


def test_a_zip_deployed_handler_runs_with_its_settings_and_context(aws, function):
    name = function("lt-context", {"app.py": APP}, Environment={"Variables": {"SETTING": "on"}}, MemorySize=256)
    answer, result = call(aws, name, {"n": 1})
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    assert result["setting"] == "on" and result["function"] == name and result["memory"] == "256"
    assert result["arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    assert result["group"] == f"/aws/lambda/{name}" and result["region"] == "us-east-1" and result["tz"] == ":UTC"
    assert 0 < result["left_ms"] <= 3000 and len(result["request"]) == 36


def test_a_warm_environment_keeps_module_state_and_a_code_change_starts_afresh(aws, function):
    name = function("lt-warm", {"app.py": APP})
    assert [call(aws, name)[1]["calls"] for _ in range(3)] == [1, 2, 3]
    aws.update_function_code(FunctionName=name, ZipFile=zipped({"app.py": APP + "\n# changed\n"}))
    assert call(aws, name)[1]["calls"] == 1


def test_concurrent_invocations_get_environments_of_their_own(aws, function):
    slow = APP.replace("    CALLS += 1\n", "    CALLS += 1\n    import time; time.sleep(0.5)\n")
    name = function("lt-concurrent", {"app.py": slow})
    results = []
    threads = [threading.Thread(target=lambda: results.append(call(aws, name)[1]["calls"])) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [1, 1, 1]      # three environments, each on its first call


def test_a_handler_error_comes_back_as_aws_returns_it_and_is_logged(aws, function):
    name = function("lt-error", {"app.py": APP})
    answer, error = call(aws, name, {"fail": "x"}, LogType="Tail")
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "bad input: x"
    assert error["stackTrace"][0].startswith('  File "/var/task/app.py", line ')
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "[ERROR] ValueError: bad input: x\nTraceback (most recent call last):" in tail
    assert tail.startswith("START RequestId: ") and "\nREPORT RequestId: " in tail


def test_the_log_has_start_end_report_prints_and_logging_lines(aws, function, endpoint):
    name = function("lt-logs", {"app.py": APP})
    _, result = call(aws, name, {"n": 7})
    request = result["request"]
    logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1")
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]]
    assert messages[0] == f"START RequestId: {request} Version: $LATEST"
    assert messages[1] == "event {'n': 7}"
    level, stamp, rid, text = messages[2].split("\t")
    assert (level, rid, text) == ("[INFO]", request, "handled 7") and stamp.endswith("Z")
    assert messages[3] == f"END RequestId: {request}"
    report = messages[4]
    assert report.startswith(f"REPORT RequestId: {request}\tDuration: ") and "\tInit Duration: " in report
    assert "\tBilled Duration: " in report and "\tMemory Size: 128 MB\tMax Memory Used: " in report
    stream = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"][0]["logStreamName"]
    day, _, rest = stream.rpartition("/")
    assert rest.startswith("[$LATEST]") and len(rest) == len("[$LATEST]") + 32 and len(day) == 10


def test_the_log_read_by_invocation_as_a_lesson_reads_it(lab, aws, function):
    """functions.invocations groups each invocation's lines, functions.wait_for waits for an asynchronous one,
    functions.plain drops the logger's time and request id; botocore's line about the lab's endpoint (which a
    function on AWS does not have) stays out of the log, its line about the credentials stays in."""
    from gluelab import functions

    name = function("lt-grouped", {"app.py": "import logging\nimport boto3\nlogging.getLogger().setLevel("
                                              "logging.INFO)\n" + "def lambda_handler(event, context):\n"
                                              "    boto3.client('s3').list_buckets()\n"
                                              "    logging.getLogger().info('n=%s', event['n'])\n"})
    call(aws, name, {"n": 1})
    aws.invoke(FunctionName=name, Payload=b'{"n": 2}', InvocationType="Event")
    done = functions.wait_for(lab, name, 2, timeout=60)
    assert [line.split(" ", 1)[0] for line in done[0]][0] == "START" and done[1][-1].startswith("REPORT")
    lines = [functions.plain(line) for invocation in done for line in functions.handler_lines(invocation)]
    assert lines == ["[INFO] Found credentials in environment variables.", "[INFO] n=1", "[INFO] n=2"]
    with pytest.raises(TimeoutError, match="finished 2 of 3 invocations"):
        functions.wait_for(lab, name, 3, timeout=0.5)


def test_event_and_dry_run_invocations(aws, function, endpoint):
    marker = APP.replace("    CALLS += 1\n", "    CALLS += 1\n    import boto3; boto3.client('s3').put_object("
                                               "Bucket='lt-async', Key='ran', Body=b'1')\n")
    name = function("lt-async", {"app.py": marker})
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="lt-async")
    assert aws.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    assert "Contents" not in s3.list_objects_v2(Bucket="lt-async")
    assert aws.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    deadline = time.monotonic() + 20
    while "Contents" not in s3.list_objects_v2(Bucket="lt-async") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="lt-async")["Contents"]] == ["ran"]
    s3.delete_object(Bucket="lt-async", Key="ran")
    s3.delete_bucket(Bucket="lt-async")


def test_the_timeout_ends_the_invocation_as_aws_reports_it(aws, function):
    name = function("lt-timeout", {"app.py": "import time\ndef lambda_handler(e, c):\n    time.sleep(3)\n"},
                    Timeout=1)
    answer, error = call(aws, name, LogType="Tail")
    assert answer["FunctionError"] == "Unhandled" and error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert "Task timed out after 1.00 seconds" in base64.b64decode(answer["LogResult"]).decode()


@pytest.mark.parametrize("source, error_type, message", [
    ("import pandas\ndef lambda_handler(e, c):\n    pass\n", "Runtime.ImportModuleError",
     "Unable to import module 'app': No module named 'pandas'"),
    ("import requests\ndef lambda_handler(e, c):\n    pass\n", "Runtime.ImportModuleError",
     "Unable to import module 'app': No module named 'requests'"),
    ("def lambda_handler(e, c)\n    pass\n", "Runtime.UserCodeSyntaxError",
     "Syntax error in module 'app': expected ':' (app.py, line 1)"),
    ("def other(e, c):\n    pass\n", "Runtime.HandlerNotFound", "Handler 'lambda_handler' missing on module 'app'"),
    ("import datetime\ndef lambda_handler(e, c):\n    return datetime.date(2024, 1, 1)\n", "Runtime.MarshalError",
     "Unable to marshal response: Object of type date is not JSON serializable"),
])
def test_runtime_errors_are_reported_as_the_python_runtime_reports_them(aws, function, source, error_type,
                                                                       message):
    name = function("lt-runtime", {"app.py": source})
    answer, error = call(aws, name)
    assert answer["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == (error_type, message)


def test_packages_come_from_the_zip_or_a_layer_as_on_aws(aws, function):
    uses_pandas = "import pandas\ndef lambda_handler(e, c):\n    return int(pandas.Series([1, 2]).sum())\n"
    name = function("lt-layer", {"app.py": uses_pandas}, Layers=[functions.pandas_layer("us-east-1")])
    assert call(aws, name)[1] == 3
    assert aws.get_function(FunctionName=name)["Configuration"]["Layers"][0]["Arn"] == \
        functions.pandas_layer("us-east-1")
    helper = aws.publish_layer_version(LayerName="lt-helpers", Content={"ZipFile": zipped(
        {"python/shared_rules.py": "LIMIT = 42\n"})})["LayerVersionArn"]
    name = function("lt-own-layer", {"app.py": "import shared_rules\ndef lambda_handler(e, c):\n"
                                               "    return shared_rules.LIMIT\n"}, Layers=[helper])
    assert call(aws, name)[1] == 42
    aws.delete_layer_version(LayerName="lt-helpers", VersionNumber=1)
    shipped = functions.package({"app.py": "import requests\ndef lambda_handler(e, c):\n"
                                           "    return requests.__name__\n"}, requirements=["requests"])
    aws.create_function(FunctionName="lt-shipped", Runtime="python3.11", Role=ROLE, Handler="app.lambda_handler",
                        Code={"ZipFile": shipped})
    try:
        assert call(aws, "lt-shipped")[1] == "requests"
    finally:
        aws.delete_function(FunctionName="lt-shipped")


def test_code_from_s3_and_deleting_a_function_ends_its_environments(aws, endpoint):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="lt-code")
    s3.put_object(Bucket="lt-code", Key="app.zip", Body=zipped({"app.py": APP}))
    aws.create_function(FunctionName="lt-s3", Runtime="python3.11", Role=ROLE, Handler="app.lambda_handler",
                        Code={"S3Bucket": "lt-code", "S3Key": "app.zip"})
    assert call(aws, "lt-s3")[1]["calls"] == 1
    before = awslambda.POOL.environments()
    aws.delete_function(FunctionName="lt-s3")
    assert awslambda.POOL.environments() == before - 1
    s3.delete_object(Bucket="lt-code", Key="app.zip")
    s3.delete_bucket(Bucket="lt-code")


def test_the_handler_reaches_the_labs_endpoint_with_boto3(aws, function, endpoint):
    source = ("import boto3\ndef lambda_handler(e, c):\n    return sorted(b['Name'] for b in "
              "boto3.client('s3').list_buckets()['Buckets'] if b['Name'] == 'lt-visible')\n")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="lt-visible")
    try:
        assert call(aws, function("lt-boto3", {"app.py": source}))[1] == ["lt-visible"]
    finally:
        s3.delete_bucket(Bucket="lt-visible")


def test_cold_and_warm_invocation_cost(aws, function, capsys):
    """Not a target: prints what a cold and a warm invocation cost here (make bench measures it properly)."""
    name = function("lt-cost", {"app.py": APP})
    started = time.perf_counter()
    call(aws, name)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        call(aws, name)
        warm.append(time.perf_counter() - started)
    with capsys.disabled():
        print(f"\ncold invoke {cold * 1000:.0f} ms, warm invoke median {sorted(warm)[2] * 1000:.1f} ms")
    assert call(aws, name)[1]["calls"] == 7


def test_moto_function_attributes_the_runtime_reads_are_still_there(aws, function):
    """Contract: what gluelab.localaws.awslambda.describe reads from moto's LambdaFunction and LayerVersion."""
    from moto.awslambda.utils import get_backend

    name = function("lt-contract", {"app.py": APP}, Environment={"Variables": {"A": "b"}})
    backend = get_backend("123456789012", "us-east-1")
    fn = backend.get_function(name, None)
    for attribute in ("function_name", "function_arn", "version", "handler", "run_time", "timeout", "memory_size",
                      "code_bytes", "code_sha_256", "environment_vars", "layers", "region", "account_id",
                      "event_invoke_config"):
        assert hasattr(fn, attribute), attribute
    described = awslambda.describe(fn)
    assert described.environment == (("A", "b"),) and zipfile.is_zipfile(io.BytesIO(described.code))
    layer = aws.publish_layer_version(LayerName="lt-contract-layer", Content={"ZipFile": zipped({"python/x.py": ""})})
    assert backend.layers_versions_by_arn(layer["LayerVersionArn"]).code_bytes
    aws.delete_layer_version(LayerName="lt-contract-layer", VersionNumber=layer["Version"])
