"""The local AWS endpoint: moto's ThreadedMotoServer inside this process, with the service modules' hooks.

Why a real HTTP server rather than moto's in-process decorators: every client can use it the same way
(boto3 in a notebook, a Glue job script in a subprocess, the AWS CLI with ``--endpoint-url``, Spark's S3
data plane, pyarrow), and what one of them writes the others see.

The server starts once per process, on 127.0.0.1 and a free port. Starting it sets, for this process and the
processes it starts only, fake credentials and ``AWS_ENDPOINT_URL`` so that a learner's plain
``boto3.client("glue")`` talks to the lab too (and ``AWS_DISABLE_HOST_PREFIX_INJECTION``: the endpoint has one host
name). Nothing is written to ``~/.aws``.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request

from . import hooks

#: Fake credentials for the local endpoint. moto accepts any; these are not secrets.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

_lock = threading.Lock()
_server = None
_endpoint: str | None = None


def endpoint_url() -> str | None:
    """The running local endpoint's URL, or None when it has not been started in this process."""
    return _endpoint


def start(region: str = "us-east-1") -> str:
    """Start the local endpoint (once per process) and return its URL, e.g. ``http://127.0.0.1:40123``.

    Also installs the execution hooks (:mod:`.hooks`, registered by the service modules of this package),
    switches on moto's Step Functions interpreter and points this process's AWS environment variables at the
    endpoint.
    """
    global _server, _endpoint
    with _lock:
        if _endpoint is None:
            from moto.server import ThreadedMotoServer

            hooks.install()
            # AWS managed policies (e.g. AWSGlueServiceRole) exist in every account; moto loads them on request.
            os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines in notebooks
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            _server, _endpoint = server, f"http://{host}:{port}"
            # moto's Step Functions interpreter calls back into the server: it must know the real port.
            os.environ["MOTO_PORT"] = str(port)
            _post_config({"stepfunctions": {"execute_state_machine": True}})
        _point_environment_at(_endpoint, region)
        return _endpoint


def _point_environment_at(url: str, region: str) -> None:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(var, None)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = url
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["AWS_REGION"] = region
    # Some operations (Step Functions' StartSyncExecution, ...) prefix AWS's host name ("sync-states..."); the
    # local endpoint has one host name
    os.environ["AWS_DISABLE_HOST_PREFIX_INJECTION"] = "true"


def _post_config(config: dict) -> None:
    req = urllib.request.Request(
        f"{_endpoint}/moto-api/config", data=json.dumps(config).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def reset() -> None:
    """Forget every resource in the local endpoint (all services, all regions). For tests and workshops."""
    if _endpoint is None:
        return
    req = urllib.request.Request(f"{_endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()
