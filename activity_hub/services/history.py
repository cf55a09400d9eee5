"""History queries: the filter a view is seen through, one page of the table, one user's activity by id."""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import false, func, select

from ..extensions import db
from ..models import Activity, ImportBatch, SyncRun
from ..models.integration import ACTIVE_RUN_STATUSES
from .rows import normalise_service

PER_PAGE = 50
MAX_TEXT = 100
MAX_SERVICES = 50
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)
EDITABLE_SOURCES = ("csv", "manual")
SOURCE_LABELS = {
    "github": "GitHub", "wakatime": "WakaTime", "codewars": "Codewars", "exercism": "Exercism",
    "csv": "CSV import", "manual": "Manual",
}


@dataclass(frozen=True)
class HistoryFilter:
    """What the person asked to see: services, an inclusive date range, title text, a page, hidden rows."""

    services: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    text: str = ""
    page: int = 1
    show_hidden: bool = False
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def narrowed(self) -> bool:
        """True when anything but the page narrows the rows."""
        return bool(self.services or self.start or self.end or self.text)

    def args(self, **changes) -> dict:
        """Query-string arguments for this filter (defaults left out), e.g. for `url_for`."""
        f = replace(self, **changes)
        out: dict = {}
        if f.services:
            out["service"] = list(f.services)
        if f.start:
            out["start"] = f.start.isoformat()
        if f.end:
            out["end"] = f.end.isoformat()
        if f.text:
            out["q"] = f.text
        if f.show_hidden:
            out["hidden"] = "1"
        if f.page > 1:
            out["page"] = str(f.page)
        return out

    def contains(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


def parse_filter(args: Mapping) -> HistoryFilter:
    """Read a filter from query arguments (a MultiDict or a dict of lists); never fails, explains what it ignored."""
    problems: list[str] = []
    raw_services = _getlist(args, "service")
    services = []
    for value in raw_services[:MAX_SERVICES]:
        for part in value.split(","):
            slug = normalise_service(part)
            if slug and slug not in services:
                services.append(slug)
    start = _parse_day(_first(args, "start"), "from", problems)
    end = _parse_day(_first(args, "end"), "to", problems)
    if start and end and start > end:
        start, end = end, start
        problems.append("The “from” date was after the “to” date, so the two were swapped.")
    text = " ".join(_first(args, "q").split())[:MAX_TEXT]
    page = _first(args, "page")
    page_number = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 10**7 else 1
    hidden = _first(args, "hidden") in ("1", "on", "true", "yes")
    return HistoryFilter(tuple(sorted(services)), start, end, text, page_number, hidden, tuple(problems))


def _getlist(args: Mapping, key: str) -> list[str]:
    if hasattr(args, "getlist"):
        return [v for v in args.getlist(key) if isinstance(v, str)]
    value = args.get(key)
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def _first(args: Mapping, key: str) -> str:
    values = _getlist(args, key)
    return values[0].strip() if values else ""


def _parse_day(value: str, label: str, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(f"The “{label}” date “{value[:20]}” is not a date written as YYYY-MM-DD, so it was ignored.")
        return None
    if not EARLIEST <= day <= LATEST:
        problems.append(f"The “{label}” date {value} is outside {EARLIEST.year}–{LATEST.year}, so it was ignored.")
        return None
    return day


def conditions(user_id: int, f: HistoryFilter, *, dates: bool = True, services: bool = True,
               include_hidden: bool | None = None) -> list:
    """SQL conditions for one user's rows under the filter; parts can be left out for summaries."""
    where = [Activity.user_id == user_id]
    if not (f.show_hidden if include_hidden is None else include_hidden):
        where.append(Activity.hidden == false())
    if services and f.services:
        where.append(Activity.service.in_(f.services))
    if dates and f.start:
        where.append(Activity.date >= f.start)
    if dates and f.end:
        where.append(Activity.date <= f.end)
    if f.text:
        where.append(Activity.title.icontains(f.text, autoescape=True))
    return where


@dataclass
class TablePage:
    rows: list
    total: int
    page: int
    pages: int
    per_page: int

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return min(self.page * self.per_page, self.total)


def table_page(user_id: int, f: HistoryFilter, per_page: int = PER_PAGE) -> TablePage:
    """The filtered rows, newest first, one page of them; a page past the end shows the last page."""
    where = conditions(user_id, f)
    total = db.session.scalar(select(func.count()).select_from(Activity).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(f.page, pages)
    rows = db.session.scalars(
        select(Activity).where(*where).order_by(Activity.date.desc(), Activity.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return TablePage(list(rows), total, page, pages, per_page)


def own_activity(user_id: int, activity_id: int) -> Activity | None:
    """The activity if it belongs to this user, else None (the caller answers 404)."""
    if not 0 < activity_id < 2**63:
        return None
    return db.session.scalar(select(Activity).where(Activity.id == activity_id, Activity.user_id == user_id))


def has_any_activity(user_id: int) -> bool:
    return db.session.scalar(select(Activity.id).where(Activity.user_id == user_id).limit(1)) is not None


def hidden_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Activity).where(Activity.user_id == user_id, Activity.hidden.is_(True))
    ) or 0


def live_state(user_id: int) -> tuple[list[str], str]:
    """What is running now (provider or file names) and a stamp that changes whenever a run or import ends."""
    running = db.session.execute(
        select(SyncRun.id, SyncRun.integration_id).where(
            SyncRun.user_id == user_id, SyncRun.status.in_(ACTIVE_RUN_STATUSES))
    ).all()
    labels = []
    if running:
        from ..models import Integration

        names = db.session.scalars(select(Integration.provider).where(
            Integration.id.in_({r.integration_id for r in running}), Integration.user_id == user_id))
        labels = [SOURCE_LABELS.get(n, n.title()) for n in names]
    importing = db.session.scalars(select(ImportBatch.filename).where(
        ImportBatch.user_id == user_id, ImportBatch.status.in_(("queued", "importing", "undoing")))).all()
    labels += [f"“{name}”" for name in importing]
    run_stamp = db.session.execute(select(func.count(), func.max(SyncRun.finished_at)).where(
        SyncRun.user_id == user_id, SyncRun.finished_at.is_not(None))).one()
    batch_stamp = db.session.execute(select(func.count(), func.max(ImportBatch.finished_at)).where(
        ImportBatch.user_id == user_id)).one()
    statuses = db.session.scalars(select(func.count()).select_from(ImportBatch).where(
        ImportBatch.user_id == user_id, ImportBatch.status == "undone")).one()
    stamp = f"{run_stamp[0]}.{_epoch(run_stamp[1])}.{batch_stamp[0]}.{_epoch(batch_stamp[1])}.{statuses}"
    return labels, stamp


def _epoch(value) -> int:
    return int(value.timestamp()) if value is not None else 0
