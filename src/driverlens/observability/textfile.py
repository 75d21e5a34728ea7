"""Counters of a short command (``driverlens ingest``) for node_exporter's textfile collector.

The command ends before any scrape, so it adds its counts to the file's previous totals and replaces
the file atomically (write beside it, then rename): the collector never reads half a file, and counters
keep increasing across runs as Prometheus expects. An exclusive lock on a companion file makes
concurrent ingests add up instead of overwriting each other.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

from driverlens.observability.exposition import GaugeFamily, Registry

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def read_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``(name, labels) -> value`` of every sample line of a text exposition (comments skipped)."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line.strip())
        if line.startswith("#") or match is None:
            continue
        name, labels, value = match.groups()
        pairs = tuple((k, _unescape(v)) for k, v in _LABEL.findall(labels or ""))
        try:
            samples[(name, pairs)] = float(value)
        except ValueError:
            continue
    return samples


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def write_textfile(path: Path, registry: Registry, success_gauge: str | None = None) -> None:
    """Add ``registry``'s counters to those already in ``path`` and write the sum there atomically.

    ``success_gauge`` names a gauge set to the current Unix time (the last successful run).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = read_samples(path.read_text()) if path.is_file() else {}
        const = dict(registry.const)
        for counter in registry.counters():
            for (name, labels), value in previous.items():
                if name != counter.name or value <= 0:
                    continue
                own = {k: v for k, v in labels if k not in const}
                if set(own) == set(counter.labelnames) and all(const.get(k, v) == v for k, v in labels):
                    counter.inc(value, **own)
        text = registry.render(collect=False)
        if success_gauge is not None:
            gauge = GaugeFamily(success_gauge, "Unix time of the last successful run of this command.")
            gauge.samples.append(({}, round(time.time(), 3)))
            text += "\n".join(gauge.lines(registry.const)) + "\n"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
