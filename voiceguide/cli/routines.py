"""`voiceguide list` and `voiceguide plan`: read-only views of the routines."""

from __future__ import annotations

from voiceguide.app.config import Config
from voiceguide.app.console import format_offset
from voiceguide.app.plans import coached_plan, read_history
from voiceguide.content.catalog import load_good_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.coaching import pain_notice
from voiceguide.core.timeline import build_timeline


def list_routines(config: Config) -> int:
    """Print each routine with its length, level and spoken names."""
    locale = load_locale(config.locale)
    rows = []
    for routine in load_good_routines(config.routines_folder(), config.locale):
        minutes = build_timeline(routine, locale).total_seconds / 60
        rows.append((routine.id, f"{minutes:4.1f} min", routine.level, routine.title,
                     ", ".join(routine.aliases)))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        print("  ".join(cells) + f"  (say: {row[4]})")
    return 0


def print_plan(config: Config, name: str) -> int:
    """Print every cue the routine will speak, with its time offset, coached as `run` would
    coach it today: after the remembered pain and the start-slowly note, if any."""
    history = read_history(config)
    try:
        timeline, coaching = coached_plan(config, name, history)
    finally:
        if history is not None:
            history.close()
    routine = timeline.routine
    locale = load_locale(config.locale)
    for note in coaching.pain_notes:
        print(pain_notice(locale, note))
    slowly = ""
    if coaching.progression.scale < 1.0:
        slowly = (f", starting slowly (holds and reps at {coaching.progression.scale:.0%};"
                  " progression: false in the config turns this off)")  # fmt: skip
    print(f"{routine.title} ({routine.id}): {len(routine.steps)} exercises, "
          f"{format_offset(timeline.total_seconds)} in all, {coaching.verbosity} level"
          f"{slowly}")  # fmt: skip
    for cue in timeline.cues():
        print(f"[{format_offset(cue.at_seconds)}] {cue.kind:<10} {cue.text}")
    print(f"[{format_offset(timeline.total_seconds)}] end")
    return 0
