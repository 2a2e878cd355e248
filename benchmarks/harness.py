"""What every benchmark module shares: the run's settings, results, child processes, spools, counters."""

from __future__ import annotations

import cProfile
import multiprocessing
import pstats
import resource
import struct
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, event

from iep_followup.config import load_settings
from iep_followup.tracker import Tracker

# The weekly cycle: requests go out on Tuesday morning, replies come in on Wednesday,
# the digest is compiled on Friday afternoon (all in America/New_York, the default zone).
REQUESTS_AT = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
REPLIES_AT = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
DIGESTS_AT = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)

SECRET = "benchmark-secret-key-0123456789"
FROM_ADDRESS = "IEP Follow-up <iep-followup@district.example.org>"
REPLY_ADDRESS = "iep-replies@district.example.org"

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class BenchConfig:
    backend: str
    size: int
    database_url: str
    workdir: Path
    smtp_port: int
    profile_dir: Path | None = None

    @property
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{self.smtp_port}?timeout=60"

    def spool(self, name: str) -> Path:
        return self.workdir / f"{name}.spool"


@dataclass(frozen=True)
class Measured:
    """One timed run, library stage or baseline, as measured inside its own process."""

    name: str
    count: int
    seconds: float
    peak_rss_mb: float
    queries: int = 0
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


def make_tracker(config: BenchConfig, now: datetime, **settings_overrides: Any) -> Tracker:
    settings = load_settings(
        env_file=None,
        database_url=config.database_url,
        secret_key=SECRET,
        smtp_url=config.smtp_url,
        from_address=FROM_ADDRESS,
        reply_address=REPLY_ADDRESS,
        **settings_overrides,
    )
    return Tracker(settings, clock=lambda: now)


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux: this process's high-water mark.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class QueryCounter:
    """Counts the statements an engine sends (SQLAlchemy's before_cursor_execute event)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


@contextmanager
def profiled(config: BenchConfig, name: str) -> Iterator[None]:
    """With --profile DIR, keep a cProfile of the block as DIR/<backend>-<size>-<name>.prof."""
    if config.profile_dir is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        config.profile_dir.mkdir(parents=True, exist_ok=True)
        target = config.profile_dir / f"{config.backend}-{config.size}-{name}.prof"
        pstats.Stats(profiler).dump_stats(target)


def in_child(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `function` in a fresh interpreter, so its peak RSS is its own and nothing leaks between stages."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args, **kwargs).result()


# --- spools: length-prefixed records on disk, so no process holds a whole district's mail ---

_LENGTH = struct.Struct(">I")


def write_records(path: Path, records: Iterable[bytes]) -> int:
    count = 0
    with path.open("wb") as out:
        for record in records:
            out.write(_LENGTH.pack(len(record)))
            out.write(record)
            count += 1
    return count


def read_records(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while header := source.read(_LENGTH.size):
            (length,) = _LENGTH.unpack(header)
            yield source.read(length)
