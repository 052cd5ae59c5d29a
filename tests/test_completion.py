"""`voiceguide completion bash`: a static script from shtab that bash can load and use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voiceguide.cli.completion import completion_script
from voiceguide.cli.main import main
from voiceguide.errors import UserError


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "voiceguide.bash"
    path.write_text(completion_script("bash"))
    return path


def _complete(script: Path, tmp_path: Path, *words: str) -> list[str]:
    """What bash offers for the last of `words`, with `voiceguide` on PATH as this checkout."""
    shim = tmp_path / "bin" / "voiceguide"
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m voiceguide "$@"\n')
    shim.chmod(0o755)
    program = f"""
source {script}
COMP_WORDS=(voiceguide {" ".join(f"'{w}'" for w in words)})
COMP_CWORD={len(words)}
COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
_shtab_voiceguide voiceguide "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = {"PATH": f"{shim.parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, timeout=60, env=env, check=True
    )
    return result.stdout.split()


def test_the_script_is_valid_bash_and_registers_the_command(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True)
    result = subprocess.run(
        ["bash", "-c", f"source {script} && complete -p voiceguide"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "-F _shtab_voiceguide voiceguide" in result.stdout


def test_it_completes_commands_options_and_routine_ids(script: Path, tmp_path: Path) -> None:
    assert _complete(script, tmp_path, "pl") == ["plan"]
    assert "--routines-dir" in _complete(script, tmp_path, "--rou")
    assert set(_complete(script, tmp_path, "models", "")) >= {"list", "install", "verify"}
    assert _complete(script, tmp_path, "run", "quick") == ["quick-reset"]


def test_the_command_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    assert "_shtab_voiceguide" in capsys.readouterr().out


def test_without_shtab_it_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "shtab", None)
    with pytest.raises(UserError, match=r"needs shtab: pip install 'voiceguide\[completion\]'"):
        completion_script("bash")
