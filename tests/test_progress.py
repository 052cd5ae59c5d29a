"""Progress from a seeded history: streaks, weeks, pain by exercise, the text and the chart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from voiceguide.store.history import History
from voiceguide.store.progress import (
    format_progress,
    progress_summary,
    sessions_this_week,
    use_so_far,
    week_start,
)

ROOT = Path(__file__).resolve().parents[1]
# A Wednesday, in the local time zone (the tests run with TZ=UTC).
NOW = datetime(2025, 3, 12, 18, 0).astimezone()


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so days and weeks fall the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def seed(path: Path, now: datetime = NOW) -> None:
    """Four weeks of use: sessions on most days lately, two pain reports, one open session."""
    days_ago = [27, 20, 19, 13, 12, 6, 5, 3, 2, 1, 0]
    with History(path) as history:
        for n, ago in enumerate(days_ago):
            start = (now - timedelta(days=ago)).replace(hour=8, minute=0)
            sid = history.start_session("gentle-back", "Gentle back", started_at=start)
            minutes = 10 + n % 3
            how = "pain" if ago in (19, 2) else "completed"
            if how == "pain":
                history.log_pain(sid, "Knee to chest", 1, "left", 12.0, at=start)
                history.log_step(sid, "Knee to chest", 1, "left", "pain", 12.0, at=start)
            else:
                history.log_step(sid, "Knee to chest", 1, "left", "done", 20.0, at=start)
            history.end_session(sid, how, ended_at=start + timedelta(minutes=minutes))
        # A session whose end was never written counts nowhere.
        history.start_session("quick-reset", "Quick reset", started_at=now - timedelta(days=4))
        history.log_pain(1, "(introduction)", None, None, None, at=now - timedelta(days=27))


def test_week_start_is_the_monday() -> None:
    assert week_start(NOW.date()).isoformat() == "2025-03-10"
    assert week_start(NOW.date() - timedelta(days=2)).isoformat() == "2025-03-10"
    assert week_start(NOW.date() - timedelta(days=3)).isoformat() == "2025-03-03"


def test_summary_of_a_seeded_history(tmp_path: Path) -> None:
    seed(tmp_path / "h.db")
    with History(tmp_path / "h.db") as history:
        progress = progress_summary(history, weeks=5, now=NOW)
        assert sessions_this_week(history, now=NOW) == 1 + 3  # Mon, Tue and today, then this one
        use = use_so_far(history, now=NOW)
    assert progress.streak_days == 4  # today and the three days before
    assert progress.longest_streak_days == 4
    assert progress.total_sessions == 11
    assert [w.start.isoformat() for w in progress.weeks] == [
        "2025-02-10", "2025-02-17", "2025-02-24", "2025-03-03", "2025-03-10",
    ]  # fmt: skip
    assert [w.sessions for w in progress.weeks] == [1, 2, 2, 3, 3]
    assert [w.pain_reports for w in progress.weeks] == [1, 1, 0, 0, 1]
    assert sum(w.minutes for w in progress.weeks) == sum(10 + n % 3 for n in range(11))
    # A report during the introduction is listed under it, so the totals agree with the weeks.
    assert progress.pain_by_exercise == (("Knee to chest", 2), ("introduction", 1))
    assert sum(n for _, n in progress.pain_by_exercise) == sum(
        w.pain_reports for w in progress.weeks
    )
    assert use.completed_sessions == 9
    assert use.days_since_first == pytest.approx(27 + 10 / 24)


def test_a_streak_stands_until_a_whole_day_is_missed(tmp_path: Path) -> None:
    seed(tmp_path / "h.db")
    with History(tmp_path / "h.db") as history:
        assert progress_summary(history, now=NOW + timedelta(days=1)).streak_days == 4
        assert progress_summary(history, now=NOW + timedelta(days=2)).streak_days == 0


def test_the_progress_text(tmp_path: Path) -> None:
    seed(tmp_path / "h.db")
    with History(tmp_path / "h.db") as history:
        text = format_progress(progress_summary(history, weeks=3, now=NOW))
    assert text.splitlines() == [
        "Current streak: 4 days in a row with a session (longest: 4 days).",
        "Sessions in all: 11.",
        "",
        "Week of      Sessions  Minutes  Pain reports",
        "2025-02-24          2       21             0",
        "2025-03-03          3       33             0",
        "2025-03-10          3       33             1",
        "",
        "Pain reports by exercise, last 3 weeks:",
        "  Knee to chest: 1",
    ]


def test_an_empty_history_says_so(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        progress = progress_summary(history, now=NOW)
        assert sessions_this_week(history, now=NOW) == 1
        assert use_so_far(history, now=NOW).days_since_first is None
    assert format_progress(progress).startswith("No sessions yet.")


# ---- the command -----------------------------------------------------------------------------
def voiceguide(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "VOICEGUIDE_HISTORY": str(tmp_path / "h.db"),
               "VOICEGUIDE_CONFIG": str(tmp_path / "config.yaml"), "TZ": "UTC", **env}  # fmt: skip
    (tmp_path / "config.yaml").touch()
    return subprocess.run([sys.executable, "-m", "voiceguide", *args], capture_output=True, check=False,
                          text=True, env=environ, cwd=ROOT, timeout=120)  # fmt: skip


def test_progress_command_without_any_history_creates_nothing(tmp_path: Path) -> None:
    result = voiceguide(tmp_path, "progress")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No sessions yet.")
    assert not (tmp_path / "h.db").exists()


def test_progress_command_prints_the_weeks(tmp_path: Path) -> None:
    seed(tmp_path / "h.db", now=datetime.now().astimezone())
    result = voiceguide(tmp_path, "progress", "--weeks", "4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Current streak: 4 days in a row with a session (longest: 4 days)."
    assert len([line for line in lines if line[:4].isdigit()]) == 4
    assert "  Knee to chest: 2" in lines


@pytest.mark.parametrize("name", ["chart.pdf", "chart", "chart.png.txt"])
def test_plot_refuses_a_name_that_is_not_png(tmp_path: Path, name: str) -> None:
    result = voiceguide(tmp_path, "progress", "--plot", str(tmp_path / name))
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "ending in .png" in result.stderr
    assert "Traceback" not in result.stderr


def test_plot_without_matplotlib_says_how_to_install_it(tmp_path: Path) -> None:
    # A module of that name that fails to import stands in for a box without the extra.
    blocker = tmp_path / "no-matplotlib"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('not installed')\n")
    seed(tmp_path / "h.db", now=datetime.now().astimezone())
    result = voiceguide(tmp_path, "progress", "--plot", str(tmp_path / "c.png"),
                        PYTHONPATH=str(blocker))  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    assert "needs matplotlib" in result.stderr and "voiceguide[plot]" in result.stderr
    assert result.stdout == "" and not (tmp_path / "c.png").exists()


def test_plot_draws_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")  # the `plot` extra; scripts/test.sh installs it
    seed(tmp_path / "h.db", now=datetime.now().astimezone())
    out = tmp_path / "progress.png"
    result = voiceguide(tmp_path, "progress", "--plot", str(out))
    assert result.returncode == 0, result.stderr
    assert f"Chart written to {out}." in result.stdout
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (800, 450)
