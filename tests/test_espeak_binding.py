"""The espeak-ng binding: pyttsx3 is pinned exactly, and a moved binding is one clear line."""

from __future__ import annotations

import io
import json
import sys
import tomllib
import types
from pathlib import Path

import pytest

from voiceguide.speech_out import synth_worker
from voiceguide.speech_out.synth import SynthesisError, Synthesizer, VoiceSettings
from voiceguide.speech_out.synth_worker import PYTTSX3_PIN, BindingMissing, load_binding

ROOT = Path(__file__).resolve().parents[1]


def _hide_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `from pyttsx3.drivers import _espeak` fail, as if a release moved it."""
    import pyttsx3.drivers

    monkeypatch.delattr(pyttsx3.drivers, "_espeak", raising=False)
    monkeypatch.setitem(sys.modules, "pyttsx3.drivers._espeak", None)


def test_pyttsx3_is_pinned_exactly_to_the_version_the_worker_was_written_for() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [d.split("#")[0].strip() for d in dependencies if d.startswith("pyttsx3")] == [
        f"pyttsx3=={PYTTSX3_PIN}"
    ]


def test_a_moved_binding_is_one_line_naming_the_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_binding(monkeypatch)
    with pytest.raises(BindingMissing) as caught:
        load_binding()
    message = str(caught.value)
    assert "\n" not in message
    assert "has no espeak-ng binding at pyttsx3.drivers._espeak" in message
    assert message.endswith(f"pip install 'pyttsx3=={PYTTSX3_PIN}'")


def test_a_binding_that_lost_a_function_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyttsx3.drivers

    stripped = types.ModuleType("pyttsx3.drivers._espeak")
    stripped.Initialize = lambda *_: 22050  # type: ignore[attr-defined]
    monkeypatch.setattr(pyttsx3.drivers, "_espeak", stripped, raising=False)
    monkeypatch.setitem(sys.modules, "pyttsx3.drivers._espeak", stripped)
    with pytest.raises(BindingMissing, match="binding lacks SetSynthCallback, Info, "):
        load_binding()


def test_the_worker_says_so_in_its_hello(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_binding(monkeypatch)
    replies = io.StringIO()
    assert synth_worker.serve(io.StringIO(""), replies) == 1
    hello = json.loads(replies.getvalue())
    assert hello["ready"] is False and "pyttsx3.drivers._espeak" in hello["error"]


def test_the_user_sees_one_line_without_the_espeak_hint() -> None:
    program = (
        "import sys; sys.modules['pyttsx3.drivers._espeak'] = None; "
        "from voiceguide.speech_out.synth_worker import main; raise SystemExit(main())"
    )
    command = (sys.executable, "-c", program)
    with (
        Synthesizer(startup_timeout_s=20, retries=0, worker_command=command) as synth,
        pytest.raises(SynthesisError) as caught,
    ):
        synth.render("hello", VoiceSettings())
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("speech synthesis is unavailable: pyttsx3 ")
    assert "is espeak-ng installed" not in message
