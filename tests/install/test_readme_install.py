"""The README's first command works on a stock Debian machine, whose /usr/bin/python3 refuses
`pip install` outside a virtual environment (PEP 668, its EXTERNALLY-MANAGED marker).

The command is read from the README itself, so the two cannot drift apart. It runs on a fresh
copy of the checkout, with a throw-away HOME and a PATH that has no other Python than Debian's;
pip downloads the dependencies, so the newest Textual the runtime range allows is the one the
installed app runs on. The run part (`mailmig demo`, the TUI) runs for real in a terminal of
80x24, and `q` quits it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import termios
from pathlib import Path

import pytest

from tests.support.needs import need

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path("/usr/bin/python3")
STOCK_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
"""A Debian PATH without /usr/local: no Python there but Debian's own."""

ANSI_ESCAPE = re.compile(rb"\x1b\[[0-9;?<>=]*[A-Za-z~]|\x1b[()][A-Z0-9]|\x1b[=>]")


def readme_first_command() -> tuple[str, str]:
    """(install part, run part) of the first line of the README's set-up block."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    setup = readme.split("\n## Set-up", 1)[1]
    block = setup.split("```sh\n", 1)[1].split("```", 1)[0]
    command = block.splitlines()[0].split("  #", 1)[0].strip()
    install, run = command.split(" && ")
    assert run.endswith(" demo"), (
        f"the README's first command should end by running the demo: {run}"
    )
    return install, run


def fresh_copy(destination: Path) -> Path:
    """The checkout as a clone would have it, uncommitted edits included, no build leftovers."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the work tree is not copied
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def admin_env(home: Path) -> dict[str, str]:
    env = {"HOME": str(home), "PATH": STOCK_PATH, "LANG": "C.UTF-8", "TERM": "xterm-256color"}
    # The machine's way out to the package index, if it has one; nothing else of ours.
    env.update({k: v for k, v in os.environ.items() if k.lower().endswith("_proxy")})
    env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})
    return env


def run_in_terminal(command: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run `command` on an 80x24 pseudo-terminal; press `q` once the demo's panes are drawn."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        ["bash", "-c", command],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    os.close(terminal)
    screen, quit_sent = b"", False
    try:
        # Each wait is for the app's next output; 60 s of silence means it hangs.
        while select.select([controller], [], [], 60)[0]:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the app exited and closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            if not quit_sent and b"Demo mailbox" in ANSI_ESCAPE.sub(b"", screen):
                os.write(controller, b"q")
                quit_sent = True
        else:
            process.kill()
        code = process.wait(timeout=60)
    finally:
        os.close(controller)
    text = ANSI_ESCAPE.sub(b"", screen).decode("utf-8", "replace")
    assert quit_sent, f"the demo never drew its panes:\n{text[-2000:]}"
    return code, text


@pytest.mark.timeout(900)
def test_readme_first_command_installs_and_runs_with_debians_own_python(tmp_path: Path) -> None:
    stdlib = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    need(
        SYSTEM_PYTHON.exists() and (Path(stdlib) / "EXTERNALLY-MANAGED").exists(),
        "Debian's /usr/bin/python3 with its EXTERNALLY-MANAGED marker",
    )
    need(Path("/usr/bin/pipx").exists(), "Debian's pipx")
    need(shutil.which("git") is not None and (REPO / ".git").exists(), "a git checkout")
    install, run = readme_first_command()
    checkout = fresh_copy(tmp_path / "mailmig")
    home = tmp_path / "home"
    home.mkdir()
    env = admin_env(home)

    # The old first command is refused here: the check runs where the bug was.
    refused = subprocess.run(
        [str(SYSTEM_PYTHON), "-m", "pip", "install", "-e", "."],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode != 0

    # Twice: an admin runs it again to upgrade, and the second run must work too.
    for attempt in ("first", "second"):
        done = subprocess.run(
            ["bash", "-c", install],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"{attempt} `{install}`:\n{done.stdout}\n{done.stderr}"

    (venv_config,) = home.rglob("venvs/mailmig-tui/pyvenv.cfg")
    assert "home = /usr/bin\n" in venv_config.read_text()  # built on Debian's python3

    version = subprocess.run(
        ["bash", "-c", run.removesuffix(" demo") + " --version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("mailmig ")

    code, screen = run_in_terminal(run, env, checkout)
    assert code == 0, screen[-2000:]
    assert "Target: Empty target (Maildir)" in screen
