"""GitHub activity per local day, derived from the stored raw events.

Minutes heuristic (one Activity per day, `external_id = "github:<local date>"`):
  * only "work" events count for time: pushes, pull requests, reviews, issues, comments, releases,
    branches and tags, wiki edits, discussions, and event types GitHub adds later; stars, forks,
    membership and "made public" events do not;
  * the day's work events, in time order, form sessions: an event less than 90 minutes after the
    previous one continues the session, a longer gap starts a new one;
  * a session counts its span (first to last event) plus a 30 minute lead-in for the work that led up
    to its first event, so a lone push counts 30 minutes;
  * a day counts at most 10 hours.
Days are local days in the user's time zone. New events recompute only their days; a time zone change
recomputes every GitHub day.
"""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from ..extensions import db
from ..models import Activity, GitHubEvent, User
from ..providers.base import RawEvent
from .activities import CHUNK, WriteResult, dialect_insert, upsert

SESSION_GAP = timedelta(minutes=90)
LEAD_IN = timedelta(minutes=30)
DAY_CAP_MINUTES = 600
NOT_WORK = frozenset({"WatchEvent", "ForkEvent", "PublicEvent", "MemberEvent", "SponsorshipEvent"})
SOURCE = "github"
# (event type, label singular, plural) in the order titles list them
LABELS = (
    ("PushEvent", "push", "pushes"),
    ("PullRequestEvent", "pull request", "pull requests"),
    ("PullRequestReviewEvent", "review", "reviews"),
    ("PullRequestReviewCommentEvent", "review comment", "review comments"),
    ("IssuesEvent", "issue", "issues"),
    ("IssueCommentEvent", "comment", "comments"),
    ("CommitCommentEvent", "commit comment", "commit comments"),
    ("CreateEvent", "new branch or tag", "new branches or tags"),
    ("DeleteEvent", "deleted branch", "deleted branches"),
    ("ReleaseEvent", "release", "releases"),
    ("GollumEvent", "wiki edit", "wiki edits"),
    ("DiscussionEvent", "discussion", "discussions"),
    ("WatchEvent", "star", "stars"),
    ("ForkEvent", "fork", "forks"),
)
MAX_REPOS_IN_TITLE = 3


