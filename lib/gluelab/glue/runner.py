"""Run a Glue Spark job script (``glueetl``, ``gluestreaming``) in this process, as Glue would.

The local endpoint's job runner (:mod:`gluelab.localaws.glue_job_runners`) calls :func:`run_script` for each
run that start_job_run starts; this module knows nothing of moto.

On AWS a Glue job run gets a fresh cluster; here a run reuses the lab's SparkSession, because a new JVM per
run would cost ~8 s and a small job should go from ``start_job_run`` to SUCCEEDED in a few seconds. What a
script sees is what Glue gives it:

* ``sys.argv = [script name, --JOB_NAME, <name>, --JOB_RUN_ID, <id>, <DefaultArguments merged with the run's
  Arguments>]``, so ``getResolvedOptions(sys.argv, [...])`` works;
* ``import awsglue`` works (``gluelab.glue.enable()``), and with ``--enable-glue-datacatalog`` the Data
  Catalog's tables are registered in Spark SQL before the script starts (``gluelab.glue.sqlcatalog.sync``);
* ``SparkContext()``, ``SparkContext.getOrCreate()`` and ``SparkSession.builder.getOrCreate()`` return the
  lab's running context and session; ``sc.stop()`` / ``spark.stop()`` do nothing (on Glue the cluster is torn
  down after the script anyway; here the lab's session must outlive the job);
* what the script prints goes to CloudWatch Logs, ``/aws-glue/jobs/output`` (stdout) and
  ``/aws-glue/jobs/error`` (stderr and, if it fails, the traceback), in a stream named by the run id.

A run's states: STARTING (script fetched, Spark started if needed), RUNNING (also while waiting for its turn,
see below), then SUCCEEDED, FAILED (ErrorMessage ``"<ExceptionType>: <first line of the message>"`` as Glue
shows it), TIMEOUT or STOPPED (BatchStopJobRun, via STOPPING).

How it works, and its limits:

* Scripts run one at a time (a process-wide lock): ``sys.argv`` and the SparkContext patch are process-wide.
  A run waiting for its turn is RUNNING; its ExecutionTime and Timeout count from when its script starts.
* The script runs as ``__main__`` in a fresh namespace, in a thread of its own, with its own Spark job group
  (and job tag) named by the run id. stdout/stderr are captured per thread by a proxy installed on
  ``sys.stdout`` / ``sys.stderr`` during the run: other threads' writes pass through untouched, and threads
  the script starts itself are not captured.
* Timeout and BatchStopJobRun cancel the run's Spark jobs and raise an exception in the script's thread.
  Python delivers it only when that thread runs Python code again: a script blocked in a long C call
  (``time.sleep``, a socket read that is not a Spark job) stops when the call returns; a script that catches
  ``BaseException`` can swallow it. After ``STOP_GRACE_SECONDS`` the run ends TIMEOUT or STOPPED anyway and
  the next run may start; the abandoned thread finishes on its own, its later output is not captured.
"""
from __future__ import annotations

import builtins
import contextlib
import ctypes
import io
import linecache
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable

#: Seconds a stopped or timed-out script gets to end after it was interrupted before the run is finished
#: without it (and the next run may start).
STOP_GRACE_SECONDS = 10.0
#: How often (seconds) the supervising thread checks for a stop request or the Timeout.
POLL_SECONDS = 0.05

_EXEC_LOCK = threading.Lock()  # one script at a time: sys.argv and the SparkContext patch are process-wide


class ScriptInterrupted(BaseException):
    """Raised inside a job script's thread to stop it (the job's Timeout or BatchStopJobRun).

    A BaseException, so that a script's ``except Exception`` does not swallow it.
    """


@dataclass
class ScriptResult:
    """How a script run ended: ``state`` is SUCCEEDED, FAILED, TIMEOUT or STOPPED; ``error`` is the
    ErrorMessage of a FAILED run; ``stdout`` / ``stderr`` what the script wrote (``stderr`` ends with the
    traceback of a failure); ``seconds`` the script's own run time."""
    state: str
    error: str | None
    stdout: str
    stderr: str
    seconds: float


# --- running one script -------------------------------------------------------------------------------------

