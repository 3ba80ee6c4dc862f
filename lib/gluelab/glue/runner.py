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
* A script cannot break the notebook it runs in (:func:`_isolated`): ``sys.exit(n)`` and ``os._exit(n)`` in the
  script's thread end the script, not the process (0 or None: SUCCEEDED, anything else FAILED, as on Glue where
  the driver's exit code decides); its working directory, ``os.environ``, ``sys.argv``, ``sys.path`` and the
  modules it imported from outside the installed packages (its own helpers) are put back when it ends. What
  stays process-wide: the SparkSession's settings, signal handlers, ``os.kill``/``os.abort``, and threads the
  script starts itself.
* The script runs as ``__main__`` in a fresh namespace, in a thread of its own, with its own Spark job group
  (and job tag) named by the run id. stdout/stderr are captured per thread by a proxy installed on
  ``sys.stdout`` / ``sys.stderr`` during the run: other threads' writes pass through untouched, and threads
  the script starts itself are not captured.
* Timeout and BatchStopJobRun cancel the run's Spark jobs and raise an exception in the script's thread.
  Python delivers it only when that thread runs Python code again: a script blocked in a long C call
  (``time.sleep``, a socket read that is not a Spark job) stops when the call returns; a script that catches
  ``BaseException`` can swallow it. After ``STOP_GRACE_SECONDS`` the run ends TIMEOUT or STOPPED anyway and
  the next run may start; the abandoned thread finishes on its own, its later output is not captured.
* A stop or Timeout that arrives while a Spark write is committing its output rolls that commit back
  (``gluelab.s3.RollbackCommitter``, told through ``gluelab.s3.RunControl``), and the run is not finished
  while a commit is still moving files, grace period or not: once a run is STOPPED or TIMEOUT nothing more of
  its output appears, and the next run cannot overlap its commit. Why roll back rather than let the commit
  finish: on AWS a stopped run never reaches ``job.commit()``, so its bookmark stays where it was and the next
  run processes the same input again; output kept from the stopped run would then be written twice. Rolling
  back keeps the output and the bookmark in step, and a stop does not wait for a large commit. (On AWS the
  cluster is torn down mid-commit and part of the files may stay; locally nothing half-written is kept.)
  Output that a write had fully committed before the stop stays, as on AWS.
