"""A web server on the operator's host: the test stand-in for ZeroTier's download site."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .netns import Host


@contextlib.contextmanager
def serve(host: Host, directory: Path, port: int, logs: Path) -> Iterator[str]:
    """Serves ``directory`` over HTTP from ``host`` until the block ends; yields the base URL."""
    with open(logs / "http.log", "w") as out, open(logs / "http.err", "w") as err:
        server = host.popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", str(host.ip), "--directory", str(directory)],
            stdout=out,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 10
            while not host.run(["ss", "-Hltn", f"sport = :{port}"]).stdout.strip():
                assert time.monotonic() < deadline, "the test mirror did not start"
                time.sleep(0.05)
            yield f"http://{host.ip}:{port}"
        finally:
            server.terminate()
            server.wait()