def run_script(source: str, argv: list[str], *, spark, filename: str = "script.py",
               group: str = "gluelab-job", timeout_seconds: float | None = None,
               stop: threading.Event | None = None, on_start: Callable[[], None] | None = None,
               setup: Callable[[], None] | None = None) -> ScriptResult:
    """Execute a Glue job script in this process as Glue would, and report how it ended.

    Waits for the process-wide turn (returning STOPPED if ``stop`` is set meanwhile), calls ``on_start``, then
    runs ``setup`` (e.g. the Data Catalog sync; its exception fails the run) and ``source`` as ``__main__``
    with ``sys.argv = argv`` on ``spark``'s context, in Spark job group ``group``. ``stop`` set,
    or ``timeout_seconds`` elapsed, interrupts it (module docstring).
    """
    t0 = time.monotonic()
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        return ScriptResult("FAILED", error_message(exc), "", _format_traceback(exc, filename), 0.0)
    while not _EXEC_LOCK.acquire(timeout=POLL_SECONDS):
        if stop is not None and stop.is_set():
            return ScriptResult("STOPPED", None, "", "", 0.0)
    try:
        if stop is not None and stop.is_set():
            return ScriptResult("STOPPED", None, "", "", 0.0)
        if on_start is not None:
            on_start()
        t0 = time.monotonic()
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        return _supervise(code, argv, spark.sparkContext, filename, group, t0, timeout_seconds, stop, setup)
    finally:
        _EXEC_LOCK.release()


def _supervise(code, argv, sc, filename, group, t0, timeout_seconds, stop, setup) -> ScriptResult:
    stdout, stderr = _ThreadCapture(sys.stdout), _ThreadCapture(sys.stderr)
    control = _ScriptControl()
    outcome: dict = {}

    from .context import released_after

    def script() -> None:
        ident = threading.get_ident()
        stdout.capture(ident)
        stderr.capture(ident)
        try:
            try:
                sc.setJobGroup(group, f"Glue job run {group}", interruptOnCancel=True)
                sc.addJobTag(group)
                if setup is not None:  # in the script's thread: its output goes to the run's logs too
                    setup()
                with released_after():  # what the script cached goes with it
                    exec(code, {"__name__": "__main__", "__file__": filename, "__builtins__": builtins,
                                "__doc__": None})
            except BaseException as exc:  # the script's own outcome, whatever it is
                outcome["exc"] = exc
            finally:
                control.finish()
        except ScriptInterrupted:  # arrived after the script ended, before finish() took the lock
            control.finish()

    thread = threading.Thread(target=script, name=f"gluelab-script-{group[:12]}", daemon=True)
    saved_argv = sys.argv
    sys.argv = list(argv)
    sys.stdout, sys.stderr = stdout, stderr
    reason, abandon_at = None, None
    try:
        with _shared_spark_context():
            thread.start()
            control.thread_id = thread.ident
            while thread.is_alive():
                thread.join(POLL_SECONDS)
                if not thread.is_alive():
                    break
                if reason is None:
                    if stop is not None and stop.is_set():
                        reason = "STOPPED"
                    elif timeout_seconds is not None and time.monotonic() - t0 >= timeout_seconds:
                        reason = "TIMEOUT"
                    if reason is not None:
                        if not control.interrupt():
                            reason = None  # the script had just ended on its own
                            continue
                        _cancel_spark_jobs(sc, group)
                        abandon_at = time.monotonic() + STOP_GRACE_SECONDS
                elif time.monotonic() >= abandon_at:
                    break  # the script does not return to Python: finish the run without it
    finally:
        sys.argv = saved_argv
        for name, proxy in (("stdout", stdout), ("stderr", stderr)):
            if getattr(sys, name) is proxy:
                setattr(sys, name, proxy.stream)
    seconds = time.monotonic() - t0
    out, err = stdout.release(thread.ident), stderr.release(thread.ident)
    if reason is not None:
        what = "timed out" if reason == "TIMEOUT" else "was stopped"
        note = f"The job run {what}; the script was interrupted."
        if thread.is_alive():
            note += (f" It had not returned to Python after {STOP_GRACE_SECONDS:g} s and was left to end on "
                     "its own.")
        return ScriptResult(reason, None, out, _join(err, note), seconds)
    exc = outcome.get("exc")
    if exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0)):
        return ScriptResult("SUCCEEDED", None, out, err, seconds)
    err = _join(err, _format_traceback(exc, filename))
    return ScriptResult("FAILED", error_message(exc), out, err, seconds)


