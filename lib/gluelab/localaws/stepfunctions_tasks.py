"""Step Functions Task integrations as AWS runs them: the optimized Glue integration and the AWS SDK integrations.

``arn:aws:states:::glue:startJobRun`` (Request Response) starts the job run (gluelab really runs it:
:mod:`.glue_jobs`) and answers at once with ``JobName``, ``JobRunId`` and the SDK's HTTP metadata, as AWS does.
``glue:startJobRun.sync`` then waits for the run's final state (woken by each "Glue Job State Change", never
polling with sleeps): its output is the run as GetJobRun returns it, serialised as Step Functions serialises it
(timestamps in epoch milliseconds, keys in order); a run that ends FAILED, TIMEOUT, STOPPED or ERROR fails the
task with ``States.TaskFailed`` and that same JSON as the ``Cause``. When the execution is stopped, or the
task's ``TimeoutSeconds`` passes, before the run ends, the run is stopped (BatchStopJobRun), as AWS does. An
error Glue answers becomes ``Glue.<code>`` with the SDK's cause text (``... (Service: AWSGlue; Status Code: 400;
Error Code: ...; Request ID: ...; Proxy: null)``).

``arn:aws:states:::lambda:invoke`` invokes the function (gluelab's Lambda runtime runs the handler) and answers
as AWS's optimized integration does: ``ExecutedVersion``, ``Payload``, ``SdkHttpMetadata``,
``SdkResponseMetadata``, ``StatusCode``. A function ARN as the Resource (the legacy form) answers with the payload
alone. A function error fails the task with the error's ``errorType`` (``ValueError``, ...) and the payload as
the ``Cause``; a payload without an ``errorType`` is ``Lambda.Unknown``. An error Lambda answers (a function that
does not exist: ``Lambda.ResourceNotFoundException``) has the SDK's cause text.

``arn:aws:states:::aws-sdk:<service>:<action>`` calls the service's API with the Task's PascalCase parameters and
answers with its PascalCase response (timestamps as ISO 8601 strings); an error is ``<Service>.<Exception>``
(``Glue.EntityNotFoundException``, ``S3.NoSuchKeyException``, ...), the service named as AWS's SDK names it.
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime, timezone

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (FailureEvent,
                                                                                     FailureEventException)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue import (
    StateTaskServiceGlue)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
    StateTaskServiceLambda)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

from ..waiting import FINAL_JOB_RUN_STATES, FINAL_WORKFLOW_RUN_STATES
from .hooks import hook
from .stepfunctions import InFlight, service_model, timeline_of

_log = logging.getLogger("gluelab.localaws")

#: How often a task waiting for a job run checks whether its execution still runs (a run's end wakes it at once).
CHECK_SECONDS = 0.2

#: AWS SDK integration service names -> the name AWS gives their errors (``Glue.EntityNotFoundException``).
SDK_ERROR_NAMES = {"glue": "Glue", "s3": "S3", "lambda": "Lambda", "sqs": "Sqs", "sns": "Sns", "sfn": "Sfn",
                   "dynamodb": "DynamoDb", "athena": "Athena", "eventbridge": "EventBridge",
                   "cloudwatch": "CloudWatch", "cloudwatchlogs": "CloudWatchLogs", "iam": "Iam", "sts": "Sts",
                   "ec2": "Ec2", "ecs": "Ecs", "kinesis": "Kinesis", "firehose": "Firehose",
                   "secretsmanager": "SecretsManager", "ssm": "Ssm", "emr": "Emr", "batch": "Batch",
                   "redshiftdata": "RedshiftData"}
state_task_service_aws_sdk._SERVICE_ERROR_NAMES.update(SDK_ERROR_NAMES)


# --- what AWS's SDKs add to an optimized integration's answer -------------------------------------------------

_HEADER_NAMES = {"connection": "Connection", "content-length": "Content-Length", "content-type": "Content-Type",
                 "date": "Date", "x-amzn-requestid": "x-amzn-RequestId",
                 "x-amz-executed-version": "X-Amz-Executed-Version", "x-amz-function-error": "X-Amz-Function-Error",
                 "x-amz-log-result": "X-Amz-Log-Result", "x-amzn-trace-id": "X-Amzn-Trace-Id",
                 "x-amzn-remapped-content-length": "x-amzn-Remapped-Content-Length"}


def sdk_metadata(response: dict) -> dict:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata``, as the optimized integrations add them to an answer."""
    meta = response.get("ResponseMetadata") or {}
    received = {k.lower(): v for k, v in (meta.get("HTTPHeaders") or {}).items()}
    headers = {name: received[key] for key, name in _HEADER_NAMES.items() if key in received}
    headers["Connection"] = "keep-alive"  # AWS's SDK keeps its connections open
    request_id = meta.get("RequestId") or received.get("x-amzn-requestid", "")
    headers["x-amzn-RequestId"] = request_id
    headers = dict(sorted(headers.items()))
    return {"SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers,
                                "HttpStatusCode": meta.get("HTTPStatusCode", 200)},
            "SdkResponseMetadata": {"RequestId": request_id}}


