"""Actions moto lacks, answered at moto's own dispatch, per service.

moto routes a request to a method of the service's ``*Response`` class named after the action
(``GetCrawlerMetrics`` -> ``get_crawler_metrics``) and answers NotImplementedError when there is none. A service
module registers a handler for such an action with :func:`action`; the first registration for a response class
hooks its ``call_action`` (through :mod:`.hooks`, so the seam is contract-checked). A handler takes moto's
response object and returns the answer as a dict; it raises moto's own exceptions for errors, which reach the
client exactly as moto's errors do.
"""
from __future__ import annotations

import json
from typing import Callable

from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores

from .hooks import hook

_ACTIONS: dict[type, dict[str, Callable]] = {}


def action(response_class: type, name: str):
    """Register ``fn(response) -> dict`` as the answer to ``name`` (snake_case) on ``response_class``."""
    def register(fn: Callable) -> Callable:
        table = _ACTIONS.get(response_class)
        if table is None:
            table = _ACTIONS[response_class] = {}
            hook(response_class, "call_action", ())(_dispatcher(table))
        table[name] = fn
        return fn
    return register


def actions(response_class: type) -> set[str]:
    """The actions answered here for ``response_class``."""
    return set(_ACTIONS.get(response_class, {}))


def params(response) -> dict:
    """The request's parameters of a JSON-protocol service (Glue, Step Functions, ...)."""
    return json.loads(response.body or "{}")


def _dispatcher(table: dict[str, Callable]) -> Callable:
    def call_action(original, response):
        handler = table.get(camelcase_to_underscores(response._get_action()))
        if handler is None:
            return original(response)
        try:
            status, headers, body = response.serialized(ActionResult(handler(response)))
        except Exception as exc:
            if not hasattr(exc, "get_headers"):  # not one of moto's HTTP errors: a fault, raised as moto would
                raise
            error_headers = dict(exc.get_headers() or [])
            error_headers["status"] = exc.code
            status, headers, body = response._transform_response(response.response_headers,
                                                                  (exc.description, error_headers))
        headers, body = response._enrich_response(headers, body)
        return status, headers, body
    return call_action
