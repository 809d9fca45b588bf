"""A TCP proxy in front of the local PostgreSQL server that a test can cut
and restore, to play a server that goes away and comes back without touching
the real server (other tests may be using it)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator


class PostgresProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._budget: int | None = None
        # Cleared while frozen: nothing is forwarded, connections stay open.
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._thread.start()

    def _call(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)  # type: ignore[arg-type]

    def start(self) -> None:
        self._call(self._start())

    def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        self._call(self._stop())

    def cut_after(self, chunks: int) -> None:
        """Let clients send ``chunks`` more chunks, then cut every connection
        instead of forwarding the next one and refuse new ones until
        ``start()``: a server lost in the middle of a conversation."""
        self._budget = chunks

    def freeze(self) -> None:
        """Forward nothing more in either direction but keep every
        connection open, and accept new ones that get no answer: a server
        or network that hangs. ``restart()`` ends it."""
        self._call(self._freeze())

    def chunks_left(self) -> int | None:
        return self._budget

    def restart(self) -> None:
        """Cut everything, forget any budget, and accept connections again."""
        self._budget = None
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _start(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _freeze(self) -> None:
        self._flowing.clear()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, upstream_writer})

        async def pipe(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, upward: bool
        ) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    if upward and self._budget is not None:
                        if self._budget == 0:
                            self._budget = None
                            await self._stop()
                            return
                        self._budget -= 1
                    await self._flowing.wait()
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(
            pipe(reader, upstream_writer, upward=True),
            pipe(upstream_reader, writer, upward=False),
        )
        self._writers.discard(writer)
        self._writers.discard(upstream_writer)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def proxy_for(host: str, port: int) -> Iterator[PostgresProxy]:
    proxy = PostgresProxy(host, port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()
