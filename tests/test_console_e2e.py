"""End to end: real `voiceguide` processes in console mode, driven through a pipe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voiceguide.content.loader import load_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.coaching import Coaching, progression_for
from voiceguide.core.timeline import plan_session

ROOT = Path(__file__).resolve().parents[1]
ROUTINES, _ = load_routines(ROOT / "voiceguide" / "data" / "routines")
LINE = re.compile(r"^\[(\d\d):(\d\d\.\d)\] (.*)$")
SPEED = 250.0
FIRST_SESSION = Coaching(progression=progression_for(0, None), sessions_this_week=1)


def voiceguide(*args: str, tmp_path: Path, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "VOICEGUIDE_HISTORY": str(tmp_path / "history.db"),
           "VOICEGUIDE_CONFIG": str(tmp_path / "config.yaml")}  # fmt: skip
    (tmp_path / "config.yaml").touch()
    return subprocess.Popen(
        [sys.executable, "-m", "voiceguide", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=ROOT, **kwargs,
    )  # fmt: skip


def spoken(stdout: str) -> list[str]:
    return [m.group(3) for line in stdout.splitlines() if (m := LINE.match(line))]


class Conversation:
    """Reads a console run line by line and answers when a given line appears."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []

    def wait_for(self, fragment: str, timeout_seconds: float = 30.0) -> str:
        deadline = time.monotonic() + timeout_seconds
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if fragment in line:
                return line
        raise AssertionError(f"never saw {fragment!r}; got:\n" + "\n".join(self.lines[-15:]))

    def say(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def finish(self) -> tuple[list[str], str]:
        out, err = self.proc.communicate(timeout=60)
        self.lines += out.splitlines()
        return spoken("\n".join(self.lines)), err


@pytest.mark.parametrize("routine", ROUTINES, ids=lambda r: r.id)
def test_every_routine_plays_in_order_to_the_end(routine, tmp_path: Path) -> None:
    proc = voiceguide("run", routine.id, "--text", "--speed", str(SPEED), tmp_path=tmp_path)
    out, err = proc.communicate("", timeout=120)
    assert proc.returncode == 0, err
    lines = spoken(out)
    # A first session ever: it starts slowly, and it is the first this week.
    planned = plan_session(routine, load_locale("en"), 160, FIRST_SESSION).cues()
    # At high speed a loaded machine may wake late; late counts are dropped by design, but
    # everything else must be said, in the planned order.
    must = [c.text for c in planned if c.kind not in ("count", "halfway", "breath", "rep")]
    it = iter(lines)
    assert all(text in it for text in must), "spoken lines out of order"
    assert lines[-2].startswith(f"That is the end of {routine.title}")
    assert lines[-1] == "That is your first session this week."
    assert "Routine complete." in err


def test_it_hurts_mid_hold_stops_with_safety_advice_and_is_recorded(tmp_path: Path) -> None:
    talk = Conversation(voiceguide("run", "gentle-back", "--text", "--speed", "20",
                                   tmp_path=tmp_path))  # fmt: skip
    talk.wait_for("Hold here")
    talk.say("ow that hurts")
    lines, err = talk.finish()
    assert talk.proc.returncode == 0
    hold_at = next(i for i, line in enumerate(lines) if "Hold here" in line)
    after = lines[hold_at + 1 :]
    assert after and after[-1].startswith("Ending the session now. Ease out of the position")
    assert "emergency services" in after[-1]
    assert "pain report" in err
    history = subprocess.run(
        [sys.executable, "-m", "voiceguide", "--history-db", str(tmp_path / "history.db"),
         "history"], capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    assert "pain" in history.stdout
    assert "Knee to chest" in history.stdout


def test_pause_resume_skip_and_questions_by_typing(tmp_path: Path) -> None:
    talk = Conversation(voiceguide("run", "quick-reset", "--text", "--speed", "10",
                                   tmp_path=tmp_path))  # fmt: skip
    talk.wait_for(" times, at an easy pace.")  # fewer than ten at first: it starts slowly
    talk.say("pause")
    talk.wait_for("Paused. Say resume when you are ready.")
    talk.say("how long left")
    talk.wait_for("left on this one")
    talk.say("resume")
    talk.wait_for("Okay, carrying on.")
    talk.say("what's next")
    talk.wait_for("After this: Knee to chest.")
    talk.say("skip")
    talk.wait_for("Knee to chest.")
    talk.say("stop")
    lines, err = talk.finish()
    assert lines[-1] == "Ending the session here. Thank you for stretching with me."
    assert "Session stopped." in err


def test_unknown_routine_lists_close_matches_and_exits_2(tmp_path: Path) -> None:
    proc = voiceguide("run", "gentle-bak", "--text", tmp_path=tmp_path)
    _out, err = proc.communicate("", timeout=60)
    assert proc.returncode == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "gentle-back" in err


def test_not_a_command_is_explained_not_obeyed(tmp_path: Path) -> None:
    talk = Conversation(voiceguide("run", "quick-reset", "--text", "--speed", "10",
                                   tmp_path=tmp_path))  # fmt: skip
    talk.wait_for("Quick reset.")
    talk.say("banana")
    talk.say("stop")
    lines, err = talk.finish()
    assert "not a command: 'banana'" in err
    assert lines[-1].startswith("Ending the session here.")


def offset_of(line: str) -> float:
    """Session seconds of a printed line: [mm:ss.s]."""
    match = LINE.match(line)
    assert match, line
    return int(match.group(1)) * 60 + float(match.group(2))


def history_text(tmp_path: Path) -> str:
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", "--history-db", str(tmp_path / "history.db"),
         "history"], capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout  # fmt: skip


def two_runs_with_pain_memory(tmp_path: Path) -> tuple[list[str], str, list[str], str]:
    """Run 1: "it hurts" halfway through the left side of knee to chest. Run 2: offered to leave it out,
    "leave it out", then stop at the next exercise. Returns each run's printed lines and stderr."""
    first = Conversation(voiceguide("run", "gentle-back", "--text", "--speed", "20",
                                    tmp_path=tmp_path))  # fmt: skip
    first.wait_for("Left side first.")
    first.wait_for("Halfway there.")  # the left side's hold
    first.say("it hurts")
    _, first_err = first.finish()
    assert first.proc.returncode == 0, first_err
    second = Conversation(voiceguide("run", "gentle-back", "--text", "--speed", "20",
                                     tmp_path=tmp_path))  # fmt: skip
    second.wait_for("Last time, Knee to chest was uncomfortable on your left side.")
    second.say("leave it out")
    second.wait_for("Okay, we will leave that one out today.")
    second.wait_for("Cat cow.")
    second.say("stop")
    _, second_err = second.finish()
    assert second.proc.returncode == 0, second_err
    return first.lines, first_err, second.lines, second_err


def test_pain_on_a_side_is_remembered_and_left_out_next_time(tmp_path: Path) -> None:
    first, first_err, second, second_err = two_runs_with_pain_memory(tmp_path)
    # Run 1 ends with the safety advice; the console says what was recorded as sentences.
    assert spoken("\n".join(first))[-1].startswith("Ending the session now.")
    assert "voiceguide: Pain reported during Knee to chest (step 2, left side)" in first_err
    assert "WARNING" not in first_err and "voiceguide.runner" not in first_err
    # Run 2: the question comes before the exercise's set-up, and the typed answer (not the
    # silent default, which waits 15 s) leaves it out: no set-up, straight on to cat cow.
    question = next(i for i, line in enumerate(second) if "Last time, Knee to chest" in line)
    assert "We can leave it out today, or do the gentler version." in second[question]
    answer = next(i for i, line in enumerate(second) if "leave that one out today" in line)
    assert offset_of(second[answer]) - offset_of(second[question]) < 5.0
    after = spoken("\n".join(second[answer + 1 :]))
    assert after[0] == "Cat cow."
    assert not any("knee" in line.lower() for line in after)
    assert "Session stopped." in second_err
    # The history shows both runs, newest first, with each side's record.
    text = history_text(tmp_path)
    lines = text.splitlines()
    assert lines[0] == "Last time, Knee to chest was uncomfortable on your left side."
    sessions = [i for i, line in enumerate(lines) if "Gentle lower back" in line]
    assert len(sessions) == 2
    newest, oldest = lines[sessions[0] : sessions[1]], lines[sessions[1] :]
    assert newest[0].endswith("stopped") and oldest[0].endswith("pain")
    assert "    2. Knee to chest, left side: left out" in newest
    assert "    2. Knee to chest, right side: left out" in newest
    assert any(line.startswith("    1. Pelvic tilt: done, ") for line in oldest)
    assert any(
        line.startswith("    2. Knee to chest, left side: stopped for pain, ") for line in oldest
    )
    assert any(
        line.startswith("    pain during Knee to chest (step 2, left side), ")
        and line.endswith("s into the hold")
        for line in oldest
    )
