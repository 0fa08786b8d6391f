"""The OUI table reader's byte search answers as ``in``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from custom_components.totem.engine import vendor

_BYTES = st.binary(max_size=12).map(lambda b: bytes(c % 4 + 0xC0 if c & 1 else 0x85 for c in b))


@given(_BYTES, _BYTES)
def test_holds_is_in(data: bytes, needle: bytes) -> None:
    assert vendor._holds(data, needle) is (needle in data)


def test_holds_on_the_line_breaks_of_a_table() -> None:
    table = b"000000=XEROX\n5CCF7F=Espressif \xc2\xa9\n"
    for brk in vendor._OTHER_BREAKS:
        assert not vendor._holds(table, brk)
        assert vendor._holds(table[:20] + brk + table[20:], brk)
    assert vendor._holds(b"\xc2\xc2\x85", b"\xc2\x85")  # found past a false start
