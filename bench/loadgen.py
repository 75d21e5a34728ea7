"""A small keep-alive HTTP/1.1 load generator (asyncio streams), run in its own process.

Usage: ``python -m bench.loadgen <json spec>``; prints one JSON object with the figures.
Spec: {"url", "method", "headers", "body", "connections", "seconds", "warmup"}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(
    spec: dict[str, Any],
    request: bytes,
    stop_at: float,
    record_from: float,
    latencies: list[float],
    statuses: dict[int, int],
    sent: list[int],
) -> None:
    parts = urlsplit(spec["url"])
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                break
            writer.write(request)
            status = await _read_response(reader)
            finished = time.perf_counter()
            sent[0] += 1
            if started >= record_from:
                latencies.append(finished - started)
                statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    parts = urlsplit(spec["url"])
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    body = spec.get("body", "").encode()
    headers = {"Host": parts.netloc, "Connection": "keep-alive", **spec.get("headers", {})}
    if body:
        headers["Content-Length"] = str(len(body))
    head = f"{spec['method']} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (head + "\r\n").encode() + body
    now = time.perf_counter()
    record_from = now + spec.get("warmup", 1.0)
    stop_at = record_from + spec["seconds"]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent = [0]
    await asyncio.gather(
        *(
            _connection(spec, request, stop_at, record_from, latencies, statuses, sent)
            for _ in range(spec["connections"])
        )
    )
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

    return {
        "requests": len(latencies),
        "all_requests": sent[0],
        "rps": len(latencies) / spec["seconds"],
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
