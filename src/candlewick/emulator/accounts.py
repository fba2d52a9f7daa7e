"""Emulator accounts: free and locked balances per asset, in exact decimals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from candlewick.emulator import errors
from candlewick.emulator.rules import dstr

ZERO = Decimal(0)


@dataclass(slots=True)
class Balance:
    """One asset of an account."""

    free: Decimal = ZERO
    locked: Decimal = ZERO


class Account:
    """An account's balances; every change marks the asset as changed (for events and saving)."""

    def __init__(self, name: str, balances: dict[str, Balance] | None = None, update_time: int = 0):
        self.name = name
        self.balances: dict[str, Balance] = balances or {}
        self.update_time = update_time
        self.changed: set[str] = set()

    def balance(self, asset: str) -> Balance:
        """The asset's balance (zero when never held)."""
        return self.balances.setdefault(asset, Balance())

    def _touch(self, asset: str) -> Balance:
        self.changed.add(asset)
        return self.balance(asset)

    def require_free(self, asset: str, amount: Decimal) -> None:
        """-2010 "insufficient balance" unless ``amount`` of ``asset`` is free."""
        if self.balance(asset).free < amount:
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)

    def lock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked (-2010 when not enough is free)."""
        self.require_free(asset, amount)
        held = self._touch(asset)
        held.free -= amount
        held.locked += amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from locked back to free."""
        if amount:
            held = self._touch(asset)
            held.locked -= amount
            held.free += amount

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        """Pay ``amount`` out of the locked balance."""
        self._touch(asset).locked -= amount

    def spend_free(self, asset: str, amount: Decimal) -> None:
        """Pay ``amount`` out of the free balance (checked by the caller)."""
        self._touch(asset).free -= amount

    def credit(self, asset: str, amount: Decimal) -> None:
        """Receive ``amount`` into the free balance."""
        self._touch(asset).free += amount

    def take_changes(self) -> set[str]:
        """The assets changed since the last call."""
        changed, self.changed = self.changed, set()
        return changed

    def balances_json(self, omit_zero: bool = False) -> list[dict[str, str]]:
        """``balances`` of ``/api/v3/account``."""
        return [
            {"asset": asset, "free": dstr(b.free), "locked": dstr(b.locked)}
            for asset, b in sorted(self.balances.items())
            if not (omit_zero and b.free == 0 and b.locked == 0)
        ]

    def position_event(self, assets: set[str], event_time: int) -> dict[str, Any]:
        """An ``outboundAccountPosition`` event for ``assets``."""
        return {
            "e": "outboundAccountPosition",
            "E": event_time,
            "u": self.update_time,
            "B": [
                {"a": a, "f": dstr(self.balance(a).free), "l": dstr(self.balance(a).locked)}
                for a in sorted(assets)
            ],
        }
