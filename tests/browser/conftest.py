"""The browser tests talk to a real Home Assistant over loopback: sockets are allowed
here (the Home Assistant test plugin blocks them for every test)."""

from __future__ import annotations

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def loopback_sockets() -> None:
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
