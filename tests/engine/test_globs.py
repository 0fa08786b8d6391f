"""The discovery tables' glob matcher answers exactly as ``fnmatchcase``."""

from __future__ import annotations

from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from custom_components.totem.engine.knowledge.globs import glob_match

# Few letters and every glob metacharacter, so patterns and names collide often.
_PATTERN = st.text(alphabet="ab.*?[]!-\n", max_size=8)
_NAME = st.text(alphabet="ab.*?[]-\n", max_size=8)


@given(_NAME, _PATTERN)
def test_glob_match_is_fnmatchcase(name: str, pattern: str) -> None:
    assert glob_match(name, pattern) == fnmatchcase(name, pattern)


def test_the_shapes_home_assistant_uses() -> None:
    cases = [
        ("roomba-a1b2", "roomba-*", True),
        ("xroomba-a1", "roomba-*", False),
        ("living.local", "*.local", True),
        ("living.localx", "*.local", False),
        ("my-shelly-plug", "*shelly*", True),
        ("sh", "*shelly*", False),
        ("lutron", "lutron", True),
        ("Lutron", "lutron", False),  # case-sensitive, as fnmatchcase
        ("esp_1a2b3c", "esp_[0-9a-f]*", True),
        ("", "*", True),
    ]
    for name, pattern, expected in cases:
        assert glob_match(name, pattern) is expected, (name, pattern)
        assert fnmatchcase(name, pattern) is expected, (name, pattern)
