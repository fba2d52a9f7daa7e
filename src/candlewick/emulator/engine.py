"""The matching engine: orders against the synthetic book and the replayed price path.

* **Market orders** take liquidity from the current synthetic book level by level (the
  "slippage" is the walk through the book); what the book cannot fill expires (EXPIRED).
* **Limit orders** first take what the book offers at or better than their price (taker); the
  rest rests (GTC) or expires (IOC; FOK expires whole unless it fills whole). A resting order
  fills at its own price (maker) while the replayed path trades at or through that price, up
  to ``participation_rate`` x the volume traded at or through it since it started resting: a
  large order fills over several candles (PARTIALLY_FILLED on the way).
* **Stop-loss-limit / take-profit-limit** orders wait, off the book, until the path reaches
  their stop price (a sell stop-loss and a buy take-profit when the price falls to it, the
  other two when it rises to it); they then act as a limit order placed at that moment.
* Fees are Binance's: charged on what the order receives (the base asset on buys, the quote
  asset on sells), maker or taker rate, rounded to 8 decimals.

Every change is written to the journal (SQLite) and announced to the listeners (the WS-API
user stream) as ``executionReport`` and ``outboundAccountPosition`` events.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from candlewick.emulator import errors
from candlewick.emulator.accounts import Account, Balance
from candlewick.emulator.book import Level, make_book
from candlewick.emulator.config import FeesConfig
from candlewick.emulator.limits import OrderCounter
from candlewick.emulator.market import Piece
from candlewick.emulator.orders import (
    STOP_TYPES,
    Fill,
    NewOrder,
    Order,
    Status,
    Trade,
    check_filters,
)
from candlewick.emulator.rules import SymbolRules
from candlewick.emulator.venue import Listing, Venue

ZERO = Decimal(0)
_Q8 = Decimal("0.00000001")
Listener = Callable[[str, dict[str, Any]], None]


class Journal(Protocol):
    """Where the engine writes its state (see :mod:`candlewick.emulator.persist`)."""

    def save_order(self, order: Order) -> None: ...
    def save_trade(self, trade: Trade) -> None: ...
    def save_balance(self, account: str, asset: str, balance: Balance) -> None: ...
    def save_meta(self, key: str, value: str) -> None: ...
    def commit(self) -> None: ...


class NullJournal:
    """Keeps nothing (an emulator without ``state_file``)."""

    def save_order(self, order: Order) -> None:
        """Nothing."""

    def save_trade(self, trade: Trade) -> None:
        """Nothing."""

    def save_balance(self, account: str, asset: str, balance: Balance) -> None:
        """Nothing."""

    def save_meta(self, key: str, value: str) -> None:
        """Nothing."""

    def commit(self) -> None:
        """Nothing."""


def _q8(value: Decimal) -> Decimal:
    return value.quantize(_Q8, rounding=ROUND_HALF_UP)


def _walk(
    levels: tuple[Level, ...],
    rules: SymbolRules,
    buy: bool,
    qty: Decimal | None,
    quote: Decimal | None,
    limit: Decimal | None,
) -> list[tuple[Decimal, Decimal]]:
    """``(price, qty)`` taken from ``levels`` for ``qty`` base or ``quote`` quote."""
    out: list[tuple[Decimal, Decimal]] = []
    left_qty = qty
    left_quote = quote
    for ticks, steps in levels:
        price = rules.price_of(ticks)
        if limit is not None and (price > limit if buy else price < limit):
            break
        available = rules.qty_of(steps)
        if left_qty is not None:
            take = min(available, left_qty)
            left_qty -= take
        else:
            assert left_quote is not None
            take = min(available, rules.floor_qty(left_quote / price))
            left_quote -= take * price
        if take <= 0:
            break
        out.append((price, take))
        if left_qty == 0:
            break
    return out


class Engine:
    """Accounts, orders and trades, matched on the venue's clock."""

    def __init__(
        self,
        venue: Venue,
        fees: FeesConfig,
        participation: float,
        accounts: dict[str, Account],
        counter: OrderCounter,
        journal: Journal | None = None,
        wall: Callable[[], int] | None = None,
    ) -> None:
        self.venue = venue
        self.fees = fees
        self.participation = participation
        self.accounts = accounts
        self.counter = counter
        self.journal: Journal = journal or NullJournal()
        self.wall = wall or venue.clock.wall
        self.orders: dict[int, Order] = {}
        self.open_ids: dict[str, list[int]] = {s: [] for s in venue.listings}
        self.by_client: dict[tuple[str, str, str], list[int]] = {}
        self.trades: dict[str, list[Trade]] = {name: [] for name in accounts}
        self.next_order_id = 1
        self.next_trade_id = 1
        self.processed_to = venue.now()
        self.listeners: list[Listener] = []
        self._outbox: list[tuple[str, dict[str, Any]]] = []

    # -- loading -------------------------------------------------------------------------
    def restore(self, orders: list[Order], trades: list[Trade], meta: dict[str, str]) -> None:
        """Take back a saved state (orders and trades in id order)."""
        for order in orders:
            self._register(order)
            if not order.is_open:
                self.open_ids[order.symbol].remove(order.order_id)
        for trade in trades:
            self.trades.setdefault(trade.account, []).append(trade)
        self.next_order_id = int(meta.get("next_order_id", self.next_order_id))
        self.next_trade_id = int(meta.get("next_trade_id", self.next_trade_id))
        self.processed_to = int(meta.get("processed_to", self.processed_to))

    def _register(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self.open_ids.setdefault(order.symbol, []).append(order.order_id)
        key = (order.account, order.symbol, order.client_order_id)
        self.by_client.setdefault(key, []).append(order.order_id)

    # -- lookups -------------------------------------------------------------------------
    def find(self, account: str, symbol: str, order_id: int | None, client_id: str | None) -> Order:
        """The account's order by id or client id (the latest with that client id); -2013."""
        if order_id is not None:
            order = self.orders.get(order_id)
            if order is None or order.account != account or order.symbol != symbol:
                raise errors.no_such_order()
            if client_id is not None and order.client_order_id != client_id:
                raise errors.no_such_order()
            return order
        ids = self.by_client.get((account, symbol, client_id or ""), [])
        if not ids:
            raise errors.no_such_order()
        open_ones = [i for i in ids if self.orders[i].is_open]
        return self.orders[(open_ones or ids)[-1]]

    def open_orders(self, account: str, symbol: str | None) -> list[Order]:
        """The account's open orders (of one symbol, or all), oldest first."""
        symbols = [symbol] if symbol is not None else list(self.open_ids)
        found = [self.orders[i] for s in symbols for i in self.open_ids.get(s, [])]
        return sorted((o for o in found if o.account == account), key=lambda o: o.order_id)

    def all_orders(self, account: str, symbol: str) -> list[Order]:
        """Every order of the account on ``symbol``, oldest first."""
        return [o for o in self.orders.values() if o.account == account and o.symbol == symbol]

    # -- commands ------------------------------------------------------------------------
    def place(self, account_name: str, new: NewOrder) -> tuple[Order, list[Fill]]:
        """Check and execute a new order; ApiError when Binance would refuse it."""
        listing = self.venue.listings[new.symbol]
        rules = listing.rules
        account = self.accounts[account_name]
        now = self.venue.now()
        self.counter.check(account_name, self.wall())
        key = (account_name, new.symbol, new.client_order_id)
        if any(self.orders[i].is_open for i in self.by_client.get(key, [])):
            raise errors.order_rejected(errors.DUPLICATE_ORDER)
        buy = new.side == "BUY"
        check_filters(new, rules, Decimal(repr(listing.market.avg_price(now))))
        mine = self.open_orders(account_name, new.symbol)
        algo = sum(o.type in STOP_TYPES for o in mine)
        rules.check_open_orders(len(mine), algo, new.type in STOP_TYPES)
        book = self.venue.book(new.symbol)
        levels = book.asks if buy else book.bids
        plan: list[tuple[Decimal, Decimal]] = []
        lock = ZERO
        if new.type == "MARKET":
            qty = new.quantity or None
            plan = _walk(levels, rules, buy, qty, new.quote_qty or None, None)
            executed = sum((q for _, q in plan), ZERO)
            if new.quote_qty and executed < rules.min_qty:
                raise errors.filter_failure("LOT_SIZE")
            cost = sum((p * q for p, q in plan), ZERO)
            if buy:
                account.require_free(rules.quote, new.quote_qty or cost)
            else:
                account.require_free(rules.base, new.quantity or executed)
            orig_qty = new.quantity or executed
        else:
            orig_qty = new.quantity
            best = levels[0][0] if levels else None
            marketable = best is not None and (
                rules.price_of(best) <= new.price if buy else rules.price_of(best) >= new.price
            )
            if new.type == "LIMIT_MAKER" and marketable:
                raise errors.order_rejected(errors.WOULD_TAKE)
            if new.type in STOP_TYPES:
                price = Decimal(repr(listing.market.price_at(now)))
                down = (new.type == "STOP_LOSS_LIMIT") == (not buy)
                if price <= new.stop_price if down else price >= new.stop_price:
                    raise errors.order_rejected(errors.WOULD_TRIGGER)
            elif new.type == "LIMIT" and marketable:
                plan = _walk(levels, rules, buy, new.quantity, None, new.price)
            lock = new.quantity * new.price if buy else new.quantity
            account.lock(rules.quote if buy else rules.base, lock)
        order = Order(
            order_id=self.next_order_id,
            account=account_name,
            symbol=new.symbol,
            client_order_id=new.client_order_id,
            side=new.side,
            type=new.type,
            time_in_force=new.time_in_force if new.type != "MARKET" else "GTC",
            price=new.price,
            stop_price=new.stop_price,
            orig_qty=orig_qty,
            orig_quote_qty=new.quote_qty,
            time=now,
            update_time=now,
            working_time=-1 if new.type in STOP_TYPES else now,
            locked=ZERO if new.type == "MARKET" else lock,
        )
        self.next_order_id += 1
        self._register(order)
        self.counter.placed(account_name, self.wall())
        account.update_time = now
        self._emit(account_name, order.report("NEW", now))
        fills = self._execute(order, listing, plan, now)
        self._commit()
        return order, fills

    def _execute(
        self, order: Order, listing: Listing, plan: list[tuple[Decimal, Decimal]], t: int
    ) -> list[Fill]:
        """Take ``plan`` as taker, then finish the order as its type and time in force say."""
        if order.time_in_force == "FOK" and sum((q for _, q in plan), ZERO) < order.orig_qty:
            plan = []
        fills = [self._fill(order, listing.rules, p, q, False, t) for p, q in plan]
        if order.is_open and (order.type == "MARKET" or order.time_in_force in ("IOC", "FOK")):
            self._close(order, Status.EXPIRED, t)
        self._save(order)
        return fills

    def cancel(self, account: str, symbol: str, order_id: int | None, client_id: str | None,
               cancel_id: str) -> Order:  # fmt: skip
        """Cancel an open order; -2011 when there is no such open order."""
        try:
            order = self.find(account, symbol, order_id, client_id)
        except errors.ApiError:
            raise errors.cancel_unknown() from None
        if not order.is_open:
            raise errors.cancel_unknown()
        order.cancel_client_id = cancel_id
        self._close(order, Status.CANCELED, self.venue.now())
        self._save(order)
        self._commit()
        return order

    def my_trades(self, account: str, symbol: str) -> list[Trade]:
        """The account's trades on ``symbol``, oldest first."""
        return [t for t in self.trades.get(account, []) if t.symbol == symbol]

    # -- execution -----------------------------------------------------------------------
    def _fill(
        self, order: Order, rules: SymbolRules, price: Decimal, qty: Decimal, maker: bool, t: int
    ) -> Fill:
        account = self.accounts[order.account]
        rate = self.fees.maker if maker else self.fees.taker
        value = price * qty
        first = order.executed_qty == 0
        if order.side == "BUY":
            if order.type == "MARKET":
                account.spend_free(rules.quote, value)
            else:
                reserved = order.price * qty
                account.spend_locked(rules.quote, value)
                account.unlock(rules.quote, reserved - value)
                order.locked -= reserved
            commission, asset = _q8(qty * rate), rules.base
            account.credit(rules.base, qty - commission)
        else:
            if order.type == "MARKET":
                account.spend_free(rules.base, qty)
            else:
                account.spend_locked(rules.base, qty)
                order.locked -= qty
            commission, asset = _q8(value * rate), rules.quote
            account.credit(rules.quote, value - commission)
        account.update_time = t
        order.executed_qty += qty
        order.cum_quote += value
        order.update_time = t
        order.status = Status.FILLED if order.remaining == 0 else Status.PARTIALLY_FILLED
        if first:
            self.counter.first_fill(order.account, self.wall())
        fill = Fill(self.next_trade_id, price, qty, commission, asset, maker, t)
        self.next_trade_id += 1
        trade = Trade(fill.trade_id, order.account, order.symbol, order.order_id, price, qty,
                      value, commission, asset, t, order.side == "BUY", maker)  # fmt: skip
        self.trades.setdefault(order.account, []).append(trade)
        self.journal.save_trade(trade)
        if order.status == Status.FILLED:
            self._release(order)
        self._emit(order.account, order.report("TRADE", t, fill))
        return fill

    def _release(self, order: Order) -> None:
        """Unlock what the order still reserves and take it off the book."""
        if order.locked:
            rules = self.venue.listings[order.symbol].rules
            asset = rules.quote if order.side == "BUY" else rules.base
            self.accounts[order.account].unlock(asset, order.locked)
            order.locked = ZERO
        ids = self.open_ids.get(order.symbol, [])
        if order.order_id in ids:
            ids.remove(order.order_id)

    def _close(self, order: Order, status: Status, t: int) -> None:
        order.status = status
        order.update_time = t
        self._release(order)
        self.accounts[order.account].update_time = t
        self._emit(order.account, order.report(str(status), t))

    # -- the replay ----------------------------------------------------------------------
    def advance(self, now: int) -> None:
        """Match the open orders against the price path from the last call up to ``now``."""
        start = self.processed_to
        if now <= start:
            return
        busy = False
        for symbol, ids in self.open_ids.items():
            if not ids:
                continue
            busy = True
            listing = self.venue.listings[symbol]
            for stretch in listing.market.stretches(start, now):
                for order_id in list(ids):
                    order = self.orders[order_id]
                    if order.is_open:
                        self._on_stretch(order, listing, stretch, start, now)
        self.processed_to = now
        if busy:  # nothing to save or announce while no order is open
            self._commit()

    def _on_stretch(
        self, order: Order, listing: Listing, stretch: Piece, start: int, now: int
    ) -> None:
        """What the part ``[start, now)`` of a stretch of the path does to an open order."""
        if not order.is_working:
            piece = stretch.clip(start, now)
            if piece.end_ms <= piece.start_ms or not self._reaches_stop(order, listing, piece):
                return
            if not order.is_open:
                return
        self._rest(order, listing, stretch, start, now)

    def _reaches_stop(self, order: Order, listing: Listing, piece: Piece) -> bool:
        """Trigger a waiting stop order when ``piece`` reaches its stop price."""
        stop = float(order.stop_price)
        pa, pb = piece.start_price, piece.end_price
        if (order.type == "STOP_LOSS_LIMIT") == (order.side == "SELL"):
            if min(pa, pb) > stop:
                return False
            frac = 0.0 if pa <= stop else (pa - stop) / (pa - pb)
        else:
            if max(pa, pb) < stop:
                return False
            frac = 0.0 if pa >= stop else (stop - pa) / (pb - pa)
        t = piece.start_ms + int((piece.end_ms - piece.start_ms) * frac)
        self._trigger(order, listing, pa if frac == 0.0 else stop, t)
        return True

    def _trigger(self, order: Order, listing: Listing, price: float, t: int) -> None:
        """A stop reached: the order goes on the book as a limit order at ``t``."""
        order.working_time = t
        order.update_time = t
        rules = listing.rules
        ticks = round(price / float(rules.tick))
        book = make_book(ticks, self.venue.unit_steps(order.symbol, t), listing.feed.shape)
        buy = order.side == "BUY"
        plan = _walk(
            book.asks if buy else book.bids, rules, buy, order.remaining, None, order.price
        )
        self._execute(order, listing, plan, t)

    def _rest(self, order: Order, listing: Listing, stretch: Piece, start: int, now: int) -> None:
        """A resting order fills once per move of the path that trades at or through its
        price: at the moment the move reaches the price, for what ``participation_rate`` of
        the volume the move trades there allows (counted since the order rests). The fill
        happens when the clock passes that moment, so it does not depend on the tick."""
        window = stretch.clip(order.working_time, stretch.end_ms)
        hit = window.through(float(order.price), order.side == "BUY")
        if hit is None or not start <= hit[0] < now:
            return
        t, volume = hit
        order.eligible_volume += volume
        rules = listing.rules
        allowed = rules.floor_qty(Decimal(repr(self.participation * order.eligible_volume)))
        qty = min(allowed - order.resting_filled, order.remaining)
        if qty > 0:
            order.resting_filled += qty
            self._fill(order, rules, order.price, qty, True, t)
        self._save(order)

    # -- bookkeeping ---------------------------------------------------------------------
    def _save(self, order: Order) -> None:
        self.journal.save_order(order)

    def _emit(self, account: str, event: dict[str, Any]) -> None:
        self._outbox.append((account, event))

    def _commit(self) -> None:
        """Save changed balances and the counters, then publish the events."""
        now = self.venue.now()
        for name, account in self.accounts.items():
            changed = account.take_changes()
            if changed:
                for asset in changed:
                    self.journal.save_balance(name, asset, account.balance(asset))
                self.journal.save_meta(f"update_time:{name}", str(account.update_time))
                self._emit(name, account.position_event(changed, now))
        self.journal.save_meta("next_order_id", str(self.next_order_id))
        self.journal.save_meta("next_trade_id", str(self.next_trade_id))
        self.journal.save_meta("processed_to", str(self.processed_to))
        self.journal.commit()
        events, self._outbox = self._outbox, []
        for name, event in events:
            for listener in self.listeners:
                listener(name, event)
