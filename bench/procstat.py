"""CPU seconds and RSS of a process, from procfs; and waiting for a server process to
listen."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

from server.settings import Settings


class ProcStat:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._tick = os.sysconf("SC_CLK_TCK")
        self._cpu0 = 0.0
        self._t0 = 0.0

    def cpu_s(self) -> float:
        with open(f"/proc/{self.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def start(self) -> None:
        self._cpu0, self._t0 = self.cpu_s(), time.monotonic()

    def stop(self) -> dict[str, float]:
        cpu, wall = self.cpu_s() - self._cpu0, time.monotonic() - self._t0
        return {"cpu_s": cpu, "cpu_pct": 100.0 * cpu / wall}


def cpu_s(pid: int) -> float:
    """utime + stime of `pid` in seconds; 0 when it is gone."""
    try:
        return ProcStat(pid).cpu_s()
    except OSError:
        return 0.0


class CpuMeter:
    """Server CPU over an interval, summed over several processes (a server and the
    database backends working for it)."""

    def __init__(self, pids: list[int]) -> None:
        self._pids = pids
        self._start: dict[int, float] = {}
        self._t0 = 0.0

    def start(self) -> None:
        self._start = {pid: cpu_s(pid) for pid in self._pids}
        self._t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        now = {pid: cpu_s(pid) for pid in self._pids}
        cpu = sum(max(0.0, value - self._start.get(pid, 0.0)) for pid, value in now.items())
        wall = time.monotonic() - self._t0
        return {"cpu_s": cpu, "cpu_pct": 100.0 * cpu / max(wall, 1e-9)}


async def wait_listening(port: int, proc: subprocess.Popen[bytes], within_s: float = 30.0) -> None:
    """Return once 127.0.0.1:`port` accepts connections; RuntimeError if `proc` exits
    first, TimeoutError after `within_s`."""
    async with asyncio.timeout(within_s):
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)


def tandem_env(settings: Settings) -> dict[str, str]:
    """The environment of a Tandem process run on `settings`."""
    return {
        **os.environ,
        "TANDEM_DATA_DIR": str(settings.data_dir),
        "SECRET_KEY": settings.secret_key,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "TANDEM_LOG_LEVEL": "WARNING",
    }


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server, killing it if it has not exited 10 s later."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
