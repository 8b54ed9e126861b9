"""The load test's app server (bench/load_test.py): a fresh sample workspace, one ``streamlit run
app.py`` serving it on a free port, and where the machine's CPU went while the sessions ran.

The server runs with ``--server.fileWatcherType none``: a served app does not reload modules when
files under it change (and the figures are not disturbed by a file watcher).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USER = "PC Load Test (0012)"


def free_port() -> int:
    """A TCP port nobody is listening on now (the kernel picks it), so parallel runs never clash."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_workspace(target: Path, source: Path | None = None) -> Path:
    """A fresh sample workspace at ``target``: a copy of ``source``, or a new one made by
    ``closuremap init --sample``."""
    if source is not None:
        shutil.copy(source, target)
        return target
    script = Path(sys.executable).parent / "closuremap"
    cmd = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "import sys; from closuremap.cli import main; sys.exit(main())"]
    )
    subprocess.run(
        [*cmd, "init", str(target), "--sample"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return target


class Server:
    """One ``streamlit run app.py`` on a free port, in its own process group, logging to a file."""

    def __init__(self, workspace: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "CLOSUREMAP_WORKSPACE": str(workspace), "CLOSUREMAP_USER": USER}
        self._out = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.cpu0 = 0.0

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        self.cpu0 = self.cpu_seconds()
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(
            f"streamlit did not answer in {timeout:.0f} s:\n{self.log.read_text()[-3000:]}"
        )

    def _status(self, key: str) -> int | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024  # kB
        except OSError:
            return None
        return None

    def rss_peak(self) -> int | None:
        """The server's peak resident memory in bytes: the kernel's high-water mark (VmHWM)."""
        return self._status("VmHWM")

    def rss_now(self) -> int | None:
        return self._status("VmRSS")

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except (OSError, IndexError, ValueError):
            return float("nan")

    def log_size(self) -> int:
        self._out.flush()
        return self.log.stat().st_size if self.log.exists() else 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._out.close()


# -- where the CPU went ----------------------------------------------------------------------------


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan"), float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def tree_cpu(root: int, skip: int) -> float:
    """CPU seconds of ``root`` and every live process under it (with their reaped children) but the
    ``skip`` process: this script, Playwright's driver and Chromium, not the server."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (
            sum(int(x) for x in fields[11:15]) / tick
        )  # utime stime cutime cstime
    total = 0.0
    for pid in cpu:
        p = pid
        while p and p != root and p != skip and p in parents:
            p = parents[p]
        if p == root:
            total += cpu[pid]
    return total
