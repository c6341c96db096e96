"""Processes: the servers the harness starts (in their own process group), and what /proc says about them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

from .common import CLK_TCK, ROOT, BenchError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (every thread's children file)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


def status_kb(pid: int, field_name: str) -> int:
    """A /proc/<pid>/status field (VmRSS, VmHWM) in kB, 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_ticks(pids: Sequence[int]) -> int:
    """utime + stime of ``pids`` (all their threads), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5), counted after the comm
    return total


def ticks_by_pid(pids: Sequence[int]) -> dict[int, int]:
    return {pid: cpu_ticks([pid]) for pid in pids}


def ticks_since(before: dict[int, int], pids: Sequence[int]) -> int:
    """CPU ticks ``pids`` spent since ``before`` was taken; a process that started since counts from zero."""
    return sum(max(0, cpu_ticks([pid]) - before.get(pid, 0)) for pid in pids)


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving connections to ``database`` (their title names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            title = cmdline(int(entry.name))
            if title.startswith("postgres: ") and f" {database} " in title:
                found.append(int(entry.name))
    return found


def wait_quiet(threshold: float, max_wait: float) -> tuple[float, float]:
    """Wait (at most ``max_wait`` s) until the machine, with our servers idle, is busy below ``threshold`` cores
    over half a second; (seconds waited, last load seen). The development machine is shared: tests may be running.
    """
    started = time.monotonic()
    while True:
        before = busy_ticks()
        time.sleep(0.5)
        load = (busy_ticks() - before) / CLK_TCK / 0.5
        waited = time.monotonic() - started
        if load <= threshold or waited >= max_wait:
            return waited, load
        time.sleep(2)


def busy_ticks() -> int:
    """Clock ticks the whole machine spent busy (everything but idle and iowait), from /proc/stat."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return user + nice + system + irq + softirq + steal


class Server:
    """A server started in its own process group, so that it and its children can be stopped together."""

    def __init__(
        self, name: str, command: list[str], base: str, *, env: dict[str, str] | None = None, log: Path
    ) -> None:
        self.name, self.command, self.base, self.log = name, command, base, log
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as stderr:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self) -> list[int]:
        return tree(self.pid)

    def wait_ready(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with status {self.process.returncode}: {self.tail()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise BenchError(f"{self.name} did not answer {url} within {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-1500:].strip() or "(no output)"
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        # Children that outlived the leader are still in its process group.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextmanager
def servers() -> Iterator[list[Server]]:
    """A list to put started servers in; every one is stopped on the way out, whatever happens."""
    started: list[Server] = []

    def on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield started
    finally:
        for server in reversed(started):
            server.stop()
        signal.signal(signal.SIGTERM, previous)
