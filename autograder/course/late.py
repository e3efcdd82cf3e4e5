"""Late work: nbgrader's ``timestamp.txt`` against a due date per assignment.

The course's grading configuration (``--config FILE``, else ``backprop-grader.toml`` or
``.json`` in the current folder or next to ``submitted/``)::

    [late]
    timezone = "Europe/Paris"   # of the due dates, and of timestamps written without a zone
    grace_minutes = 15          # this late still counts as on time
    penalty_percent = 10        # of the raw score, per started unit of lateness
    per = "day"                 # "day" or "hour"
    max_penalty_percent = 50    # never more than this

    [due]
    ch01_gates = "2026-11-30 23:59"
    ch02_logistic = "2026-12-07 23:59:59"

A submission more than the grace period late loses ``penalty_percent`` of its raw score
for each started day (or hour) after the due date, up to ``max_penalty_percent``. An
assignment without a due date is never late. A submission whose timestamp is missing or
cannot be read gets no penalty and the status ``no timestamp`` (nothing is guessed).

Timestamps are read as nbgrader writes them (``2026-11-30 14:03:12.123456 UTC``, its
``timestamp_format`` ``%Y-%m-%d %H:%M:%S.%f %Z``); the zone may be a name (``UTC``,
``Europe/Paris``, ``CET``) or an offset (``+0100``, ``+01:00``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from pathlib import Path

CONFIG_NAMES = ("backprop-grader.toml", "backprop-grader.json")
STAMP = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
                   r"\s*(\S+)?\s*$")
UNITS = {"day": 86400, "hour": 3600}


class ConfigError(ValueError):
    """The grading configuration is malformed; the message says where."""


@dataclasses.dataclass(frozen=True)
class Policy:
    """Due dates (aware datetimes, by assignment) and the penalty rule."""
    due: dict
    timezone: str = "UTC"
    grace_minutes: float = 0
    penalty_percent: float = 0
    per: str = "day"
    max_penalty_percent: float = 100

    def fingerprint(self, assignment: str) -> str:
        """What of the policy matters to one assignment's grade (for --resume)."""
        due = self.due.get(assignment)
        return json.dumps([due.isoformat() if due else None, self.grace_minutes,
                           self.penalty_percent, self.per, self.max_penalty_percent])


def zone(name: str) -> dt.tzinfo:
    """A time zone from a name or an offset; raises ValueError."""
    if name.upper() in ("UTC", "GMT", "Z"):
        return dt.timezone.utc
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        import zoneinfo
        return zoneinfo.ZoneInfo(name)
    except Exception:
        raise ValueError("unknown time zone %r" % name) from None


def parse_time(text: str, default_zone: dt.tzinfo) -> tuple[dt.datetime, bool]:
    """(aware datetime, whether the text named its zone); raises ValueError."""
    m = STAMP.match(text)
    if not m:
        raise ValueError("not a date and time: %r" % text[:60])
    clock = m.group(2)
    fmt = {5: "%H:%M", 8: "%H:%M:%S"}.get(len(clock), "%H:%M:%S.%f")
    naive = dt.datetime.strptime("%s %s" % (m.group(1), clock), "%Y-%m-%d " + fmt)
    if m.group(3):
        return naive.replace(tzinfo=zone(m.group(3))), True
    return naive.replace(tzinfo=default_zone), False


def find_config(explicit: str | None, submitted: str | Path) -> Path | None:
    """The configuration file to use, or None."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError("no such configuration file: %s" % path)
        return path
    start = Path(submitted).resolve()
    for folder in (Path.cwd(), start.parent if start.is_dir() else start.parent.parent):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def load_policy(path: Path | None) -> Policy:
    """The late-work policy of a configuration file (None: nothing is ever late)."""
    if path is None:
        return Policy(due={})
    try:
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            import tomllib
            data = tomllib.loads(path.read_text(encoding="utf-8"))
    except ImportError:
        raise ConfigError("%s: TOML needs Python 3.11; use a .json file" % path) from None
    except ValueError as error:
        raise ConfigError("%s: %s" % (path, error)) from None
    late = data.get("late", {})
    try:
        tz = zone(str(late.get("timezone", "UTC")))
        due = {str(k): parse_time(str(v), tz)[0] for k, v in data.get("due", {}).items()}
        policy = Policy(due=due, timezone=str(late.get("timezone", "UTC")),
                        grace_minutes=float(late.get("grace_minutes", 0)),
                        penalty_percent=float(late.get("penalty_percent", 0)),
                        per=str(late.get("per", "day")),
                        max_penalty_percent=float(late.get("max_penalty_percent", 100)))
    except (ValueError, TypeError) as error:
        raise ConfigError("%s: %s" % (path, error)) from None
    if policy.per not in UNITS:
        raise ConfigError("%s: late.per must be \"day\" or \"hour\"" % path)
    return policy


def assess(policy: Policy, assignment: str, folder: Path | None,
           raw_score: float) -> tuple[float, dict | None, str | None, str]:
    """(final score, late record, status or None, note) of a graded submission.

    The late record (for results.json) has ``submitted``, ``due`` (ISO 8601),
    ``late_seconds``, ``penalty_percent`` and ``penalty_points``. The status is "late"
    when a penalty applies, "no timestamp" when the due date cannot be checked.
    """
    due = policy.due.get(assignment)
    if due is None or folder is None:
        return raw_score, None, None, ""
    stamp = folder / "timestamp.txt"
    if not stamp.is_file():
        return raw_score, None, "no timestamp", \
            "no timestamp.txt: lateness not checked, no penalty applied"
    try:
        text = stamp.read_text(encoding="utf-8", errors="replace")[:200]
        submitted, zoned = parse_time(text.strip(), zone(policy.timezone))
    except ValueError as error:
        return raw_score, None, "no timestamp", \
            "timestamp.txt cannot be read (%s): lateness not checked, no penalty" % error
    late_by = (submitted - due).total_seconds()
    record = {"submitted": submitted.isoformat(), "due": due.isoformat(),
              "late_seconds": max(0.0, round(late_by, 3)), "penalty_percent": 0.0,
              "penalty_points": 0.0}
    note = "" if zoned else "timestamp without a time zone, read in %s" % policy.timezone
    if late_by <= policy.grace_minutes * 60:
        return raw_score, record, None, note
    units = math.ceil(late_by / UNITS[policy.per])
    percent = min(policy.max_penalty_percent, units * policy.penalty_percent)
    points = round(raw_score * percent / 100, 4)
    record.update(penalty_percent=percent, penalty_points=points)
    words = "%d %s%s late: -%g%%" % (units, policy.per, "" if units == 1 else "s", percent)
    return round(raw_score - points, 4), record, "late", "; ".join(filter(None, [words, note]))
