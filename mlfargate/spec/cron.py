"""AWS six-field cron expressions, as Application Auto Scaling scheduled actions take them.

``cron(minutes hours day-of-month month day-of-week year)``; exactly one of the two day fields is
``?``; day-of-week counts 1-7 from SUN; ``L``, ``W`` and ``#`` are supported as AWS documents them.
Source: https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html
and https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_WRAPPED = re.compile(r"^cron\((?P<body>[^()]*)\)$")


class CronError(ValueError):
    """A cron expression AWS would reject; the message says what is wrong and what is allowed."""


@dataclass(frozen=True)
class Cron:
    """A parsed expression. Sets are the allowed values; special day rules are kept apart."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int] | None  # None: every year
    dom: frozenset[int] | None  # None: '?'
    dom_last: bool = False  # 'L' in day-of-month
    dom_weekday: int | None = None  # 'nW'
    dow: frozenset[int] | None = None  # None: '?'; 1=SUN..7=SAT
    dow_last: int | None = None  # 'nL': last such weekday of the month
    dow_nth: tuple[int, int] | None = None  # 'n#k': k-th such weekday

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        aws_dow = (day.isoweekday() % 7) + 1  # Mon=2 ... Sun=1
        if self.dow is None and self.dow_last is None and self.dow_nth is None:
            if self.dom_last:
                return day.day == last
            if self.dom_weekday is not None:
                return day.day == _nearest_weekday(day.year, day.month, self.dom_weekday)
            return self.dom is not None and day.day in self.dom
        if self.dow_last is not None:
            return aws_dow == self.dow_last and day.day + 7 > last
        if self.dow_nth is not None:
            weekday, nth = self.dow_nth
            return aws_dow == weekday and (day.day - 1) // 7 + 1 == nth
        return self.dow is not None and aws_dow in self.dow

    def fire_times(self, tz: str, start: datetime, end: datetime) -> list[datetime]:
        """Every firing in [start, end) (aware datetimes), evaluated in ``tz``, returned in UTC."""
        zone = ZoneInfo(tz)
        first = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date() + timedelta(days=1)
        out: list[datetime] = []
        day = first
        while day <= last:
            if self.matches_day(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                        at = local.astimezone(UTC)
                        if start <= at < end:
                            out.append(at)
            day += timedelta(days=1)
        return sorted(set(out))


def _nearest_weekday(year: int, month: int, dom: int) -> int:
    last = calendar.monthrange(year, month)[1]
    dom = min(dom, last)
    weekday = date(year, month, dom).weekday()  # Mon=0
    if weekday == 5:  # Saturday -> Friday, unless that leaves the month
        return dom - 1 if dom > 1 else dom + 2
    if weekday == 6:  # Sunday -> Monday, unless that leaves the month
        return dom + 1 if dom < last else dom - 2
    return dom


def _values(field: str, name: str, lo: int, hi: int, names: dict[str, int] | None = None) -> frozenset[int]:
    out: set[int] = set()
    for part in field.split(","):
        step = 1
        stepped = "/" in part
        if stepped:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"{name} field: step '{step_text}' must be a whole number >= 1")
            step = int(step_text)
        if part == "*":
            start, stop = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, stop = _one(a, name, lo, hi, names), _one(b, name, lo, hi, names)
            if start > stop:
                raise CronError(f"{name} field: range '{part}' runs backwards")
        else:
            start = _one(part, name, lo, hi, names)
            stop = hi if stepped else start
        out.update(range(start, stop + 1, step))
    return frozenset(out)


def _one(token: str, name: str, lo: int, hi: int, names: dict[str, int] | None) -> int:
    if names and token.upper() in names:
        return names[token.upper()]
    if not token.isdigit():
        allowed = f"{lo}-{hi}" + (f" or {'/'.join(names)}" if names else "")
        raise CronError(f"{name} field: '{token}' is not a value; allowed {allowed}")
    value = int(token)
    if not lo <= value <= hi:
        raise CronError(f"{name} field: {value} is outside {lo}-{hi}")
    return value


def parse(text: str) -> Cron:
    """Parse ``cron(...)``; raise :class:`CronError` naming the field that is wrong."""
    odd = next((c for c in text if not c.isprintable() or (c.isspace() and c != " ")), None)
    if odd is not None:  # the expression goes to AWS as written: a tab or a newline is not a separator
        raise CronError(f"contains {odd!r}; separate the six fields with spaces, on one line")
    match = _WRAPPED.match(text)
    if not match:
        raise CronError("must look like cron(minutes hours day-of-month month day-of-week year)")
    fields = match.group("body").split()
    if len(fields) != 6:
        raise CronError(
            f"has {len(fields)} fields; AWS cron takes six: minutes hours day-of-month month day-of-week year"
        )
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise CronError("exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?'")
    kwargs: dict[str, object] = {}
    if dom == "?":
        kwargs["dom"] = None
        last_match = re.fullmatch(r"([1-7]|[A-Za-z]{3})L", dow)
        nth_match = re.fullmatch(r"([1-7]|[A-Za-z]{3})#([1-5])", dow)
        if dow == "L":
            kwargs["dow_last"] = 7
        elif last_match:
            kwargs["dow_last"] = _one(last_match.group(1), "day-of-week", 1, 7, DAYS)
        elif nth_match:
            kwargs["dow_nth"] = (_one(nth_match.group(1), "day-of-week", 1, 7, DAYS), int(nth_match.group(2)))
        else:
            kwargs["dow"] = _values(dow, "day-of-week", 1, 7, DAYS)
    else:
        if dom == "L":
            kwargs.update(dom=frozenset(), dom_last=True)
        elif re.fullmatch(r"\d{1,2}W", dom):
            kwargs.update(dom=frozenset(), dom_weekday=_one(dom[:-1], "day-of-month", 1, 31, None))
        else:
            kwargs["dom"] = _values(dom, "day-of-month", 1, 31)
    return Cron(
        text=text,
        minutes=_values(minute, "minutes", 0, 59),
        hours=_values(hour, "hours", 0, 23),
        months=_values(month, "month", 1, 12, MONTHS),
        years=None if year == "*" else _values(year, "year", 1970, 2199),
        **kwargs,  # type: ignore[arg-type]
    )
