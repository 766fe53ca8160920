"""Longest-prefix match over a few thousand networks without a per-network loop: one dict per prefix length."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrefixTable(Generic[T]):
    def __init__(self, entries: Iterable[tuple[Network, T]] = ()):
        self._tables: dict[tuple[int, int], dict[int, T]] = {}
        self._order: list[tuple[int, int, int, dict[int, T]]] | None = None
        for network, value in entries:
            self.add(network, value)

    def add(self, network: Network, value: T) -> None:
        table = self._tables.setdefault((network.version, network.prefixlen), {})
        table.setdefault(int(network.network_address), value)  # first entry for a network wins
        self._order = None

    def __len__(self) -> int:
        return sum(len(t) for t in self._tables.values())

    def lookup(self, address: Address) -> T | None:
        """The value of the most specific network containing `address`."""
        if self._order is None:
            self._order = sorted(
                ((v, length, (32 if v == 4 else 128) - length, table) for (v, length), table in self._tables.items()),
                key=lambda e: -e[1],
            )
        value = int(address)
        for version, _, shift, table in self._order:
            if version != address.version:
                continue
            found = table.get((value >> shift) << shift)
            if found is not None:
                return found
        return None
