"""`voiceguide list` and `voiceguide plan`: read-only views of the routines."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from voiceguide.app.config import Config
from voiceguide.app.console import format_offset
from voiceguide.content.loader import (
    default_routines_dir,
    find_routine,
    load_routines,
    spoken_name,
)
from voiceguide.content.locales import load_locale
from voiceguide.content.problem import Problem
from voiceguide.core.routine import Routine
from voiceguide.core.timeline import Timeline, build_timeline, estimate_speech_seconds
from voiceguide.errors import UserError

log = logging.getLogger("voiceguide.routines")


def routines_dir(config: Config) -> Path:
    """The routines folder from config (which $VOICEGUIDE_ROUTINES feeds), else the bundled one."""
    return Path(config.routines_dir) if config.routines_dir else default_routines_dir()


def _load(config: Config) -> tuple[list[Routine], list[Problem]]:
    folder = routines_dir(config)
    if not folder.is_dir():
        raise UserError(f"routines folder {folder} does not exist", 2)
    return load_routines(folder)


def _report(problems: list[Problem]) -> None:
    for problem in problems:
        print(f"voiceguide: skipping broken routine: {problem}", file=sys.stderr)


def _none_usable(config: Config) -> UserError:
    return UserError(f"no usable routines in {routines_dir(config)} (voiceguide lint shows why)", 2)


def load_good_routines(config: Config) -> list[Routine]:
    """Every routine that loads cleanly; broken files are reported once each and skipped."""
    routines, problems = _load(config)
    _report(problems)
    if not routines:
        raise _none_usable(config)
    return routines


def find_good_routine(config: Config, name: str) -> Routine:
    """Routine `name`; if its own file is broken, that is the error rather than "unknown"."""
    routines, problems = _load(config)
    wanted = spoken_name(name)
    own = [p for p in problems if spoken_name(Path(p.path).stem) == wanted]
    _report([p for p in problems if p not in own])
    if own:
        more = f" (and {len(own) - 1} more; voiceguide lint shows all)" if len(own) > 1 else ""
        raise UserError(f"routine '{name}' could not be loaded: {own[0]}{more}", 2)
    if not routines:
        raise _none_usable(config)
    return find_routine(name, routines)


def timeline_for(config: Config, name: str) -> Timeline:
    """Find routine `name` and plan it with the configured locale and speech rate."""
    routine = find_good_routine(config, name)
    locale = load_locale(config.locale)
    return build_timeline(routine, locale, lambda t: estimate_speech_seconds(t, config.rate_wpm))


def list_routines(config: Config) -> int:
    """Print each routine with its length, level and spoken names."""
    locale = load_locale(config.locale)
    rows = []
    for routine in load_good_routines(config):
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
