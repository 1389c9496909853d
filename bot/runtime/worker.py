"""gunicorn's threaded worker, with each HTTP request read whole before a thread takes it.

gunicorn's gthread worker hands a connection to a thread as soon as its first bytes arrive,
and the thread then blocks reading the rest: eight clients trickling a byte now and then
held all eight threads, and Slack's own requests waited behind them, before any signature
was checked. Here the worker's event loop reads every request (headers and a body of at
most MAX_BODY_BYTES) without blocking; only a complete request reaches a thread. A
connection that has not sent a whole request within READ_TIMEOUT_SECONDS is closed, and the
bytes held for unfinished requests are bounded per worker.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

from bot.runtime.executor import start_threads
from bot.runtime.settings import MAX_BODY_BYTES

log = logging.getLogger(__name__)

READ_TIMEOUT_SECONDS = 10.0  # Slack sends a whole request in milliseconds
MAX_HEAD_BYTES = 64 * 1024
MAX_BUFFERED_BYTES = 32 * 1024 * 1024  # per worker, across unfinished requests


@dataclass
class _Reading:
    deadline: float
    data: bytearray = field(default_factory=bytearray)


def request_end(data: bytes | bytearray) -> int | None:
    """Where the first request in `data` ends (its length), or None while incomplete.

    A request whose body gunicorn and the app will not read anyway (over the cap, chunked,
    no length) is handed on as soon as its head is complete: the app refuses it at once."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return len(data) if len(data) > MAX_HEAD_BYTES else None  # gunicorn refuses it
    length = 0
    for line in bytes(data[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return head_end + 4
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return head_end + 4
    if length < 0 or length > MAX_BODY_BYTES:
        return head_end + 4
    end = head_end + 4 + length
    return end if len(data) >= end else None


class BufferingWorker(ThreadWorker):
    def init_process(self) -> None:
        self.reading: dict[TConn, _Reading] = {}
        self.buffered = 0
        super().init_process()

    def get_thread_pool(self) -> Any:
        # Every request thread starts now, not during the first requests (executor.py).
        pool = super().get_thread_pool()
        start_threads(pool, self.cfg.threads)
        return pool

    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._start_reading(TConn(self.cfg, client, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection sends its next request: read it whole first, too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._start_reading(conn)

    def _start_reading(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        self.reading[conn] = _Reading(time.monotonic() + READ_TIMEOUT_SECONDS)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_bytes, conn))

    def _on_bytes(self, conn: TConn, _client: Any) -> None:
        state = self.reading.get(conn)
        if state is None:
            return
        try:
            chunk = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(conn)
            return
        state.data += chunk
        self.buffered += len(chunk)
        if self.buffered > MAX_BUFFERED_BYTES:
            log.warning("closed a connection: too many bytes held for unfinished requests")
            self._drop(conn)
            return
        end = request_end(state.data)
        if end is None:
            return
        self.poller.unregister(conn.sock)
        del self.reading[conn]
        self.buffered -= len(state.data)
        # One request at a time: bytes a client pipelined after it are not kept.
        conn.prebuffered = bytes(state.data[:end])
        conn.data_ready = True
        self.enqueue_req(conn)

    def handle(self, conn: TConn) -> Any:
        ready = getattr(conn, "prebuffered", None)
        if ready is not None:
            conn.prebuffered = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(ready)
        return super().handle(conn)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        for conn, state in list(self.reading.items()):
            if state.deadline <= now:
                self._drop(conn)

    def _drop(self, conn: TConn) -> None:
        state = self.reading.pop(conn, None)
        if state is not None:
            self.buffered -= len(state.data)
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()