def sdk_v1_cause(service: str, error: ClientError) -> str:
    """An optimized integration's error cause, as AWS's SDK words it."""
    err, meta = error.response.get("Error", {}), error.response.get("ResponseMetadata", {})
    return (f"{err.get('Message', '')} (Service: {service}; Status Code: {meta.get('HTTPStatusCode', 400)}; "
            f"Error Code: {err.get('Code', '')}; Request ID: {meta.get('RequestId', '')}; Proxy: null)")


def _epoch_ms(value):
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp() * 1000)
    if isinstance(value, dict):
        return {k: _epoch_ms(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_epoch_ms(v) for v in value]
    return value


def _iso(value):
    if isinstance(value, datetime):
        moment = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
        return text + (f".{moment.microsecond // 1000:03d}Z" if moment.microsecond else "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def _task_failed(task, env, error: str, cause: str, states_error: bool = False) -> FailureEvent:
    return FailureEvent(
        env=env, error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed) if states_error
        else CustomErrorName(error), event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
            resource=task._get_sfn_resource(), resourceType=task._get_sfn_resource_type(), error=error, cause=cause)))


# --- Glue: startJobRun and startJobRun.sync ---------------------------------------------------------------------

class TaskAbandoned(Exception):
    """The execution was stopped, or the task timed out, before the job run ended (the run was stopped)."""


@hook(StateTaskServiceGlue, "_handle_start_job_run",
      ("env", "resource_runtime_part", "normalised_parameters", "computed_credentials"))
def _start_job_run(original, task, env, resource_runtime_part, normalised_parameters, computed_credentials):
    glue = task._get_glue_client(resource_runtime_part=resource_runtime_part, state_credentials=computed_credentials)
    response = glue.start_job_run(**normalised_parameters)
    job_name, run_id = normalised_parameters.get("JobName"), response["JobRunId"]
    if task.resource.condition is None:  # Request Response: the run goes on while the execution does
        _runs_for_real(env, lambda: _job_run_ended(glue, job_name, run_id))
    env.stack.append({"JobName": job_name, "JobRunId": run_id, **sdk_metadata(response)})


def _runs_for_real(env, done) -> None:
    """Tell the execution's timeline about work it started that runs for real (its waits let it run)."""
    timeline = timeline_of(env)
    if timeline is not None:
        timeline.work.add(done)


def _job_run_ended(glue, job_name: str, run_id: str) -> bool:
    return glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]["JobRunState"] in FINAL_JOB_RUN_STATES


def _crawl_ended(glue, name: str) -> bool:
    return glue.get_crawler(Name=name)["Crawler"]["State"] == "READY"


def _workflow_run_ended(glue, name: str, run_id: str) -> bool:
    return glue.get_workflow_run(Name=name, RunId=run_id)["Run"]["Status"] in FINAL_WORKFLOW_RUN_STATES


@hook(StateTaskServiceGlue, "_eval_integration_pattern",
      ("env", "resource_runtime_part", "normalised_parameters", "state_credentials"))
