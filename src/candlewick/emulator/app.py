"""Running the emulator as a program (``candlewick emulator``): serve until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from aiohttp import web

from candlewick.emulator.config import EmulatorConfig
from candlewick.emulator.runtime import Emulator, open_emulator
from candlewick.emulator.server import make_runner


def summary(emulator: Emulator) -> str:
    """One line: pairs, replay start and speed."""
    from candlewick.core.validation import format_ts

    speed = emulator.clock.speed
    pace = "stepped" if speed is None else f"speed {speed:g}x"
    pairs = ", ".join(emulator.venue.listings)
    return f"{pairs}; replaying from {format_ts(emulator.now())}, {pace}"


async def serve_until_stopped(config: EmulatorConfig, announce: Callable[[str, str], None]) -> None:
    """Serve ``config`` until SIGINT or SIGTERM, then save the state and stop."""
    emulator = open_emulator(config)
    runner = make_runner(emulator)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        announce(f"http://{host}:{port}", summary(emulator))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        emulator.close()
        await runner.cleanup()


def run_forever(config: EmulatorConfig, announce: Callable[[str, str], None]) -> None:
    """Block serving ``config`` (the CLI's entry point)."""
    asyncio.run(serve_until_stopped(config, announce))
