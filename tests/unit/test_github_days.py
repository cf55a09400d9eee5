"""The GitHub day heuristic and event parsing, without a database or network."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from activity_hub.providers.github import parse_event, parse_events, trim_payload
from activity_hub.services.github_days import DAY_CAP_MINUTES, day_minutes, day_title

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ev(kind: str, repo: str | None = "a/one", **payload):
    return SimpleNamespace(type=kind, repo_name=repo, payload=payload)


def test_a_lone_event_counts_the_lead_in():
    assert day_minutes([at(0)]) == 30
    assert day_minutes([]) == 0


def test_events_within_90_minutes_form_one_session():
    assert day_minutes([at(0), at(45), at(120)]) == 120 + 30
    assert day_minutes([at(120), at(0), at(45)]) == 150  # order does not matter


def test_a_gap_of_90_minutes_or_more_starts_a_new_session():
    assert day_minutes([at(0), at(30), at(30 + 90)]) == (30 + 30) + 30
    assert day_minutes([at(0), at(89)]) == 89 + 30


def test_a_day_is_capped():
    marathon = [at(m) for m in range(0, 18 * 60, 60)]
    assert day_minutes(marathon) == DAY_CAP_MINUTES


def test_title_counts_kinds_and_names_the_busiest_repos_first():
    events = [ev("PushEvent", "o/b"), ev("PushEvent", "o/b"), ev("PushEvent", "o/a"), ev("PullRequestEvent", "o/a"),
              ev("PullRequestEvent", "o/b"), ev("PullRequestEvent", "o/b"), ev("HoverboardEvent", None)]
    assert day_title(events) == "3 pushes, 3 pull requests, 1 other event in o/b, o/a"
    assert day_title([ev("PushEvent")], commits=1) == "1 push (1 commit) in a/one"
    many = [ev("IssuesEvent", f"o/r{n}") for n in range(5)]
    assert day_title(many) == "5 issues in o/r0, o/r1, o/r2 and 2 more"


def test_parse_event_reads_both_push_shapes():
    legacy = {"id": "5471", "type": "PushEvent", "created_at": "2025-09-15T10:00:00Z", "public": True,
              "repo": {"id": 7, "name": "m/h"}, "payload": {"size": 3, "distinct_size": 2, "ref": "refs/heads/main",
                                                          "commits": [{"sha": "1"}, {"sha": "2"}, {"sha": "3"}]}}
    trimmed = {"id": "1201", "type": "PushEvent", "created_at": "2026-06-01T10:00:00Z",
               "repo": {"id": 7, "name": "m/h"}, "payload": {"repository_id": 7, "push_id": 1, "ref": "refs/heads/main",
                                                          "head": "abc", "before": "def"}}
    old, new = parse_event(legacy), parse_event(trimmed)
    assert (old.event_id, old.repo_id, old.payload) == (
        "5471", 7, {"public": True, "ref": "refs/heads/main", "size": 3, "distinct_size": 2, "commit_count": 3})
    assert new.created_at == datetime(2026, 6, 1, 10, tzinfo=UTC) and new.payload == {"ref": "refs/heads/main"}


def test_parse_event_rejects_what_it_cannot_read_and_keeps_unknown_types():
    assert parse_event({"id": 1, "type": "PushEvent"}) is None
    assert parse_event({"id": 1, "type": None, "created_at": "2026-01-01T00:00:00Z"}) is None
    assert parse_event({"id": 1, "type": "PushEvent", "created_at": "soon"}) is None
    assert parse_event(["not", "a", "dict"]) is None
    odd = parse_event({"id": 99, "type": "NewThingEvent", "created_at": "2026-01-01T00:00:00Z", "payload": None,
                       "repo": "weird", "extra": {"x": 1}})
    assert (odd.event_id, odd.type, odd.repo_name, odd.payload) == ("99", "NewThingEvent", None, {})


def test_parse_events_dedupes_by_id_across_pages():
    item = {"id": "1", "type": "WatchEvent", "created_at": "2026-01-01T00:00:00Z"}
    seen: set[str] = set()
    first, bad = parse_events([item, item, 42], seen)
    again, _ = parse_events([item], seen)
    assert (len(first), bad, again) == (1, 1, [])


def test_trimmed_pull_request_stub_keeps_number_and_action():
    payload = {"action": "merged", "number": 42, "pull_request": {"url": "u", "id": 1, "number": 42, "head": {}, "base": {}}}
    assert trim_payload("PullRequestEvent", payload, None) == {"action": "merged", "number": 42,
                                                               "pull_request": {"number": 42}}
