"""Running the emulator as a program (``candlewick emulator``): serve until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import signal
from collections.abc import Callable

from aiohttp import web

from candlewick.emulator.config import EmulatorConfig
from candlewick.emulator.runtime import Emulator, is_loopback, open_emulator
from candlewick.emulator.server import make_runner
from candlewick.errors import ConfigError


def summary(emulator: Emulator) -> str:
    """One line: pairs, replay start and speed."""
    from candlewick.core.validation import format_ts

    speed = emulator.clock.speed
    pace = "stepped" if speed is None else f"speed {speed:g}x"
    pairs = ", ".join(emulator.venue.listings)
    return f"{pairs}; replaying from {format_ts(emulator.now())}, {pace}"


def exposure_warning(config: EmulatorConfig, emulator: Emulator) -> str | None:
    """What to tell the user when the emulator listens beyond the loopback (None: it does not).

    Anyone who can reach the address can use the emulator then; the control endpoints need
    the control token (a generated one is shown, a configured one is not)."""
    if is_loopback(config.host):
        return None
    if emulator.control_token_generated:
        token = f"this generated token: {emulator.control_token}"
    else:
        token = "the configured control token"
    return (
        f"the emulator listens on {config.host}, reachable from other machines; its control "
        f"endpoints (/_emulator/*) require {token} (header 'Authorization: Bearer <token>'). "
        "Bind 127.0.0.1 unless other machines must reach it."
    )


Announce = Callable[[str, str, str | None], None]


async def serve_until_stopped(
    config: EmulatorConfig, announce: Announce, say: Callable[[str], None] | None = None
) -> None:
    """Serve ``config`` until SIGINT or SIGTERM, then save the state and stop.

    ``say`` tells each import of candles from the shared data; ``announce(url, summary,
    warning)`` is called once listening (``warning``: see :func:`exposure_warning`)."""
    emulator = open_emulator(config, say=say)
    runner = make_runner(emulator)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise ConfigError(
                f"{config.host}:{config.port} is already in use (another emulator?): pass "
                "--port with a free port, or --port 0 for any free one"
            ) from None
        host, port = runner.addresses[0][:2]
        announce(f"http://{host}:{port}", summary(emulator), exposure_warning(config, emulator))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        emulator.close()
        await runner.cleanup()


def run_forever(
    config: EmulatorConfig, announce: Announce, say: Callable[[str], None] | None = None
) -> None:
    """Block serving ``config`` (the CLI's entry point)."""
    asyncio.run(serve_until_stopped(config, announce, say))
