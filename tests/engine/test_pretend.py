"""The demo's pretend blocking backend: blocks live in memory, with the same checks."""

from __future__ import annotations

import pytest

from custom_components.totem.engine.enforce import EnforceError
from custom_components.totem.engine.pretend import BACKEND_PRETEND, PretendBackend


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_blocks_are_listed_until_unblocked_or_expired() -> None:
    clock = Clock()
    backend = PretendBackend(clock)
    assert backend.available() is None
    forever = backend.block("50:C7:BF:00:01:0C")
    assert forever is not None
    assert (forever.mac, forever.backend, forever.permanent) == (
        "50:c7:bf:00:01:0c",
        BACKEND_PRETEND,
        True,
    )
    backend.block("b0:c5:54:00:00:39", "15m", ["192.0.2.7"])
    clock.now += 600
    blocks = {b.mac: b for b in backend.list_blocks()}
    assert blocks["b0:c5:54:00:00:39"].expires_in == pytest.approx(300)
    assert blocks["b0:c5:54:00:00:39"].ips == ("192.0.2.7",)
    clock.now += 301
    assert [b.mac for b in backend.list_blocks()] == ["50:c7:bf:00:01:0c"]
    assert backend.unblock("50:c7:bf:00:01:0c")
    assert not backend.unblock("50:c7:bf:00:01:0c")
    backend.block("50:c7:bf:00:01:0c")
    backend.remove_all()
    assert backend.list_blocks() == []


@pytest.mark.parametrize(
    ("mac", "duration", "ips"),
    [
        ("not-a-mac", None, ()),
        ("50:c7:bf:00:01:0c", "soon", ()),
        ("50:c7:bf:00:01:0c", None, ["x"]),
    ],
)
def test_bad_requests_are_refused_as_by_the_real_backends(
    mac: str, duration: str | None, ips: tuple[str, ...]
) -> None:
    backend = PretendBackend()
    with pytest.raises(EnforceError):
        backend.block(mac, duration, ips)
    assert backend.list_blocks() == []
