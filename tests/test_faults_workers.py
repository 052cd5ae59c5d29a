"""Fault injection with real PulseAudio: workers die or hang, files rot, the disk fills up.

Every test drives the real program (`voiceguide run` or `voiceguide serve`) in the PulseAudio
room, injects one fault from outside, and then checks what the box said (its spoken lines, and
audio on the speaker sink), what it logged, and what the history database holds afterwards.
Speech runs at 240 words per minute (the fastest the session allows) so the tests stay short.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import IO

import numpy as np
import pytest

from tests.support.audio_room import AudioRoom, alsa_device, rms_db
from tests.support.small_disk import fill
from tests.test_audio_e2e import ROOT, Lines, run_env, say_wav, type_command
from tests.test_audio_e2e import write_config as room_config

pytestmark = [pytest.mark.audio, pytest.mark.slow]

RATE_WPM = 240
WELCOME = "Quick reset. This takes about"
INTRO = "Keep it light, and ease off if anything feels sharp."
SLOWER = "Okay, speaking at a gentler pace."
GOODBYE = "Ending the session here."


# ---- driving the box -------------------------------------------------------------------------
def write_config(tmp_path: Path, extra: str = "") -> None:
    """The room's devices, a private phrase cache, fast speech."""
    room_config(tmp_path, f"rate_wpm: {RATE_WPM}\n" + extra)


def box_env(audio_room: AudioRoom, tmp_path: Path, history: Path | None = None) -> dict[str, str]:
    env = run_env(audio_room, tmp_path)  # history in tmp_path/history.db unless told otherwise
    if history is not None:
        env["VOICEGUIDE_HISTORY"] = str(history)
    return env


