"""A load generator that costs little CPU: many HTTP/1.1 requests over loopback, all
started at the same moment (each on a connection of its own, as the urllib clients did),
from one asyncio loop in a process of its own.

Slack's servers are not on the machine that answers them. A bench that plays 500 of them
with 500 Python threads (urllib) in the emulator's process spends about a second of the
machine's CPU on the clients during the burst, and on a 2-core machine that second is
taken from the server being measured. This client writes pre-built requests and parses
only the status line, Content-Length and body; each `elapsed` is from the start of its
connection (so the server's accept queue counts) to the last byte of the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    elapsed: float  # seconds


def build(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One POST as bytes on the wire (the connection closes after its answer)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}",
             f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()
              if name.lower() not in ("content-length", "host", "connection")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return int(status_line.split()[1]), body


async def _all_at_once(host: str, port: int, requests: list[bytes],
                       timeout: float) -> list[Answer]:
    async def one(index: int) -> Answer:
        started = time.perf_counter()
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                    timeout)
            writer.write(requests[index])
            status, body = await asyncio.wait_for(_answer(reader), timeout)
        except (TimeoutError, asyncio.IncompleteReadError, OSError, ValueError):
            status, body = 0, b""  # counted as an error
        elapsed = time.perf_counter() - started
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return Answer(status, body, elapsed)

    return list(await asyncio.gather(*(one(i) for i in range(len(requests)))))


def _run(host: str, port: int, requests: list[bytes], timeout: float
         ) -> tuple[list[Answer], float]:
    cpu = time.process_time()
    answers = asyncio.run(_all_at_once(host, port, requests, timeout))
    return answers, time.process_time() - cpu


def send_all(host: str, port: int, requests: list[bytes], timeout: float = 120.0
             ) -> tuple[list[Answer], float]:
    """Every request at once from a fresh process; the answers, in order, and the CPU
    seconds that process used (connecting included)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_run, (host, port, requests, timeout))
