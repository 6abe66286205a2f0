"""`mailmig completion bash|zsh|fish`: the printed code is valid in its shell, and a Tab in
that shell really completes mailmig's subcommands and options (the shell runs `mailmig`, which
answers from its own parser)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from tests.support.needs import need


def completion_script(capsys: pytest.CaptureFixture[str], shell: str) -> str:
    assert main(["completion", shell]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


@pytest.fixture
def mailmig_on_path(tmp_path: Path) -> str:
    """A PATH whose `mailmig` runs this checkout with this interpreter, as the installed one."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "mailmig"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mailmig_tui "$@"\n')
    launcher.chmod(0o755)
    return f"{bin_dir}:/usr/bin:/bin"


def run_shell(argv: list[str], path: str, home: Path) -> str:
    done = subprocess.run(
        argv,
        env={"PATH": path, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def bash_completions(script: Path, line: str, path: str, home: Path) -> list[str]:
    """What bash's completion function offers with the cursor at the end of `line`."""
    words = line.split(" ")
    program = (
        f"source {script}\n"
        f"COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        "_python_argcomplete mailmig\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    return run_shell(["bash", "--norc", "--noprofile", "-c", program], path, home).split()


def test_bash_code_is_valid_and_completes_subcommands_and_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mailmig_on_path: str
) -> None:
    script = tmp_path / "mailmig.bash"
    script.write_text(completion_script(capsys, "bash"))
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)

    assert sorted(bash_completions(script, "mailmig co", mailmig_on_path, tmp_path)) == [
        "coexistence",
        "completion",
        "copy",
    ]
    assert "--dry-run" in bash_completions(script, "mailmig copy --dr", mailmig_on_path, tmp_path)
    assert bash_completions(script, "mailmig completion f", mailmig_on_path, tmp_path) == ["fish"]


def test_zsh_code_is_valid_and_completes_subcommands(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mailmig_on_path: str
) -> None:
    need(shutil.which("zsh") is not None, "zsh")
    script = tmp_path / "_mailmig"
    script.write_text(completion_script(capsys, "zsh"))
    subprocess.run(["zsh", "-n", str(script)], check=True, timeout=30)
    # Without an interactive line editor, stand in for compsys: `compdef` registers nothing
    # and `_describe` prints the candidates it is handed (as "name:help").
    program = (
        "compdef() { :; }\n"
        '_describe() { print -rl -- "${(@P)2}"; }\n'
        f"source {script}\n"
        "words=(mailmig co); BUFFER='mailmig co'; CURSOR=${#BUFFER}\n"
        "_python_argcomplete\n"
    )
    out = run_shell(["zsh", "-f", "-c", program], mailmig_on_path, tmp_path)
    offered = sorted(line.split(":", 1)[0] for line in out.splitlines())
    assert offered == ["coexistence", "completion", "copy"]


def test_fish_code_is_valid_and_completes_subcommands(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mailmig_on_path: str
) -> None:
    need(shutil.which("fish") is not None, "fish")
    script = tmp_path / "mailmig.fish"
    script.write_text(completion_script(capsys, "fish"))
    subprocess.run(["fish", "--no-execute", str(script)], check=True, timeout=30)
    program = f"source {script}; complete --do-complete 'mailmig co'"
    out = run_shell(["fish", "--no-config", "-c", program], mailmig_on_path, tmp_path)
    offered = sorted(line.split("\t", 1)[0] for line in out.splitlines())
    assert offered == ["coexistence", "completion", "copy"]


def test_an_unknown_shell_is_one_line_naming_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["completion", "tcsh"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "'bash', 'zsh', 'fish'" in err