def start_box(
    audio_room: AudioRoom, tmp_path: Path, *args: str, history: Path | None = None,
    command: tuple[str, ...] = (sys.executable, "-m", "voiceguide"),
) -> subprocess.Popen[str]:  # fmt: skip
    """The real program with the room as its devices; stdin open for typed commands."""
    if not (tmp_path / "config.yaml").exists():
        write_config(tmp_path)
    return subprocess.Popen(
        [*command, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=box_env(audio_room, tmp_path, history), cwd=ROOT,
    )  # fmt: skip


class Pipe:
    """Reads a pipe on a thread, keeping every line, so waits can time out (for serve's log)."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, fragment: str, timeout: float) -> str | None:
        """The next line containing `fragment`, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            self.lines.append(line)
            if fragment in line:
                return line
        return None

    def text(self) -> str:
        """Everything read so far (after draining what is queued)."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return "\n".join(self.lines)
            if line is not None:
                self.lines.append(line)


# ---- looking at processes and the database ---------------------------------------------------
def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def synth_workers(parent: int) -> list[int]:
    """Live speech-synthesis worker processes whose parent is `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is None or stat[1] != parent or stat[0] == "Z":
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"voiceguide.speech_out.synth_worker" in cmdline:
            found.append(int(entry.name))
    return found


def wait_for_worker(parent: int, not_pid: int | None = None, timeout: float = 15.0) -> int:
    """The pid of the parent's one synthesis worker, waiting for one other than `not_pid`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [p for p in synth_workers(parent) if p != not_pid]
        if workers:
            assert len(workers) == 1, f"more than one speech worker: {workers}"
            return workers[0]
        time.sleep(0.05)
    raise AssertionError(f"process {parent} has no new speech worker after {timeout:g} s")


def wait_until_gone(pid: int, timeout: float = 10.0, zombie_ok: bool = False) -> None:
    """Wait until `pid` no longer exists (reaped, or with zombie_ok merely dead)."""
    deadline = time.monotonic() + timeout
    while (stat := _stat(pid)) is not None and not (zombie_ok and stat[0] == "Z"):
        assert time.monotonic() < deadline, f"process {pid} is still there ({stat[0]})"
        time.sleep(0.05)


def finish(proc: subprocess.Popen[str], lines: Lines, timeout: float = 30.0) -> str:
    """Wait for the box to exit (killing it after `timeout` s); returns its stderr.

    What it said and logged is printed, so a failure (or `pytest -rP`) shows the whole story.
    """
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    assert proc.stderr is not None
    err = proc.stderr.read()
    time.sleep(0.1)  # let the stdout reader catch up with the last lines
    while not lines._queue.empty():
        line = lines._queue.get_nowait()
        if line is not None:
            lines.seen.append(line)
    print(f"--- {' '.join(proc.args[2:])}: exit {proc.returncode}; said:")  # type: ignore[index]
    print("\n".join(lines.seen))
    print("--- logged:")
    shown = err.replace("\r", "\n").splitlines()  # tqdm's progress bar ends lines with \r
    print("\n".join(line for line in shown if line.strip() and "preparing speech" not in line))
    return err


def sessions(db: Path) -> list[tuple[int, str, str | None, str | None]]:
    """(id, routine_id, ended_at, how) of every stored session, oldest first (also printed)."""
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT id, routine_id, ended_at, how FROM sessions ORDER BY id")
        found = rows.fetchall()
        pains = conn.execute("SELECT session_id, exercise, step_index FROM pain_events").fetchall()
    print(f"--- history rows: {found}; pain events: {pains}")
    return found


def integrity(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def speaker_level_db(samples: np.ndarray, from_seconds: float, rate_hz: int = 48000) -> float:
    return rms_db(samples[int(from_seconds * rate_hz) :])


def count(text: str, fragment: str) -> int:
    return sum(fragment in line for line in text.splitlines())


# ---- 1 and 2: the synthesis worker -----------------------------------------------------------
def test_synth_worker_killed_mid_session_is_restarted_and_speech_carries_on(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    proc = start_box(audio_room, tmp_path, "run", "quick-reset")
    lines = Lines(proc)
    try:
        lines.wait_for(WELCOME, timeout=60)
        worker = wait_for_worker(proc.pid)
        os.kill(worker, signal.SIGKILL)
        wait_until_gone(worker, zombie_ok=True)
        speaker = audio_room.record_speaker()
        # Every cue was pre-rendered at 240 wpm; "slower" queues each one for a new render,
        # which only the restarted worker can do.
        type_command(proc, "slower")
        lines.wait_for(SLOWER, timeout=5)
        replacement = wait_for_worker(proc.pid, not_pid=worker)
        wait_until_gone(worker)  # reaped by the box (Popen.poll before restarting)
        # The next timed cue: on time, at the old rate until the new worker has re-rendered it.
        lines.wait_for(INTRO, timeout=20)
        time.sleep(1.5)
        samples, _ = speaker.stop()
        type_command(proc, "stop")
        lines.wait_for(GOODBYE, timeout=10)
    finally:
        err = finish(proc, lines)
    assert proc.returncode == 0, err
    assert count(err, "speech worker exited (code -9); restarting") == 1, err
    # Either the phrase waited for the new worker (late) or its old rendering played on time.
    assert "late phrase started" in err or "playing it at the old one" in err, err
    assert "Traceback" not in err
    assert replacement != worker
    assert speaker_level_db(samples, from_seconds=0.5) > -50, "silence after the restart"
    wait_until_gone(replacement)  # closed with the session, not orphaned
    assert [(how, ended is not None) for _, _, ended, how in sessions(tmp_path / "history.db")] == [
        ("stopped", True)
    ]


def test_hung_synth_worker_is_killed_by_the_watchdog_and_replaced(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    proc = start_box(audio_room, tmp_path, "run", "quick-reset")
    lines = Lines(proc)
    try:
        lines.wait_for(WELCOME, timeout=60)
        worker = wait_for_worker(proc.pid)
        os.kill(worker, signal.SIGSTOP)  # a real hang: the worker never answers
        type_command(proc, "slower")
        stopped_at = time.monotonic()
        lines.wait_for(SLOWER, timeout=5)
        lines.wait_for(INTRO, timeout=20)  # the session keeps time while synthesis hangs
        wait_for_worker(proc.pid, not_pid=worker, timeout=20)
        watchdog_seconds = time.monotonic() - stopped_at
        wait_until_gone(worker)  # the watchdog killed the stopped worker and reaped it
        speaker = audio_room.record_speaker()
        lines.wait_for("Pelvic tilt.", timeout=30)
        time.sleep(1.5)
        samples, _ = speaker.stop()
        type_command(proc, "stop")
        lines.wait_for(GOODBYE, timeout=10)
    finally:
        err = finish(proc, lines)
        try:
            os.kill(worker, signal.SIGKILL)  # never leave a stopped process behind
        except ProcessLookupError:
            pass
    assert proc.returncode == 0, err
    assert 9.0 <= watchdog_seconds <= 16.0, watchdog_seconds  # the 10 s synthesis watchdog
    # Which phrase hangs is a race: "slower" also queues every prepared phrase for re-rendering
    # at the new rate, and the render thread may already have taken one of those.
    (hung,) = [line for line in err.splitlines() if "speech worker hung on" in line]
    assert hung.endswith("; killing it and retrying"), hung
    assert "Traceback" not in err
    assert speaker_level_db(samples, from_seconds=0.0) > -50, "silence after the restart"
    assert [how for _, _, _, how in sessions(tmp_path / "history.db")] == ["stopped"]


# ---- 3: a damaged phrase cache ---------------------------------------------------------------
def _warm_cache(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    """Render quick-reset's phrases as a run would; returns (first spoken files, all files)."""
    from voiceguide.app.config import Config
    from voiceguide.app.plans import coaching_for
    from voiceguide.content.loader import default_routines_dir, find_routine, load_routines
    from voiceguide.content.locales import load_locale
    from voiceguide.core.speech_texts import session_texts
    from voiceguide.core.timeline import plan_session
    from voiceguide.speech_out.phrase_cache import PhraseCache
    from voiceguide.speech_out.synth import Synthesizer

    locale = load_locale("en")
    routine = find_routine("quick-reset", load_routines(default_routines_dir())[0])
    config = Config(rate_wpm=RATE_WPM, progression=False)  # as write_config sets it
    settings = config.voice_settings()
    # Coached as the run's session is: its first cues are these.
    coaching = coaching_for(config, routine, None)
    with Synthesizer() as synth:
        cache = PhraseCache(tmp_path / "cache" / "phrases", synth)
        texts = session_texts([routine], locale, RATE_WPM, coaching)
        cache.prepare(texts, settings, progress=False)
        plan = plan_session(routine, locale, RATE_WPM, coaching)
        first = [cache.path_for(cue.text, settings) for cue in plan.cues()[:3]]
    return first, sorted(cache.directory.glob("*.wav"))


def test_damaged_phrase_cache_entries_are_rendered_again_and_played(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    from voiceguide.speech_out.phrase_cache import is_intact

    first, everything = _warm_cache(tmp_path)
    welcome, intro, pelvic = first
    welcome.write_bytes(welcome.read_bytes()[: len(welcome.read_bytes()) // 2])  # cut short
    data = bytearray(intro.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])  # bit rot
    intro.write_bytes(bytes(data))
    pelvic.write_bytes(b"")  # a file created, then the power went
    untouched = {p: p.stat().st_mtime_ns for p in everything if p not in first}

    speaker = audio_room.record_speaker()
    proc = start_box(audio_room, tmp_path, "run", "quick-reset")
    lines = Lines(proc)
    try:
        lines.wait_for(WELCOME, timeout=60)
        lines.wait_for("Pelvic tilt.", timeout=30)
        time.sleep(0.5)
        type_command(proc, "stop")
        lines.wait_for(GOODBYE, timeout=10)
    finally:
        err = finish(proc, lines)
        samples, _ = speaker.stop()
    assert proc.returncode == 0, err
    for damaged in first:
        assert (
            count(err, f"phrase cache entry {damaged.name} is damaged; it will be rendered again")
            == 1
        ), err
        assert is_intact(damaged.read_bytes()), f"{damaged.name} was not rendered again"
    assert count(err, "is damaged") == 3, err
    assert "not prepared" not in err, "a repaired phrase should be ready before the routine starts"
    assert {p: p.stat().st_mtime_ns for p in untouched} == untouched, "intact entries re-rendered"
    assert rms_db(samples) > -50
    assert [how for _, _, _, how in sessions(tmp_path / "history.db")] == ["stopped"]


# ---- 4: garbage in the routines folder -------------------------------------------------------
def test_garbage_routine_files_are_reported_in_one_line_and_skipped(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    routines = tmp_path / "routines"
    shutil.copytree(ROOT / "voiceguide" / "data" / "routines", routines)
    junk = routines / "junk.yaml"
    junk.write_bytes(bytes(range(256)) * 16)  # binary: NULs, control bytes, invalid UTF-8
    broken = routines / "broken.yaml"
    broken.write_text("id: broken\ntitle: Broken\nsteps: [\n  - {exercise: Cat stretch\n")
    write_config(tmp_path, f"routines_dir: {routines}\n")

    def check_reports(err: str, asked_for: Path | None = None) -> None:
        assert "Traceback" not in err
        for bad in (junk, broken):
            reports = [line for line in err.splitlines() if str(bad) in line]
            assert len(reports) == 1, err
            if bad == asked_for:  # the error itself, not a warning as well
                expected = f"voiceguide: routine '{bad.stem}' could not be loaded: {bad}:"
            else:
                expected = f"voiceguide: skipping broken routine: {bad}:"
            assert reports[0].startswith(expected), reports

    proc = start_box(audio_room, tmp_path, "run", "quick-reset")
    lines = Lines(proc)
    try:
        lines.wait_for(WELCOME, timeout=60)
        type_command(proc, "stop")
        lines.wait_for(GOODBYE, timeout=10)
    finally:
        err = finish(proc, lines)
    assert proc.returncode == 0, err
    check_reports(err)
    assert "could not parse YAML" in err and "not UTF-8" in err

    serve = start_box(audio_room, tmp_path, "serve")
    log = Pipe(serve.stderr)  # type: ignore[arg-type]
    try:
        assert log.wait_for("ready in", timeout=60), log.text()
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=10)
    finally:
        if serve.poll() is None:
            serve.kill()
    print("--- serve logged:\n" + log.text())
    assert serve.returncode == 0
    check_reports(log.text())

    for name in ("broken", "junk"):
        bad = subprocess.run(
            [sys.executable, "-m", "voiceguide", "run", name],
            capture_output=True, text=True, check=False,
            env=box_env(audio_room, tmp_path), cwd=ROOT, timeout=60,
        )  # fmt: skip
        assert bad.returncode == 2, bad.stderr
        check_reports(bad.stderr, asked_for=routines / f"{name}.yaml")
        print(f"--- run {name}: exit {bad.returncode}\n{bad.stderr}")
        *reports, error = bad.stderr.strip().splitlines()
        assert all(r.startswith("voiceguide: skipping broken routine:") for r in reports)
        assert error.startswith(f"voiceguide: routine '{name}' could not be loaded:"), error
    assert [how for _, _, _, how in sessions(tmp_path / "history.db")] == ["stopped"]


# ---- 5: history on a full disk ---------------------------------------------------------------
def test_history_on_a_full_disk_logs_once_and_the_session_carries_on(
    audio_room: AudioRoom, tmp_path: Path, small_disk: Path
) -> None:
    from voiceguide.store.history import History

    db = small_disk / "history.db"
    with History(db) as history:  # yesterday's session, written while there was room
        history.end_session(history.start_session("quick-reset", "Quick reset"), "completed")

    # A: the disk is already full when the session starts.
    filler = fill(small_disk)
    proc = start_box(audio_room, tmp_path, "run", "quick-reset", history=db)
    lines = Lines(proc)
    try:
        lines.wait_for(WELCOME, timeout=60)
        type_command(proc, "stop")
        lines.wait_for(GOODBYE, timeout=10)
    finally:
        err_a = finish(proc, lines)
    assert proc.returncode == 0, err_a
    # SQLite cannot even create its -shm file and says "disk I/O error"; the log adds why.
    (report,) = [line for line in err_a.splitlines() if "history database" in line]
    assert f"history database {db} cannot be opened" in report, report
    assert "disk is full" in report and "this session will not be saved" in report, report

    # B: the disk fills up mid-session; the pain report and the session end both fail.
    filler.unlink()
    proc = start_box(audio_room, tmp_path, "run", "quick-reset", history=db)
    lines = Lines(proc)
    try:
        lines.wait_for(WELCOME, timeout=60)  # the session start is written before this line
        fill(small_disk)
        lines.wait_for(INTRO, timeout=20)
        type_command(proc, "it hurts")
        lines.wait_for("Ending the session now.", timeout=10)
    finally:
        err_b = finish(proc, lines)
    assert proc.returncode == 0, err_b
    assert "Session ended after a pain report" in err_b
    (report,) = [line for line in err_b.splitlines() if "history database" in line]
    assert f"could not write to history database {db}" in report, report
    assert "disk is full" in report and "a pain report was not saved" in report, report
    assert "Traceback" not in err_a + err_b

    # Still full: the database is intact, and `voiceguide history` can read it.
    assert integrity(db) == "ok"
    rows = sessions(db)
    assert [(how, ended is not None) for _, _, ended, how in rows] == [
        ("completed", True),  # yesterday
        (None, False),  # B: started, then its end could not be written
    ]
    shown = subprocess.run(
        [sys.executable, "-m", "voiceguide", "history"],
        capture_output=True, text=True, check=False,
        env=box_env(audio_room, tmp_path, db), cwd=ROOT, timeout=30,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert [line.split()[-1] for line in shown.stdout.splitlines()[1:]] == [
        "interrupted",
        "completed",
    ], shown.stdout


# ---- 6: serve killed while it writes history -------------------------------------------------
def test_serve_killed_during_a_history_write_leaves_a_sound_database(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    start = say_wav("start quick reset", tmp_path / "start.wav")
    stop = say_wav("stop", tmp_path / "stop.wav")
    db = tmp_path / "history.db"
    # Debug logging names every utterance serve ignored, so a failure shows what it heard.
    proc = start_box(audio_room, tmp_path, "--log-level", "debug", "serve")
    log = Pipe(proc.stderr)  # type: ignore[arg-type]

    def say(wav: Path, heard: str) -> None:
        """Speak into the room until serve logs `heard` (it may still be finishing a phrase)."""
        for _ in range(5):
            player = audio_room.play_into_room(wav, wait=False)
            found = log.wait_for(heard, timeout=5)
            assert player.wait(timeout=10) == 0, "paplay could not play into the room"
            if found:
                return
        raise AssertionError(f"serve never heard {wav.stem!r}:\n" + log.text())

    finished = 0
    try:
        assert log.wait_for("ready in", timeout=60), log.text()
        worker = wait_for_worker(proc.pid)
        for _ in range(2):
            say(start, "-> start:quick-reset")
            assert log.wait_for(f"say: {WELCOME}", timeout=10), log.text()
            say(stop, "-> stop")
            assert log.wait_for("session of quick-reset ended: stopped", timeout=5), log.text()
            finished += 1
            time.sleep(2.0)  # the goodbye plays before serve listens for "start" again
        say(start, "-> start:quick-reset")
        assert log.wait_for(f"say: {WELCOME}", timeout=10), log.text()
        # The runner writes the session end the moment the listener has logged what it heard.
        say(stop, "-> stop")
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    print("--- serve logged:\n" + log.text().replace("\r", "\n"))
    assert proc.returncode == -signal.SIGKILL
    wait_until_gone(worker)  # the orphaned worker sees its pipe close and exits

    assert integrity(db) == "ok"
    rows = sessions(db)
    assert len(rows) == 3, rows
    assert [how for _, _, _, how in rows[:finished]] == ["stopped"] * finished
    assert all(ended is not None for _, _, ended, _ in rows[:finished])
    assert rows[2][3] in (None, "stopped"), rows[2]  # killed mid-write: either is consistent
    shown = subprocess.run(
        [sys.executable, "-m", "voiceguide", "history"],
        capture_output=True, text=True, check=False,
        env=box_env(audio_room, tmp_path), cwd=ROOT, timeout=30,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert len(shown.stdout.splitlines()) == 4, shown.stdout  # header and three sessions


# ---- 7: the recogniser thread crashes --------------------------------------------------------
def test_crashed_recogniser_is_restarted_and_hears_it_hurts_in_the_room(
    audio_room: AudioRoom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from voiceguide.app.config import Config
    from voiceguide.content.locales import load_locale
    from voiceguide.core.actions import CommandHeard
    from voiceguide.speech_in import factory
    from voiceguide.speech_in import mic as mic_input
    from voiceguide.speech_in.engine import Engine, Hypothesis

    hurts = say_wav("ow, that hurts", tmp_path / "hurts.wav")
    real_create = factory.create_engine
    made: list[Engine] = []

    class CrashesOnce:
        """The real pocketsphinx engine, except that it raises on its 20th chunk (0.6 s)."""

        def __init__(self, inner: Engine) -> None:
            self.inner = inner
            self.sample_rate_hz = inner.sample_rate_hz
            self.chunks = 0

        def accept(self, pcm16_mono: bytes) -> list[Hypothesis]:
            self.chunks += 1
            if self.chunks == 20:
                raise MemoryError("pocketsphinx ran out of memory")
            return self.inner.accept(pcm16_mono)

        def flush(self) -> list[Hypothesis]:
            return self.inner.flush()

        def reset(self) -> None:
            self.inner.reset()

    def create_engine(*args: object, **kwargs: object) -> Engine:
        engine = real_create(*args, **kwargs)  # type: ignore[arg-type]
        made.append(CrashesOnce(engine) if not made else engine)
        return made[-1]

    monkeypatch.setattr(factory, "create_engine", create_engine)
    caplog.set_level("INFO", logger="voiceguide.mic")
    events: queue.Queue[object] = queue.Queue()
    locale = load_locale("en")
    config = Config(input_device=alsa_device("room.monitor"))
    mic = mic_input.MicInput(config.listen_settings(), locale, events.put, locale.commands)
    try:
        deadline = time.monotonic() + 15
        while "speech recognition restarted" not in caplog.text:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.05)
        time.sleep(0.5)  # the stream is open again
        audio_room.play_into_room(hurts)
        heard = None
        deadline = time.monotonic() + 10
        while heard is None and time.monotonic() < deadline:
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                continue
            if isinstance(event, CommandHeard):
                heard = event
    finally:
        mic.close()
    assert heard is not None and heard.command == "pain", caplog.text
    assert mic.recogniser_restarts == 1 and len(made) == 2
    assert caplog.text.count("speech recognition crashed (MemoryError") == 1


# ---- and a bug in the pure core --------------------------------------------------------------
BUGGY_CORE = """\
import sys

from voiceguide.cli import main as cli
from voiceguide.core.session import Session


def _on_skip(self, now):
    raise ZeroDivisionError("a bug in the session core")


Session._on_skip = _on_skip  # a programming error, reached by an ordinary command
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_bug_in_the_pure_core_exits_70_in_one_line_and_cleans_up(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    script = tmp_path / "buggy_core.py"
    script.write_text(BUGGY_CORE)
    proc = start_box(
        audio_room, tmp_path, "run", "quick-reset", command=(sys.executable, str(script))
    )
    lines = Lines(proc)
    try:
        lines.wait_for(WELCOME, timeout=60)
        worker = wait_for_worker(proc.pid)
        type_command(proc, "skip")
    finally:
        err = finish(proc, lines)
    assert proc.returncode == 70, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        "voiceguide: internal error: ZeroDivisionError: a bug in the session core "
        "(run with --debug for details)"
    )
    wait_until_gone(worker)  # the speaker and its worker were closed on the way out
    rows = sessions(tmp_path / "history.db")
    assert [(how, ended) for _, _, ended, how in rows] == [(None, None)]  # shown as interrupted
