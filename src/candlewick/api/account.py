"""The account through the gateway: balances, trading fees, deposits and withdrawals, in Decimal."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from candlewick.api.convert import pick, to_decimal
from candlewick.api.gateway import Gateway
from candlewick.core.fills import ZERO, Fees


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset's balance: ``free`` to use, ``locked`` in open orders."""

    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        """free + locked."""
        return self.free + self.locked


@dataclass(frozen=True, slots=True)
class Transfer:
    """A deposit or a withdrawal."""

    kind: str
    id: str
    currency: str
    amount: Decimal
    fee: Decimal | None
    status: str
    timestamp: int | None


class Account:
    """Account calls of one exchange account."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def balances(self, *, include_zero: bool = False) -> dict[str, Balance]:
        """Balances by asset (Binance's own strings when ccxt kept them)."""
        raw = await self.gateway.fetch_balance()
        info = raw.get("info")
        rows = info.get("balances") if isinstance(info, dict) else None
        found: dict[str, Balance] = {}
        if isinstance(rows, list):
            for row in rows:
                free, locked = to_decimal(row.get("free")), to_decimal(row.get("locked"))
                found[str(row["asset"])] = Balance(str(row["asset"]), free or ZERO, locked or ZERO)
        else:
            free_all, used_all = raw.get("free") or {}, raw.get("used") or {}
            for asset in sorted(set(free_all) | set(used_all)):
                free, locked = to_decimal(free_all.get(asset)), to_decimal(used_all.get(asset))
                found[asset] = Balance(asset, free or ZERO, locked or ZERO)
        if include_zero:
            return found
        return {asset: b for asset, b in found.items() if b.total != 0}

    async def trading_fees(self) -> dict[str, Fees]:
        """The account's own maker/taker rates by market (the exchange's wallet endpoint)."""
        raw = await self.gateway.fetch_trading_fees()
        fees: dict[str, Fees] = {}
        for symbol, entry in raw.items():
            if not isinstance(entry, dict):
                continue
            info = entry.get("info") if isinstance(entry.get("info"), dict) else None
            maker = pick(info, "makerCommission", entry.get("maker"))
            taker = pick(info, "takerCommission", entry.get("taker"))
            if maker is not None and taker is not None:
                fees[symbol] = Fees(taker=taker, maker=maker)
        return fees

    def schedule_fees(self, volume_30d: Decimal = ZERO) -> Fees:
        """The public fee schedule's rates for a 30-day volume (no request)."""
        tier = self.gateway.facts.fees.tier_for(volume_30d)
        return Fees(taker=tier.taker, maker=tier.maker)

    async def deposits(
        self, currency: str | None = None, since: int | None = None
    ) -> list[Transfer]:
        """Deposit history."""
        return [_transfer(r, "deposit") for r in await self.gateway.fetch_deposits(currency, since)]

    async def withdrawals(
        self, currency: str | None = None, since: int | None = None
    ) -> list[Transfer]:
        """Withdrawal history."""
        raws = await self.gateway.fetch_withdrawals(currency, since)
        return [_transfer(r, "withdrawal") for r in raws]


def _transfer(raw: dict[str, Any], kind: str) -> Transfer:
    fee = raw.get("fee")
    return Transfer(
        kind=kind,
        id=str(raw.get("id")),
        currency=str(raw.get("currency")),
        amount=to_decimal(raw.get("amount")) or ZERO,
        fee=to_decimal(fee.get("cost")) if isinstance(fee, dict) else None,
        status=str(raw.get("status")),
        timestamp=raw.get("timestamp"),
    )
