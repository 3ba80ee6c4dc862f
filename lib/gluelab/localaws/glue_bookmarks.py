"""AWS Glue job bookmarks through the API: ``get_job_bookmark`` and ``reset_job_bookmark`` (moto has neither),
answered from the process's bookmark store (:data:`gluelab.glue.bookmarks.STORE`) that job scripts commit to;
``delete_job`` deletes the job's bookmark with it, as on AWS.

Bookmarks live and die with their job: teardown deletes jobs (:mod:`.glue_jobs`), nothing more here.
"""
from __future__ import annotations

from moto.glue import exceptions as glue_exceptions
from moto.glue.models import GlueBackend
from moto.glue.responses import GlueResponse

from ..glue.bookmarks import STORE
from . import dispatch
from .hooks import hook
from .service import Service

SERVICE = Service("glue", operations=("ResetJobBookmark",))


def _bookmark_job(response: GlueResponse) -> tuple[str, dict]:
    params = dispatch.params(response)
    name = params.get("JobName")
    response.glue_backend.get_job(name)  # EntityNotFoundException "Job <name> not found." as on AWS
    return name, params


@dispatch.action(GlueResponse, "get_job_bookmark")
def _get_job_bookmark(response: GlueResponse) -> dict:
    """GetJobBookmark (moto has none): the job's JobBookmarkEntry from the bookmark store; a job that has
    never committed a bookmark has none (EntityNotFoundException, as on AWS)."""
    name, _ = _bookmark_job(response)
    if not STORE.has(name):
        raise glue_exceptions.EntityNotFoundException(f"Continuation for job {name} not found")
    return {"JobBookmarkEntry": STORE.entry(name)}


@dispatch.action(GlueResponse, "reset_job_bookmark")
def _reset_job_bookmark(response: GlueResponse) -> dict:
    """ResetJobBookmark (moto has none): forget what the job has processed (or go back to the state after
    ``RunId``); the next bookmark-enabled run processes everything again."""
    name, params = _bookmark_job(response)
    try:
        return {"JobBookmarkEntry": STORE.reset(name, params.get("RunId"))}
    except KeyError as exc:  # a RunId that is not a committed run of this job
        raise glue_exceptions.EntityNotFoundException(str(exc.args[0]) if exc.args else str(exc)) from None


@hook(GlueBackend, "delete_job", ("name",))
def _delete_job(original, backend: GlueBackend, name: str):
    """DeleteJob: as on AWS, the job's bookmark is deleted with it (a job re-created with the same name starts
    with none)."""
    original(backend, name)
    STORE.forget(name)
