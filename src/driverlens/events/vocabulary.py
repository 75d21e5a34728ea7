"""Fixed vocabularies of the synthetic telemetry: OS builds, markets, machines, CPUs, failure buckets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

# FailureHash = uuid5(FAILURE_NAMESPACE, FailureName): stable per bucket name across seeds and runs.
FAILURE_NAMESPACE = uuid.UUID("5d0c6a2e-8f3b-4e71-9a5c-2b7d1e4f6a80")

# (OSVersion, OSName, ReleaseName, weight)
OS_BUILDS: tuple[tuple[str, str, str, float], ...] = (
    ("10.0.22631.4317", "Windows 11", "23H2", 30.0),
    ("10.0.22631.4460", "Windows 11", "23H2", 12.0),
    ("10.0.26100.2314", "Windows 11", "24H2", 22.0),
    ("10.0.26100.2454", "Windows 11", "24H2", 8.0),
    ("10.0.22621.4317", "Windows 11", "22H2", 6.0),
    ("10.0.19045.5131", "Windows 10", "22H2", 18.0),
    ("10.0.19045.5011", "Windows 10", "22H2", 4.0),
)
MARKETS: tuple[tuple[str, float], ...] = (
    ("US", 30.0), ("CN", 10.0), ("DE", 8.0), ("GB", 7.0), ("JP", 7.0), ("IN", 6.0), ("FR", 5.0),
    ("BR", 5.0), ("CA", 4.0), ("KR", 3.0), ("AU", 3.0), ("IT", 3.0), ("ES", 3.0), ("MX", 2.0),
    ("NL", 2.0), ("PL", 2.0),
)  # fmt: skip
DEVICE_TYPES: tuple[tuple[str, float], ...] = (
    ("Notebook", 55.0),
    ("Desktop", 35.0),
    ("Tablet", 7.0),
    ("PC", 3.0),
)
ARCHITECTURES: tuple[tuple[str, float], ...] = (("x64", 90.0), ("arm64", 8.0), ("x86", 2.0))
CPUS: dict[str, tuple[str, ...]] = {
    "x64": (
        "Intel(R) Core(TM) i7-1365U",
        "Intel(R) Core(TM) i5-1235U",
        "AMD Ryzen 7 7840U",
        "Intel(R) Core(TM) Ultra 7 155H",
        "AMD Ryzen 5 5600X",
    ),
    "arm64": ("Snapdragon(R) X Elite - X1E78100", "Snapdragon(R) X Plus - X1P64100"),
    "x86": ("Intel(R) Celeron(R) N4020",),
}
FLIGHT_RINGS: tuple[tuple[str, float], ...] = (
    ("Retail", 94.0), ("ReleasePreview", 2.5), ("Beta", 1.5), ("Dev", 1.2), ("Canary", 0.8),
)  # fmt: skip
SKUS: tuple[tuple[str, float], ...] = (
    ("Core", 45.0),
    ("Professional", 40.0),
    ("Enterprise", 12.0),
    ("Education", 3.0),
)
CAB_TYPES: tuple[tuple[str, float], ...] = (("Mini", 80.0), ("Kernel", 15.0), ("Full", 5.0))
MODEL_SERIES: tuple[str, ...] = ("Aero", "Vista", "Pro", "Edge", "Studio", "Flex")
BUG_CHECKS: tuple[str, ...] = (
    "0x9F",
    "0x133",
    "0x116",
    "0x7E",
    "0xD1",
    "0x3B",
    "0x1E",
    "0x50",
    "0xEA",
    "0x119",
)
_SUBSYSTEMS = ("Power", "Dma", "Interrupt", "Queue", "Fence", "Timer", "Stream", "Buffer", "Irp", "Pnp")
_ACTIONS = (
    "Transition",
    "Complete",
    "Dispatch",
    "Wait",
    "Submit",
    "Reset",
    "Flush",
    "Map",
    "Release",
    "Poll",
)
BUCKETS_PER_DRIVER = 300
VERSIONS_PER_DRIVER = 6


def weights(pairs: tuple[tuple[str, float], ...]) -> tuple[list[str], npt.NDArray[np.float64]]:
    """Split (value, weight) pairs into values and probabilities."""
    values = [v for v, _ in pairs]
    w = np.array([x for _, x in pairs], dtype=np.float64)
    return values, w / w.sum()


def zipf(n: int, s: float = 1.1) -> npt.NDArray[np.float64]:
    """Zipf probabilities over ranks 1..n."""
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    return w / w.sum()


@dataclass(frozen=True)
class Buckets:
    """Failure buckets of one driver, most frequent first."""

    names: list[str]
    hashes: list[uuid.UUID]
    symbols: list[str | None]
    kernel_mode: npt.NDArray[np.bool_]
    kernel_event: npt.NDArray[np.bool_]


@lru_cache(maxsize=256)
def buckets_for(driver: str, n: int = BUCKETS_PER_DRIVER) -> Buckets:
    """Deterministic bucket table for a driver (independent of the seed)."""
    module = driver.removesuffix(".sys")
    stem = module.capitalize()
    names: list[str] = []
    symbols: list[str | None] = []
    for i in range(n):
        sub = _SUBSYSTEMS[i % len(_SUBSYSTEMS)]
        act = _ACTIONS[(i // len(_SUBSYSTEMS)) % len(_ACTIONS)]
        generation = i // (len(_SUBSYSTEMS) * len(_ACTIONS))
        func = f"{stem}{sub}{act}{generation or ''}"
        names.append(f"{BUG_CHECKS[(i * 7 + len(module)) % len(BUG_CHECKS)]}_{module}!{func}")
        symbols.append(None if i % 11 == 10 else f"{module}!{func}+0x{(i * 37) % 4096:x}")
    idx = np.arange(n)
    return Buckets(
        names=names,
        hashes=[uuid.uuid5(FAILURE_NAMESPACE, name) for name in names],
        symbols=symbols,
        kernel_mode=(idx % 9) != 4,
        kernel_event=(idx % 6) != 3,
    )


def driver_versions(driver: str) -> list[str]:
    """Driver versions, newest (most installed) first."""
    major = 30 + len(driver) % 5
    return [f"{major}.0.{15 - i}.{1000 + 13 * i + len(driver)}" for i in range(VERSIONS_PER_DRIVER)]


def hardware_id(driver: str, version_index: int) -> str:
    """A plausible PnP hardware id for the device a driver serves."""
    vendor = 0x1000 + (sum(map(ord, driver)) % 0xEFFF)
    return f"PCI\\VEN_{vendor:04X}&DEV_{0x2000 + 31 * version_index + len(driver):04X}"


def oem_models(oem: str) -> list[tuple[str, str, str]]:
    """(OEMModel, ModelFamily, Baseboard) of one machine maker."""
    prefix = oem.split()[0]
    code = "".join(w[0] for w in oem.split()).upper()
    out = []
    for i, series in enumerate(MODEL_SERIES):
        size = 13 + (i % 4)
        out.append((f"{prefix} {series} {size}", f"{prefix} {series}", f"{code}-{series.upper()}-{1000 + i}"))
    return out