def error_message(exc: BaseException) -> str:
    """A failed run's ErrorMessage as Glue shows it: the exception's type and the first line of its
    message, e.g. ``"NameError: name 'datetime' is not defined"`` (the full text and traceback are in the
    error log)."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    if isinstance(exc, SyntaxError) and exc.msg:
        first = f"{exc.msg} ({os.path.basename(exc.filename or '')}, line {exc.lineno})"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _format_traceback(exc: BaseException, filename: str) -> str:
    """The traceback from the script's first frame on (the runner's own frames left out)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def _join(text: str, more: str) -> str:
    if not text:
        return more
    return text + ("" if text.endswith("\n") else "\n") + more


def _cancel_spark_jobs(sc, group: str) -> None:
    """Cancel the run's Spark jobs (by job group and by job tag, in case the script set its own group)."""
    with contextlib.suppress(Exception):
        sc.cancelJobGroup(group)
    with contextlib.suppress(Exception):
        sc.cancelJobsWithTag(group)


class _ScriptControl:
    """Interrupts a script's thread at most once, and never after the script has ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = True
        self._sent = False
        self.thread_id: int | None = None

    def interrupt(self) -> bool:
        """Raise ScriptInterrupted in the script's thread; False if the script has already ended."""
        with self._lock:
            if not self._running or self.thread_id is None:
                return False
            if not self._sent:
                self._sent = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread_id),
                                                           ctypes.py_object(ScriptInterrupted))
            return True

    def finish(self) -> None:
        """Called by the script's thread when the script is over: no interrupt may arrive after this."""
        with self._lock:
            if self._running and self._sent and self.thread_id is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread_id), None)  # drop it
            self._running = False


class _ThreadCapture:
    """Stands in for ``sys.stdout`` or ``sys.stderr`` during a run: writes from the captured threads are kept,
    every other thread's writes go to the stream it replaced, untouched."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self._buffers: dict[int, io.StringIO] = {}

    def capture(self, ident: int) -> None:
        self._buffers[ident] = io.StringIO()

    def release(self, ident: int | None) -> str:
        """Stop capturing ``ident`` and return what it wrote (its later writes go to the original stream)."""
        buffer = self._buffers.pop(ident, None)
        return buffer.getvalue() if buffer is not None else ""

    def write(self, text: str) -> int:
        buffer = self._buffers.get(threading.get_ident())
        if buffer is None:
            return self.stream.write(text)
        return buffer.write(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if threading.get_ident() not in self._buffers:
            self.stream.flush()

    def __getattr__(self, name: str):  # encoding, isatty, fileno, ... of the real stream
        return getattr(self.stream, name)


@contextlib.contextmanager
def _shared_spark_context():
    """While a script runs: ``SparkContext()`` returns the running context instead of raising, and
    ``SparkContext.stop`` / ``SparkSession.stop`` do nothing. Restored afterwards."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    saved = [(SparkContext, name, SparkContext.__dict__.get(name))
             for name in ("__new__", "__init__", "stop")]
    saved.append((SparkSession, "stop", SparkSession.__dict__.get("stop")))
    original_init = SparkContext.__init__

    def new(cls, *args, **kwargs):
        active = SparkContext._active_spark_context
        return active if active is not None else object.__new__(cls)

    def init(self, *args, **kwargs):
        if self is SparkContext._active_spark_context and getattr(self, "_jsc", None) is not None:
            return  # the running context, already initialised
        original_init(self, *args, **kwargs)

    def keep_running(self) -> None:
        """Does nothing during a Glue job run: the lab's Spark outlives the job."""

    SparkContext.__new__ = staticmethod(new)
    SparkContext.__init__ = init
    SparkContext.stop = keep_running
    SparkSession.stop = keep_running
    try:
        yield
    finally:
        for owner, name, value in saved:
            if value is None:
                with contextlib.suppress(AttributeError):
                    delattr(owner, name)
            else:
                setattr(owner, name, value)
