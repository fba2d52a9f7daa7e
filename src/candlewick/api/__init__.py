"""API_LAYER and API_CALLS: the bot's side of the exchange.

* :mod:`candlewick.api.hub`: :class:`ExchangeHub`, one per process, hands out gateways.
* :mod:`candlewick.api.gateway`: :class:`Gateway`, every exchange call goes through it.
* :mod:`candlewick.api.port`: :class:`ExchangeClient`, what the gateway calls (ccxt).
* :mod:`candlewick.api.ccxt_client`: builds the ccxt client (and points it at an emulator).
* :mod:`candlewick.api.market_data`, :mod:`~candlewick.api.orders`,
  :mod:`~candlewick.api.order_status`, :mod:`~candlewick.api.account`: the adapters bots use.

See docs/exchange-layer.md.
"""
