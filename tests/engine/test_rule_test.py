"""The type rules' matcher answers exactly as ``re.search(pattern, text, re.IGNORECASE)``:
string methods for the literal patterns on ASCII text, the regex for everything else."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from custom_components.totem.engine.type_rules import RULES
from custom_components.totem.engine.votes import literal_branches, rule_test

# Few letters, the syntax literal_branches reads and some it leaves to re, so patterns
# and texts collide often; texts add a newline ("$" matches before a final one) and
# non-ASCII letters re folds onto ASCII ones (the long s onto "s", the Kelvin sign "k").
_PATTERN = st.lists(
    st.sampled_from(["a", "b", "A", "s", "k", "-", " ", ":", "\\.", ".", "^", "$", "|", "("])
    | st.sampled_from([")", "?", ")?", "(^|", "[ab]", "\\d", "*", "+"]),
    max_size=8,
).map("".join)
_TEXT = st.text(alphabet="abABsSkK-: .\n\u017f\u212a0", max_size=8)


def _search(pattern: str, text: str) -> bool | None:
    try:
        return re.search(pattern, text, re.IGNORECASE) is not None
    except re.error:
        return None


@given(_PATTERN, _TEXT)
def test_rule_test_is_re_search(pattern: str, text: str) -> None:
    expected = _search(pattern, text)
    if expected is not None:
        assert rule_test(pattern)(text) is expected


def test_every_rule_answers_as_its_regex_on_texts_near_its_literals() -> None:
    patterns = sorted({rule.pattern for rule in RULES})
    literals = {b[2] for p in patterns for b in literal_branches(p) or ()}
    texts = ["", "\n", "x\n"]
    for literal in sorted(literals):
        for form in (literal, literal.upper(), literal.swapcase(), literal.title()):
            texts += [form, form + "\n", form + "\n\n", "\n" + form, "x" + form, form + "x"]
            texts += ["." + form, "a." + form, form.replace("s", "\u017f"), form[:-1]]
    assert sum(literal_branches(p) is not None for p in patterns) >= 90  # most are literal
    for pattern in patterns:
        test = rule_test(pattern)
        for text in texts:
            assert test(text) is _search(pattern, text), (pattern, text)


def test_literal_branches_read_the_shapes_the_rules_use() -> None:
    assert literal_branches("^Espressif") == ((True, False, "espressif"),)
    assert literal_branches("^1,3,28,6(,42)?$") == (
        (True, True, "1,3,28,6,42"),
        (True, True, "1,3,28,6"),
    )
    assert literal_branches("(^|\\.)fitbit\\.com$") == (
        (True, True, "fitbit.com"),
        (False, True, ".fitbit.com"),
    )
    assert literal_branches("^shelly|tasmota") == (
        (True, False, "shelly"),
        (False, False, "tasmota"),
    )
    for regex in ("apple-?tv", "^dcs-\\d", "a.b", "a$b", "^^a", "(a)(b)", "(?i)a", "a\\\\.b"):
        assert literal_branches(regex) is None, regex