def day_minutes(instants: list[datetime]) -> int:
    """Minutes for one day's work-event instants by the session heuristic above."""
    if not instants:
        return 0
    ordered = sorted(instants)
    total = timedelta()
    start = prev = ordered[0]
    for instant in ordered[1:]:
        if instant - prev >= SESSION_GAP:
            total += prev - start + LEAD_IN
            start = instant
        prev = instant
    total += prev - start + LEAD_IN
    return min(DAY_CAP_MINUTES, int(total.total_seconds() // 60))


def day_title(events: list[GitHubEvent], commits: int | None = None) -> str:
    """"3 pushes (7 commits), 1 pull request in owner/repo, owner/other" (busiest repositories first).

    The commit count appears only when every push carried one (older payloads and GitHub Enterprise).
    """
    counts = Counter(e.type for e in events)
    parts = []
    for kind, one, many in LABELS:
        if counts[kind]:
            parts.append(f"{counts[kind]} {one if counts[kind] == 1 else many}")
            if kind == "PushEvent" and commits is not None:
                parts[-1] += f" ({commits} commit{'s' if commits != 1 else ''})"
    known = {kind for kind, _, _ in LABELS}
    others = sum(n for kind, n in counts.items() if kind not in known)
    if others:
        parts.append(f"{others} other event{'s' if others != 1 else ''}")
    repos = [name for name, _ in Counter(e.repo_name for e in events if e.repo_name).most_common()]
    where = ", ".join(repos[:MAX_REPOS_IN_TITLE])
    if len(repos) > MAX_REPOS_IN_TITLE:
        where += f" and {len(repos) - MAX_REPOS_IN_TITLE} more"
    title = ", ".join(parts) + (f" in {where}" if where else "")
    return title[:255]


def store_events(user_id: int, events: list[RawEvent]) -> list[datetime]:
    """Store raw events not seen before; returns the `created_at` of the new ones."""
    if not events:
        return []
    table = GitHubEvent.__table__
    rows = [
        {"user_id": user_id, "event_id": e.event_id, "type": e.type, "repo_name": e.repo_name,
         "repo_id": e.repo_id, "created_at": e.created_at, "payload": e.payload}
        for e in events
    ]
    stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=["user_id", "event_id"]).returning(
        table.c.created_at
    )
    created = [row.created_at for row in db.session.execute(stmt, rows)]
    db.session.commit()
    return created


def recompute_days(user: User, days: set[date], before_write=None) -> WriteResult:
    """Rebuild the Activity of each given local day from the stored events (deleting emptied days).

    The events of all those days are read in one query (from the first day's start to the last day's
    end) and grouped by local day here. `before_write`, when given, starts every write transaction.
    """
    hold = before_write or (lambda: None)
    tz = ZoneInfo(user.timezone or "UTC")
    by_day = _events_by_day(user.id, days, tz)
    rows, empty = [], []
    for day in sorted(days):
        row = day_row(user.id, day, by_day.get(day, []))
        (rows.append(row) if row else empty.append(f"github:{day.isoformat()}"))
    result = WriteResult()
    for start in range(0, len(rows), CHUNK):  # one transaction per chunk
        hold()
        result += upsert(rows[start:start + CHUNK])
    result.days = {row["date"] for row in rows}
    if empty:
        hold()
        db.session.execute(delete(Activity).where(
            Activity.user_id == user.id, Activity.source == SOURCE, Activity.external_id.in_(empty)
        ))
        db.session.commit()
    return result


def _events_by_day(user_id: int, days: set[date], tz: ZoneInfo) -> dict[date, list]:
    """The user's events on the given local days, per day, each day's in time order."""
    if not days:
        return {}
    start = datetime.combine(min(days), time.min, tz).astimezone(UTC)
    end = datetime.combine(max(days) + timedelta(days=1), time.min, tz).astimezone(UTC)
    rows = db.session.execute(
        select(GitHubEvent.type, GitHubEvent.repo_name, GitHubEvent.created_at, GitHubEvent.payload).where(
            GitHubEvent.user_id == user_id, GitHubEvent.created_at >= start, GitHubEvent.created_at < end
        ).order_by(GitHubEvent.created_at, GitHubEvent.id)
    )
    by_day: dict[date, list] = {}
    for row in rows:
        day = row.created_at.astimezone(tz).date()
        if day in days:
            by_day.setdefault(day, []).append(row)
    return by_day


def day_row(user_id: int, day: date, events: list) -> dict | None:
    """The `activities` row for one day, or None when no event of the day counts as work."""
    work = [e for e in events if e.type not in NOT_WORK]
    if not work:
        return None
    pushes = [_commit_count(e) for e in work if e.type == "PushEvent"]
    commits = sum(pushes) if pushes and all(c is not None for c in pushes) else None
    now = datetime.now(UTC)
    return {
        "user_id": user_id, "source": SOURCE, "external_id": f"github:{day.isoformat()}", "service": "github",
        "date": day, "minutes": day_minutes([e.created_at for e in work]), "title": day_title(events, commits),
        "occurred_at": work[0].created_at, "hidden": False, "created_at": now, "updated_at": now,
        "details": {
            "events": len(events),
            "commits": commits,
            "repos": sorted({e.repo_name for e in events if e.repo_name}),
        },
    }


def days_of(user: User, instants: list[datetime]) -> set[date]:
    tz = ZoneInfo(user.timezone or "UTC")
    return {instant.astimezone(tz).date() for instant in instants}


def recompute_all(user: User) -> set[date]:
    """Rebuild every GitHub day (after a time zone change); returns the local days that changed."""
    before = _day_map(user.id)
    instants = db.session.scalars(select(GitHubEvent.created_at).where(GitHubEvent.user_id == user.id)).all()
    wanted = days_of(user, list(instants))
    stale = set(before) - wanted
    if stale:
        db.session.execute(delete(Activity).where(
            Activity.user_id == user.id, Activity.source == SOURCE,
            Activity.external_id.in_([f"github:{d.isoformat()}" for d in stale]),
        ))
        db.session.commit()
    recompute_days(user, wanted)
    after = _day_map(user.id)
    return {day for day in set(before) | set(after) if before.get(day) != after.get(day)}


def _day_map(user_id: int) -> dict[date, tuple[int, str]]:
    rows = db.session.execute(
        select(Activity.date, Activity.minutes, Activity.title).where(
            Activity.user_id == user_id, Activity.source == SOURCE
        )
    )
    return {row.date: (row.minutes, row.title) for row in rows}


def _commit_count(event) -> int | None:
    payload = event.payload or {}
    if isinstance(payload.get("size"), int):
        return payload["size"]
    return payload.get("commit_count") if isinstance(payload.get("commit_count"), int) else None
