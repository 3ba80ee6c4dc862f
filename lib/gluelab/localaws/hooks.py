"""Hook registration: where moto's control plane is made to act, with a contract check for each seam.

moto stores AWS state faithfully but runs nothing (a job run is SUCCEEDED the moment it exists, a crawler never
crawls). Each service module of this package replaces a few of moto's model methods with :func:`hook`. The
registration records which method it replaces and the parameters it relies on, so a moto release that moves or
changes one fails loudly at start-up (:func:`check_contracts`, also run by the tests), never silently.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable

import moto

#: The moto release the hooks were written against (pinned exactly in requirements.txt).
MOTO_VERSION = "5.2.5"


@dataclass
class _Hook:
    owner: type | ModuleType
    method: str
    expected_params: tuple[str, ...]
    replacement: Callable
    original: Callable | None = field(default=None)


_HOOKS: list[_Hook] = []
_installed = False


class HookContractError(RuntimeError):
    """moto no longer has the method or arguments a gluelab hook relies on."""


def hook(owner: type | ModuleType, method: str, expected_params: tuple[str, ...]):
    """Register ``fn(original, self, *args, **kwargs)`` to replace ``owner.method`` when hooks are installed.

    ``owner`` may also be a module of moto whose function other moto modules call through the module (e.g.
    ``moto.s3.notifications.send_event``): ``fn(original, *args, **kwargs)`` then replaces the function."""
    def register(fn: Callable) -> Callable:
        _HOOKS.append(_Hook(owner, method, expected_params, fn))
        return fn
    return register


def hooked() -> set[tuple[str, str]]:
    """``(class name, method)`` of every registered hook."""
    return {(h.owner.__name__, h.method) for h in _HOOKS}


def check_contracts() -> None:
    """Raise HookContractError if any hooked moto method is missing or changed its parameters."""
    problems = []
    if moto.__version__ != MOTO_VERSION:
        problems.append(f"moto {moto.__version__} is installed; gluelab's hooks are written for {MOTO_VERSION}")
    for h in _HOOKS:
        owner = getattr(h.owner, "__qualname__", h.owner.__name__)
        target = getattr(h.owner, h.method, None)
        if target is None:
            problems.append(f"{owner}.{h.method} no longer exists")
            continue
        target = getattr(target, "__gluelab_original__", target)
        params = tuple(inspect.signature(target).parameters)
        if not inspect.ismodule(h.owner):
            params = params[1:]  # without self
        missing = [p for p in h.expected_params if p not in params]
        if missing:
            problems.append(f"{owner}.{h.method} lost parameter(s) {missing}; has {params}")
    if problems:
        raise HookContractError("gluelab's execution hooks do not fit this moto:\n  " + "\n  ".join(problems))


def install() -> None:
    """Patch moto with every registered hook (idempotent)."""
    global _installed
    if _installed:
        return
    check_contracts()
    for h in _HOOKS:
        original = getattr(h.owner, h.method)

        def patched(*args, __h=h, __orig=original, **kwargs):
            return __h.replacement(__orig, *args, **kwargs)

        patched.__gluelab_original__ = original
        patched.__name__ = h.method
        setattr(h.owner, h.method, patched)
    _installed = True
