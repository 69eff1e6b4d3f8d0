"""Every ```bash block of the user guide runs: each page in a fresh directory, its blocks
in order, with this interpreter's `tdtp` first on PATH."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tdtp_core.testing.services import unreachable

GUIDE = Path(__file__).resolve().parents[2] / "sdk-docs" / "user-guide"
PAGES = sorted(p.name for p in GUIDE.glob("*.md"))
_BASH = re.compile(r"```bash\n(.*?)```", re.S)


def test_every_command_group_has_a_page() -> None:
    assert PAGES == ["brokers.md", "compare.md", "databases.md", "packets.md",
                     "pipelines.md", "plugins.md", "queries.md"]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_examples_run(page: str, tmp_path: Path) -> None:
    if page == "brokers.md":
        try:
            socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
        except OSError:
            unreachable("the broker examples need RabbitMQ on 127.0.0.1:5672")
    script = "set -euo pipefail\n" + "\n".join(_BASH.findall((GUIDE / page).read_text()))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TDTP_PLUGINS_", "TDTP_CONFIG"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
