"""The routines in a folder: the ones that load cleanly, and one found by any of its names."""

from __future__ import annotations

import sys
from pathlib import Path

from voiceguide.content.loader import find_routine, load_routines, spoken_name
from voiceguide.content.problem import Problem
from voiceguide.core.routine import Routine
from voiceguide.errors import UserError


def _load(folder: Path) -> tuple[list[Routine], list[Problem]]:
    if not folder.is_dir():
        raise UserError(f"routines folder {folder} does not exist", 2)
    return load_routines(folder)


def _report(problems: list[Problem]) -> None:
    for problem in problems:
        print(f"voiceguide: skipping broken routine: {problem}", file=sys.stderr)


def _none_usable(folder: Path) -> UserError:
    return UserError(f"no usable routines in {folder} (voiceguide lint shows why)", 2)


def load_good_routines(folder: Path) -> list[Routine]:
    """Every routine that loads cleanly; broken files are reported once each and skipped."""
    routines, problems = _load(folder)
    _report(problems)
    if not routines:
        raise _none_usable(folder)
    return routines


def find_good_routine(folder: Path, name: str) -> Routine:
    """Routine `name`; if its own file is broken, that is the error rather than "unknown"."""
    routines, problems = _load(folder)
    wanted = spoken_name(name)
    own = [p for p in problems if spoken_name(Path(p.path).stem) == wanted]
    _report([p for p in problems if p not in own])
    if own:
        more = f" (and {len(own) - 1} more; voiceguide lint shows all)" if len(own) > 1 else ""
        raise UserError(f"routine '{name}' could not be loaded: {own[0]}{more}", 2)
    if not routines:
        raise _none_usable(folder)
    return find_routine(name, routines)