"""
from __future__ import annotations

import builtins
import contextlib
import ctypes
import io
import linecache
import os
import sys
import sysconfig
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
#: Keep a script's exit, working directory, environment, sys.path and own modules out of this process
#: (:func:`_isolated`). The benchmark switches it off to measure what it costs; nothing else should.
ISOLATE_SCRIPTS = True

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
        _SCRIPT_THREAD.active = True
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
    sys.stdout, sys.stderr = stdout, stderr
    reason, abandon_at = None, None
    runs = _run_control(sc)
    try:
        with _shared_spark_context(), (_isolated(argv) if ISOLATE_SCRIPTS else _argv_only(argv)):
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
                        _cancel_output(runs, group)
                        _cancel_spark_jobs(sc, group)
                        abandon_at = time.monotonic() + STOP_GRACE_SECONDS
                elif time.monotonic() >= abandon_at and not _committing(runs, group):
                    break  # the script does not return to Python: finish the run without it
    finally:
        if not thread.is_alive():
            _forget(runs, group)
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
    if isinstance(exc, SystemExit):  # Python prints a string code to stderr, as the process would
        err = _join(err, str(exc.code)) if not isinstance(exc.code, int) else err
    else:
        err = _join(err, _format_traceback(exc, filename))
    return ScriptResult("FAILED", error_message(exc), out, err, seconds)


#: Java's class for an exception raised in a Python worker (a UDF, ``Map.apply``'s function, ...).
_PYTHON_WORKER_EXCEPTION = "org.apache.spark.api.python.PythonException"


def error_message(exc: BaseException) -> str:
    """A failed run's ErrorMessage as Glue shows it, naming the root cause.

    * a Python exception: its type and the first line of its message, e.g.
      ``"NameError: name 'datetime' is not defined"`` (the full text and traceback are in the error log);
    * a Java exception through Py4J: Py4J's call and the innermost Java cause's message, as Glue shows them,
      e.g. ``"An error occurred while calling o75.parquet. S3 request PUT s3://lake/out/part-0 failed: HTTP
      503 SlowDown ..."``, never only ``Py4JJavaError: An error occurred while calling o75.parquet.``;
    * an exception in a Python worker (a UDF or a transform's function), however Spark wrapped it: the Python
      exception itself, e.g. ``"ZeroDivisionError: division by zero"``;
    * ``sys.exit(n)`` / ``os._exit(n)``: ``"Command failed with exit code n"`` (Glue's words); ``sys.exit("text")``:
      the text and exit code 1.
    """
    if isinstance(exc, SystemExit):
        if isinstance(exc.code, int):
            return f"Command failed with exit code {exc.code}"
        return f"{exc.code} (exit code 1)"
    worker = _python_worker_error(exc)
    if worker:
        return worker
    java = getattr(exc, "java_exception", None)
    if java is not None:  # py4j.protocol.Py4JJavaError
        call = (getattr(exc, "errmsg", "") or "").strip()
        root = _java_root_message(java)
        return f"{call} {root}".strip() if root else _first_line(call) or type(exc).__name__
    first = _first_line(str(exc))
    if isinstance(exc, SyntaxError) and exc.msg:
        first = f"{exc.msg} ({os.path.basename(exc.filename or '')}, line {exc.lineno})"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


def _java_causes(java):
    """The Java exception and its causes, outermost first."""
    seen = 0
    while java is not None and seen < 50:
        yield java
        seen += 1
        try:
            cause = java.getCause()
        except Exception:  # the JVM is gone, or not a Throwable
            return
        if cause is None or cause.equals(java):
            return
        java = cause


def _python_worker_error(exc: BaseException) -> str | None:
    """The Python exception behind a Python worker failure (its traceback's last line), if that is what
    ``exc`` is or wraps."""
    if type(exc).__name__ == "PythonException":  # pyspark's captured PythonException
        return _last_line(str(exc)) or None
    java = getattr(exc, "java_exception", None) or getattr(exc, "_origin", None)
    with contextlib.suppress(Exception):
        for cause in _java_causes(java):
            if cause.getClass().getName() == _PYTHON_WORKER_EXCEPTION:
                return _last_line(str(cause.getMessage() or "")) or None
    return None


def _java_root_message(java) -> str:
    """The innermost cause's message (first line), or its class's simple name when it has none."""
    try:
        root = list(_java_causes(java))[-1]
        message = _first_line(str(root.getMessage() or ""))
        return message or root.getClass().getSimpleName()
    except Exception:
        return ""


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


def _run_control(sc):
    """The JVM's ``gluelab.s3.RunControl`` (the data plane's register of stopped runs), or None without it."""
    with contextlib.suppress(Exception):
        control = sc._jvm.gluelab.s3.RunControl
        control.isCancelled("")  # a JavaClass answers; a missing class is a JavaPackage, whose call fails
        return control
    return None


def _cancel_output(runs, group: str) -> None:
    """Tell the run's output commits to roll back (RollbackCommitter checks before each step)."""
    if runs is not None:
        with contextlib.suppress(Exception):
            runs.cancel(group)


def _committing(runs, group: str) -> bool:
    """True while a commit of the run's output is moving or rolling back files."""
    if runs is None:
        return False
    try:
        return bool(runs.committing(group))
    except Exception:
        return False


def _forget(runs, group: str) -> None:
    if runs is not None:
        with contextlib.suppress(Exception):
            runs.forget(group)


def cancelled(spark, group: str) -> bool:
    """Whether the run ``group``'s output commits have been told to roll back (it was stopped or timed out
    and has not finished yet)."""
    runs = _run_control(spark.sparkContext)
    try:
        return bool(runs is not None and runs.isCancelled(group))
    except Exception:
        return False


_SCRIPT_THREAD = threading.local()  # .active is True in a script's own thread


def _script_exit(original):
    def _exit(code=0):
        """``os._exit`` while a job script runs: in the script's thread it ends the script (as
        ``sys.exit(code)``), not the process the notebook lives in."""
        if getattr(_SCRIPT_THREAD, "active", False):
            raise SystemExit(code)
        original(code)
    return _exit


def _library_roots() -> tuple[str, ...]:
    """Where installed code lives: modules from here are libraries, not a script's own."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(__file__))}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            roots.add(sysconfig.get_paths()[name])
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


@contextlib.contextmanager
def _isolated(argv: list[str]):
    """While a script runs: ``sys.argv`` is the job's, ``os._exit`` ends only the script's thread; afterwards
    the working directory, ``os.environ``, ``sys.argv``, ``sys.path`` are put back and the modules the script
    imported from its own files (not from the installed packages or gluelab) are forgotten, so the next run
    imports them afresh and the notebook never sees them."""
    saved_argv, saved_path, saved_env = sys.argv, list(sys.path), dict(os.environ)
    try:
        saved_cwd = os.getcwd()
    except OSError:
        saved_cwd = None
    before = set(sys.modules)
    saved_exit = os._exit
    sys.argv = list(argv)
    os._exit = _script_exit(saved_exit)
    try:
        yield
    finally:
        os._exit = saved_exit
        sys.argv = saved_argv
        sys.path[:] = saved_path
        if saved_cwd is not None:
            with contextlib.suppress(OSError):
                if os.getcwd() != saved_cwd:
                    os.chdir(saved_cwd)
        for key in [k for k in os.environ if k not in saved_env]:
            del os.environ[key]
        for key, value in saved_env.items():
            if os.environ.get(key) != value:
                os.environ[key] = value
        _forget_script_modules(before)


@contextlib.contextmanager
def _argv_only(argv: list[str]):
    """``sys.argv`` set for the script and put back; nothing else isolated (see ISOLATE_SCRIPTS)."""
    saved, sys.argv = sys.argv, list(argv)
    try:
        yield
    finally:
        sys.argv = saved


def _forget_script_modules(before: set[str]) -> None:
    roots = _library_roots()
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if name.partition(".")[0] in before or not path or not path.endswith(".py"):
            continue  # a library's submodule, a built-in or an extension (which cannot be loaded twice)
        if not os.path.realpath(path).startswith(roots):
            sys.modules.pop(name, None)


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
