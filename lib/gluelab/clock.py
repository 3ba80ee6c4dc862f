"""A clock the lab owns, so schedules can be taught without waiting for them.

AWS runs a crawler whose ``Schedule`` is ``cron(...)``, or a SCHEDULED trigger, at every minute the expression
names (UTC). moto stores the schedule and never runs it. :class:`Clock` keeps lab time: ``advance(timedelta)``
moves it forward and :meth:`Clock.run_due` starts everything whose schedule fell due since the last check,
exactly as if that time had passed. What "everything" is comes from the clock's sources: on the local backend
the local endpoint's scheduler (crawlers, triggers, ...); on AWS, where AWS fires schedules in real time, a
source that starts due crawlers over boto3 so a lesson's code path is the same.

Cron expressions follow AWS's six fields, ``Minutes Hours Day-of-month Month Day-of-week Year``, with ``*``,
``?`` (no specific value), ranges ``a-b``, lists ``a,b``, steps ``*/n`` or ``a/n``, ``L`` (last day of the
month in day-of-month; ``nL`` = last weekday n of the month in day-of-week), month names JAN-DEC and
weekday names SUN-SAT (day-of-week 1 = Sunday ... 7 = Saturday).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

_MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                       "NOV", "DEC"), start=1)}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}


def _values(field: str, low: int, high: int, names: dict) -> set[int]:
    out: set[int] = set()
    for part in field.upper().split(","):
        for name, number in names.items():
            part = part.replace(name, str(number))
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            start, end = (int(x) for x in part.split("-", 1))
        else:
            start = int(part)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise ValueError(f"cron field {field!r}: {part} is outside {low}-{high}")
        out.update(range(start, end + 1, step))
    return out


@dataclass(frozen=True)
class Cron:
    """A parsed AWS cron expression; :meth:`matches` tests one minute (UTC)."""
    expression: str

    def __post_init__(self):
        text = self.expression.strip()
        if text.startswith("cron(") and text.endswith(")"):
            text = text[5:-1]
        fields = text.split()
        if len(fields) != 6:
            raise ValueError(f"AWS cron needs 6 fields (minutes hours day-of-month month day-of-week year), "
                             f"got {self.expression!r}")
        minute, hour, dom, month, dow, year = fields
        if dom != "?" and dow != "?" or (dom == "?" and dow == "?"):
            raise ValueError(f"{self.expression!r}: exactly one of day-of-month and day-of-week must be '?'")
        object.__setattr__(self, "_minutes", _values(minute, 0, 59, {}))
        object.__setattr__(self, "_hours", _values(hour, 0, 23, {}))
        object.__setattr__(self, "_months", _values(month, 1, 12, _MONTHS))
        object.__setattr__(self, "_years", None if year in ("*", "?") else _values(year, 1970, 2199, {}))
        object.__setattr__(self, "_dom", dom.upper())
        object.__setattr__(self, "_dow", dow.upper())

    def day_matches(self, day: date) -> bool:
        if day.month not in self._months or (self._years is not None and day.year not in self._years):
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        weekday = (day.weekday() + 1) % 7 + 1   # AWS: 1 = Sunday ... 7 = Saturday
        if self._dom != "?":
            if self._dom == "L":
                return day.day == last
            return day.day in _values(self._dom, 1, 31, {})
        if self._dow.endswith("L") and self._dow != "L":
            target = _values(self._dow[:-1], 1, 7, _DAYS)
            return weekday in target and day.day + 7 > last
        if self._dow == "L":
            return weekday == 7
        return weekday in _values(self._dow, 1, 7, _DAYS)

    def matches(self, moment: datetime) -> bool:
        return (moment.minute in self._minutes and moment.hour in self._hours
                and self.day_matches(moment.date()))

    def fire_times(self, after: datetime, until: datetime) -> list[datetime]:
        """Every minute in ``(after, until]`` the expression names."""
        times = []
        day = after.date()
        while day <= until.date():
            if self.day_matches(day):
                for hour in sorted(self._hours):
                    for minute in sorted(self._minutes):
                        t = datetime(day.year, day.month, day.day, hour, minute, tzinfo=after.tzinfo)
                        if after < t <= until:
                            times.append(t)
            day += timedelta(days=1)
        return times


class Clock:
    """Lab time (UTC). Starts at ``start`` (default: now, to the minute) and only moves when advanced."""

    def __init__(self, start: datetime | None = None):
        start = start or datetime.now(timezone.utc).replace(second=0, microsecond=0)
        self._now = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
        self._checked = self._now
        self._sources: list = []

    def add_source(self, source) -> None:
        """Fire ``source(after, until) -> [names started]`` from :meth:`run_due` (idempotent)."""
        if source not in self._sources:
            self._sources.append(source)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move lab time forward by ``delta`` (nothing runs until :meth:`run_due`)."""
        if delta < timedelta(0):
            raise ValueError("the lab's clock only moves forward")
        self._now += delta
        return self._now

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` on lab time: the clock moves ``seconds`` forward at once (retry waits, Wait states and
        back-offs pass this way, so a lesson never sleeps for real)."""
        self.advance(timedelta(seconds=seconds))

    def run_due(self, target=None) -> list[str]:
        """Start everything whose schedule fell due since the last call; return the names started.

        The clock's sources decide what runs (a lab's clock has its backend's). A clock without sources starts
        the scheduled crawlers of ``target`` (a Lab, a boto3 Glue client, or moto's GlueBackend). A crawler still
        running when it falls due is skipped, as on AWS; several due times in the window start it once."""
        after, self._checked = self._checked, self._now
        if self._sources:
            return [name for source in list(self._sources) for name in source(after, self._now)]
        return crawler_source(target)(after, self._now) if target is not None else []


def crawler_source(target, owns=lambda name: True):
    """A clock source that starts ``target``'s crawlers whose cron schedule fell due and whose name ``owns``
    accepts (see :meth:`Clock.run_due` for ``target``)."""
    def start_due(after: datetime, until: datetime) -> list[str]:
        started = []
        for name, expression, start in _scheduled_crawlers(target):
            if not owns(name):
                continue
            try:
                due = Cron(expression).fire_times(after, until)
            except ValueError:
                continue
            if due and start():
                started.append(name)
        return started
    return start_due


def _scheduled_crawlers(target):
    """``(name, schedule expression, start)`` for every crawler with a schedule; start() -> started?"""
    client = target.client("glue") if hasattr(target, "client") else target
    if hasattr(client, "crawlers"):  # moto's GlueBackend
        out = []
        for crawler in list(client.crawlers.values()):
            if crawler.schedule:
                def start(c=crawler):
                    try:
                        c.backend.start_crawler(c.name)
                        return True
                    except Exception:
                        return False
                out.append((crawler.name, crawler.schedule, start))
        return out
    out = []
    for page in client.get_paginator("get_crawlers").paginate():
        for crawler in page["Crawlers"]:
            expression = (crawler.get("Schedule") or {}).get("ScheduleExpression")
            if expression:
                def start(n=crawler["Name"]):
                    try:
                        client.start_crawler(Name=n)
                        return True
                    except client.exceptions.CrawlerRunningException:
                        return False
                out.append((crawler["Name"], expression, start))
    return out


def trigger_source(glue, owns=lambda name: True):
    """A clock source for the aws backend's code path: every activated SCHEDULED trigger ``owns(name)`` accepts
    whose cron schedule fell due is fired as AWS would fire it: one in a workflow starts a workflow run
    (``start_workflow_run`` runs the workflow's start trigger), one outside a workflow starts its actions
    (jobs with the action's arguments, crawlers). Returns the names of the triggers fired."""
    def fire_due(after: datetime, until: datetime) -> list[str]:
        fired = []
        for page in glue.get_paginator("get_triggers").paginate():
            for trigger in page["Triggers"]:
                if (trigger.get("Type") != "SCHEDULED" or trigger.get("State") != "ACTIVATED"
                        or not owns(trigger["Name"])):
                    continue
                try:
                    due = Cron(trigger.get("Schedule", "")).fire_times(after, until)
                except ValueError:
                    continue
                if not due:
                    continue
                if trigger.get("WorkflowName"):
                    glue.start_workflow_run(Name=trigger["WorkflowName"])
                else:
                    for action in trigger.get("Actions", []):
                        if action.get("JobName"):
                            glue.start_job_run(JobName=action["JobName"], Arguments=action.get("Arguments") or {})
                        elif action.get("CrawlerName"):
                            glue.start_crawler(Name=action["CrawlerName"])
                fired.append(trigger["Name"])
        return fired
    return fire_due
