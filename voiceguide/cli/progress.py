"""`voiceguide progress` (streaks, weeks, pain by exercise, an optional chart) and
`voiceguide history` (recent sessions, after a notice of remembered pain)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voiceguide.app.config import Config
from voiceguide.content.locales import load_locale
from voiceguide.core.coaching import pain_notice
from voiceguide.errors import UserError
from voiceguide.store.history import History, default_history_path, format_history
from voiceguide.store.pain_memory import recent_pain_notes
from voiceguide.store.progress import Progress, format_progress, progress_summary

PLOT_INSTALL = ".venv/bin/pip install 'voiceguide[plot]' (or: pip install matplotlib)"


def pain_notices(config: Config, history: History) -> list[str]:
    """The sentences the box would say about pain reports of the last `pain_memory_days`."""
    locale = load_locale(config.locale)
    notes = recent_pain_notes(history, None, config.pain_memory_days)
    return [pain_notice(locale, note) for note in notes]


def print_history(config: Config, limit: int) -> int:
    """Print remembered pain (if any), then the table of recent sessions."""
    history = History(default_history_path(config.history_db), read_only=True)
    try:
        notices = pain_notices(config, history)
        if notices:
            print("\n".join(notices) + "\n")
        print(format_history(history, limit=limit))
    finally:
        history.close()
    return 0


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UserError(
            f"--plot needs matplotlib, which is not installed: {PLOT_INSTALL}"
        ) from None
    matplotlib.use("Agg")  # no display needed: a headless Pi or a CI box draws the same
    import matplotlib.pyplot as plt

    return plt


def check_plot_path(path: Path) -> Path:
    """The chart's file, refused in one line unless it is a .png in an existing folder."""
    if path.suffix.lower() != ".png":
        raise UserError(f"--plot writes a PNG image: give a file name ending in .png, not {path}")
    if not path.parent.is_dir():
        raise UserError(f"--plot: folder {path.parent} does not exist")
    return path


def draw_progress(progress: Progress, path: Path) -> None:
    """Minutes per week as bars, sessions per week as a line, pain reports as red marks."""
    plt = _pyplot()
    labels = [week.start.strftime("%d %b") for week in progress.weeks]
    xs = list(range(len(labels)))
    minutes = [week.minutes for week in progress.weeks]
    sessions = [week.sessions for week in progress.weeks]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        bars = ax.bar(xs, minutes, color="#7aa6c2", label="minutes")
        # Inside the bars, where the sessions line (its own axis) cannot cover them.
        ax.bar_label(bars, labels=[f"{m:.0f} min" if m else "" for m in minutes], fontsize=8,
                     label_type="center", color="white")  # fmt: skip
        ax.set_ylabel("minutes stretched")
        ax.set_xticks(xs, labels, rotation=0, fontsize=8)
        ax.set_xlabel("week starting (Monday)")
        top = max([*minutes, 1.0])
        ax.set_ylim(0, top * 1.25)
        twin = ax.twinx()
        twin.plot(xs, sessions, color="#2f4b7c", marker="o", label="sessions")
        twin.set_ylabel("sessions")
        twin.set_ylim(0, max([*sessions, 1]) * 1.25 + 0.5)
        twin.yaxis.get_major_locator().set_params(integer=True)
        pain_x = [x for x, week in zip(xs, progress.weeks, strict=True) if week.pain_reports]
        pain_counts = [week.pain_reports for week in progress.weeks if week.pain_reports]
        if pain_x:
            ax.scatter(pain_x, [top * 1.12] * len(pain_x), marker="v", color="#c0392b",
                       s=60, zorder=3, label="pain reports (count)")  # fmt: skip
            for x, count in zip(pain_x, pain_counts, strict=True):
                ax.annotate(str(count), (x, top * 1.12), textcoords="offset points",
                            xytext=(8, -4), color="#c0392b", fontsize=8)  # fmt: skip
        handles = ax.get_legend_handles_labels()
        more = twin.get_legend_handles_labels()
        ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=8)
        ax.set_title(
            f"Last {len(labels)} weeks: streak {progress.streak_days} days, "
            f"{progress.total_sessions} sessions in all"
        )
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


def print_progress(config: Config, weeks: int, plot: Path | None) -> int:
    """Print streaks, the weeks and pain by exercise; draw them too with --plot."""
    if plot is not None:
        check_plot_path(plot)
        _pyplot()  # fail before anything is printed when matplotlib is missing
    history = History(default_history_path(config.history_db), read_only=True)
    try:
        progress = progress_summary(history, weeks)
    finally:
        history.close()
    print(format_progress(progress))
    if plot is not None and progress.total_sessions == 0:
        return 0  # said so above; an empty chart would say nothing more
    if plot is not None:
        try:
            draw_progress(progress, plot)
        except OSError as exc:
            raise UserError(f"could not write {plot}: {exc.strerror or exc}") from None
        print(f"Chart written to {plot}.")
    return 0
