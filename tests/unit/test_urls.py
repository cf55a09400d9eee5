import pytest

from activity_hub.urls import safe_next


@pytest.mark.parametrize("target", ["/", "/history/", "/settings/?tab=1", "/a/b#c"])
def test_local_paths_are_safe(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", [None, "", "//evil.com", "/\\evil.com", "\\\\evil.com", "http://evil.com",
                                    "https:evil.com", "evil.com", "/\x00x", "/a\r\nLocation: x", "///evil.com"])
def test_anything_else_is_rejected(target):
    assert safe_next(target) is None
