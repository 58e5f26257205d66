"""A real Janus for tests: Debian's `janus` started with a generated configuration in a
temporary folder. HTTP transport only, on a free loopback port; token auth on with a
generated secret; only the VideoRoom plugin (with a generated admin_key); every other
plugin, transport, logger and event handler listed in a `disable` setting.

Readiness is Janus's own last start-up line, read from its output; the
process is stopped with SIGTERM (Janus's clean shutdown) and can be started again on the
same port, which is how tests restart it in the middle.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import secrets
import shutil
import signal
from pathlib import Path

import httpx

from support.processes import free_port

JANUS = shutil.which("janus")
MISSING = "janus is not installed here (`apt-get install -y janus`; .ci/run installs it)"

# Where Debian (and a source build in /opt/janus) put the plugin folders.
_LIB_PATTERNS = (
    "/usr/lib/*/janus",
    "/usr/lib/janus",
    "/usr/local/lib/janus",
    "/opt/janus/lib/janus",
)
# The HTTP transport's last start-up line: Janus has loaded everything by then (a signal
# that arrives earlier, half-way through start-up, can leave Janus 1.1.2 hanging).
_READY = "JANUS REST (HTTP/HTTPS) transport plugin initialized"
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0


def janus_lib_folder() -> Path:
    """The folder holding Janus's plugins/, transports/, events/ and loggers/."""
    for pattern in _LIB_PATTERNS:
        for folder in sorted(glob.glob(pattern)):
            if Path(folder, "plugins", "libjanus_videoroom.so").exists():
                return Path(folder)
    raise RuntimeError("Janus's VideoRoom plugin (libjanus_videoroom.so) was not found")


def _disable(folder: Path, keep: str | None) -> str:
    """Every module in `folder` but `keep`, as a Janus `disable` list."""
    names = sorted(p.name for p in folder.glob("*.so") if p.name != keep)
    return ",".join(names)


class JanusServer:
    """One Janus process with its own configuration folder."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.token_auth_secret = secrets.token_urlsafe(32)
        self.admin_key = secrets.token_urlsafe(24)
        self.process: asyncio.subprocess.Process | None = None
        self.log: list[str] = []
        self.returncode: int | None = None
        self._drain: asyncio.Task[None] | None = None
        self._write_config()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/janus"

    @property
    def config_folder(self) -> Path:
        return self.workdir / "conf"

    def _write_config(self) -> None:
        lib = janus_lib_folder()
        conf = self.config_folder
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "janus.jcfg").write_text(
            f"""general: {{
  configs_folder = "{conf}"
  plugins_folder = "{lib / "plugins"}"
  transports_folder = "{lib / "transports"}"
  events_folder = "{lib / "events"}"
  loggers_folder = "{lib / "loggers"}"
  debug_level = 4
  token_auth = true
  token_auth_secret = "{self.token_auth_secret}"
}}
media: {{
}}
nat: {{
  ice_enforce_list = "lo"
}}
plugins: {{
  disable = "{_disable(lib / "plugins", "libjanus_videoroom.so")}"
}}
transports: {{
  disable = "{_disable(lib / "transports", "libjanus_http.so")}"
}}
loggers: {{
  disable = "{_disable(lib / "loggers", None)}"
}}
events: {{
  broadcast = false
  disable = "{_disable(lib / "events", None)}"
}}
"""
        )
        (conf / "janus.transport.http.jcfg").write_text(
            f"""general: {{
  json = "plain"
  base_path = "/janus"
  http = true
  port = {self.port}
  ip = "127.0.0.1"
  https = false
}}
admin: {{
  admin_http = false
  admin_https = false
}}
"""
        )
        (conf / "janus.plugin.videoroom.jcfg").write_text(
            f"""general: {{
  admin_key = "{self.admin_key}"
}}
"""
        )

    async def start(self) -> None:
        if self.process is not None:
            raise RuntimeError("Janus is already running")
        assert JANUS is not None, MISSING
        self.process = await asyncio.create_subprocess_exec(
            JANUS,
            "-C",
            str(self.config_folder / "janus.jcfg"),
            "-F",
            str(self.config_folder),
            "--disable-colors",
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            await asyncio.wait_for(self._until_ready(), _START_TIMEOUT)
            await self._answers_info()
        except BaseException:
            await self.stop()
            raise
        assert self.process.stdout is not None
        self._drain = asyncio.create_task(self._read_rest(self.process.stdout))

    async def _until_ready(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                raise RuntimeError("Janus exited before it was ready:\n" + "\n".join(self.log))
            text = line.decode(errors="replace").rstrip()
            self.log.append(text)
            if _READY in text:
                return

    async def _answers_info(self) -> None:
        """Janus's API answers: `info` needs no token even with token auth on."""
        async with httpx.AsyncClient(timeout=10.0) as http:
            response = await http.get(f"{self.url}/info")
            response.raise_for_status()
            if response.json().get("janus") != "server_info":
                raise RuntimeError(f"Janus answered {response.text!r} to info")

    async def _read_rest(self, stdout: asyncio.StreamReader) -> None:
        """Keep reading Janus's output, so it never blocks writing to a full pipe."""
        while line := await stdout.readline():
            self.log.append(line.decode(errors="replace").rstrip())

    async def stop(self) -> None:
        """Stop Janus cleanly (SIGTERM); kill it if it does not stop in time. The exit
        status is kept in `returncode` (0 after a clean stop)."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), _STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        self.returncode = process.returncode
        if self._drain is not None:
            with contextlib.suppress(Exception):
                await self._drain
            self._drain = None

    async def restart(self) -> None:
        """Stop and start again on the same port: Janus forgets every room and session."""
        await self.stop()
        await self.start()