def _run_job(original, task, env, resource_runtime_part, normalised_parameters, state_credentials):
    """``glue:startJobRun.sync``: wait for the run started just before to end; its GetJobRun is the output."""
    if task.resource.condition != ResourceCondition.Sync:
        return original(task, env, resource_runtime_part, normalised_parameters, state_credentials)
    started = env.stack.pop()
    job_name, run_id = started["JobName"], started["JobRunId"]
    glue = task._get_glue_client(resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
    while True:
        seen = InFlight.generation
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        if run["JobRunState"] in FINAL_JOB_RUN_STATES:
            break
        if not env.is_running():
            try:
                glue.batch_stop_job_run(JobName=job_name, JobRunIds=[run_id])
            except Exception:
                _log.exception("could not stop job run %s of %s", run_id, job_name)
            raise TaskAbandoned(f"job run {run_id} of {job_name} stopped: its task ended first")
        InFlight.wait_after(seen, CHECK_SECONDS)  # a run's end wakes it; it checks now and then that it should go on
    output = _epoch_ms(run)
    if run["JobRunState"] != "SUCCEEDED":
        raise FailureEventException(_task_failed(task, env, StatesErrorNameType.StatesTaskFailed.to_name(),
                                                 json.dumps(output, separators=(",", ":")), states_error=True))
    env.stack.append(output)


@hook(StateTaskServiceGlue, "_from_error", ("env", "ex"))
def _glue_error(original, task, env, ex):
    if not isinstance(ex, ClientError):
        return original(task, env, ex)
    return _task_failed(task, env, f"Glue.{ex.response['Error']['Code']}", sdk_v1_cause("AWSGlue", ex))


# --- AWS SDK integrations ------------------------------------------------------------------------------------------

def _operation(task):
    """The botocore operation model an ``aws-sdk`` Task calls (None if botocore does not know it)."""
    model = service_model(task._get_boto_service_name())
    action = task.resource.api_action
    try:
        return None if model is None else model.operation_model(action[:1].upper() + action[1:])
    except Exception:
        return None


@hook(StateTaskServiceAwsSdk, "_normalise_parameters", ("parameters", "boto_service_name", "service_action_name"))
def _sdk_parameters(original, task, parameters, boto_service_name=None, service_action_name=None):
    """The Task's PascalCase parameters as the service's API names them (``StateMachineArn`` ->
    ``stateMachineArn``)."""
    operation = _operation(task)
    if operation is not None and operation.input_shape is not None:
        task._to_boto_request(parameters, operation.input_shape)


@hook(StateTaskServiceAwsSdk, "_eval_service_task",
      ("env", "resource_runtime_part", "normalised_parameters", "state_credentials"))
def _sdk_call(original, task, env, resource_runtime_part, normalised_parameters, state_credentials):
    """The answer with PascalCase names and ISO 8601 timestamps, as AWS's SDK integrations give it."""
    original(task, env, resource_runtime_part, normalised_parameters, state_credentials)
    response = env.stack.pop()
    if task._get_boto_service_name() == "glue":
        _glue_work_started(env, task, resource_runtime_part, state_credentials, normalised_parameters, response)
    operation = _operation(task)
    if isinstance(response, dict) and operation is not None and operation.output_shape is not None:
        task._from_boto_response(response, operation.output_shape)
    env.stack.append(_iso(response))


def _glue_work_started(env, task, resource_runtime_part, state_credentials, parameters: dict, response) -> None:
    """An ``aws-sdk:glue`` call that starts something answers at once, as on AWS; the run, crawl or workflow run
    it started goes on for real, and the execution's waits let it."""
    action = task.resource.api_action
    if action not in ("startJobRun", "startCrawler", "startWorkflowRun"):
        return
    glue = boto_client_for(region=resource_runtime_part.region, service="glue", state_credentials=state_credentials)
    if action == "startJobRun":
        _runs_for_real(env, lambda: _job_run_ended(glue, parameters["JobName"], response["JobRunId"]))
    elif action == "startCrawler":
        _runs_for_real(env, lambda: _crawl_ended(glue, parameters["Name"]))
    else:
        _runs_for_real(env, lambda: _workflow_run_ended(glue, parameters["Name"], response["RunId"]))


# --- Lambda: lambda:invoke, and a function ARN as the Resource ----------------------------------------------------

LAMBDA_UNKNOWN = "Lambda.Unknown"


def _payload(body):
    """An invocation's payload: its JSON value, else its text."""
    text = body.read().decode("utf-8") if hasattr(body, "read") else body
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


@hook(StateTaskServiceLambda, "_eval_service_task",
      ("env", "resource_runtime_part", "normalised_parameters", "state_credentials"))
def _invoke(original, task, env, resource_runtime_part, normalised_parameters, state_credentials):
    """``lambda:invoke``: the function's answer as AWS's optimized integration gives it."""
    client = boto_client_for(region=resource_runtime_part.region, service="lambda",
                             state_credentials=state_credentials)
    response = client.invoke(**normalised_parameters)
    payload = _payload(response["Payload"])
    if response.get("FunctionError"):
        raise lambda_eval_utils.LambdaFunctionErrorException(response["FunctionError"], _compact(payload))
    out = {"ExecutedVersion": response.get("ExecutedVersion", "$LATEST")}
    if response.get("LogResult"):
        out["LogResult"] = response["LogResult"]
    out.update({"Payload": payload, **sdk_metadata(response), "StatusCode": response.get("StatusCode", 200)})
    env.stack.append(out)


def _compact(payload) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))


def _function_error(ex) -> tuple[str, str]:
    """A function error's name and cause: the payload's ``errorType`` and the payload, else Lambda.Unknown."""
    try:
        error = json.loads(ex.payload).get("errorType")
    except (TypeError, ValueError, AttributeError):
        error = None
    if error:
        return error, ex.payload
    return LAMBDA_UNKNOWN, ("The cause could not be determined because Lambda did not return an error type. "
                            f"Returned payload: {ex.payload}")


@hook(StateTaskServiceLambda, "_from_error", ("env", "ex"))
def _invoke_error(original, task, env, ex):
    if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException):
        error, cause = _function_error(ex)
    elif isinstance(ex, ClientError):
        error, cause = f"Lambda.{ex.response['Error']['Code']}", sdk_v1_cause("AWSLambda", ex)
    else:
        return original(task, env, ex)
    return _task_failed(task, env, error, cause, states_error=False)


@hook(StateTaskLambda, "_from_error", ("env", "ex"))
def _function_resource_error(original, task, env, ex):
    """A function ARN as the Resource: errors named as for ``lambda:invoke``, in a LambdaFunctionFailed event."""
    if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException):
        error, cause = _function_error(ex)
    elif isinstance(ex, ClientError):
        error, cause = f"Lambda.{ex.response['Error']['Code']}", sdk_v1_cause("AWSLambda", ex)
    else:
        return original(task, env, ex)
    return FailureEvent(env=env, error_name=CustomErrorName(error), event_type=HistoryEventType.LambdaFunctionFailed,
                        event_details=EventDetails(lambdaFunctionFailedEventDetails=LambdaFunctionFailedEventDetails(
                            error=error, cause=cause)))
