"""Ports: one capability's question answered by the composition root, once."""

from __future__ import annotations

import pytest

from addon.capabilities import create_services
from addon.config import Settings
from addon.ecommerce.channel_state import LATEST_INITIAL_SYNC
from addon.services import Port, Ports


def test_a_port_is_answered_once_and_read_back() -> None:
    ports, port = Ports(), Port[int]("a number")
    ports.plug(port, 7)
    assert ports[port] == 7
    with pytest.raises(ValueError, match="answered already"):
        ports.plug(port, 8)
    assert ports[port] == 7


def test_an_unanswered_port_names_itself() -> None:
    with pytest.raises(LookupError, match="a question nobody answers"):
        Ports()[Port[str]("a question nobody answers")]


def test_the_composition_root_answers_the_ports_capabilities_declare(settings: Settings) -> None:
    services = create_services(settings)
    assert callable(services.ports[LATEST_INITIAL_SYNC])
