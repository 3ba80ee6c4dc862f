"""State changes one service announces and others act on, named as AWS names its EventBridge events.

A Glue job run that ends emits ``"Glue Job State Change"``, a crawl ``"Glue Crawler State Change"``; Glue
workflows listen for both to fire their conditional triggers (later, EventBridge rules listen too). ``detail`` has
the fields AWS's event carries; ``resource`` is the moto object concerned, for listeners inside this package.
A listener that fails does not stop the emitter or the other listeners: its traceback is logged.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

JOB_STATE_CHANGE = "Glue Job State Change"
CRAWLER_STATE_CHANGE = "Glue Crawler State Change"

_LISTENERS: dict[str, list[Callable]] = {}
_log = logging.getLogger("gluelab.localaws")


def subscribe(detail_type: str, listener: Callable[..., None]) -> None:
    """Call ``listener(detail, resource=...)`` for every ``detail_type`` emitted (idempotent)."""
    listeners = _LISTENERS.setdefault(detail_type, [])
    if listener not in listeners:
        listeners.append(listener)


def emit(detail_type: str, detail: dict, resource: Any = None) -> None:
    """Tell every listener of ``detail_type``."""
    for listener in list(_LISTENERS.get(detail_type, ())):
        try:
            listener(detail, resource=resource)
        except Exception:
            _log.exception("a listener of %r failed", detail_type)
