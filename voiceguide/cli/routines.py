"""`voiceguide list` and `voiceguide plan`: read-only views of the routines."""

from __future__ import annotations

from voiceguide.app.config import Config
from voiceguide.app.console import format_offset
from voiceguide.app.plans import timeline_for
from voiceguide.content.catalog import load_good_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.timeline import build_timeline


def list_routines(config: Config) -> int:
    """Print each routine with its length, level and spoken names."""
    locale = load_locale(config.locale)
    rows = []
    for routine in load_good_routines(config.routines_folder()):
        minutes = build_timeline(routine, locale).total_seconds / 60
        rows.append((routine.id, f"{minutes:4.1f} min", routine.level, routine.title,
                     ", ".join(routine.aliases)))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        print("  ".join(cells) + f"  (say: {row[4]})")
    return 0


def print_plan(config: Config, name: str) -> int:
    """Print every cue the routine will speak, with its time offset."""
    timeline = timeline_for(config, name)
    routine = timeline.routine
    print(f"{routine.title} ({routine.id}): {len(routine.steps)} exercises, "
          f"{format_offset(timeline.total_seconds)} in all")  # fmt: skip
    for cue in timeline.cues():
        print(f"[{format_offset(cue.at_seconds)}] {cue.kind:<10} {cue.text}")
    print(f"[{format_offset(timeline.total_seconds)}] end")
    return 0
