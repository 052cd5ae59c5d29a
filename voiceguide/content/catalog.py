"""The routines a user has: the package's, /etc's and their own, layered by routine id.

Precedence, highest first (a routine id in a higher folder replaces the same id below it):
1. the user's folder: `routines_dir` (--routines-dir, $VOICEGUIDE_ROUTINES, the config file),
   else <user config dir>/voiceguide/routines (~/.config/voiceguide/routines on Linux);
2. /etc/voiceguide/routines, for every user of the machine (the service);
3. the routines shipped inside the package (voiceguide/data/routines).
`use:` looks in the routine's own folder's library/ first, then in each folder below it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

from voiceguide.content.loader import (
    bundled_routines_dir,
    find_routine,
    load_routines,
    spoken_name,
)
from voiceguide.content.problem import Problem
from voiceguide.core.routine import Routine
from voiceguide.errors import UserError

SYSTEM_ROUTINES_DIR = Path("/etc/voiceguide/routines")


def user_routines_dir() -> Path:
    """The user's own routines folder when none is configured."""
    return Path(platformdirs.user_config_dir("voiceguide")) / "routines"


def routine_layers(folder: Path) -> list[Path]:
    """The routines folders in force, highest precedence first.

    `folder` is the configured one (Config.routines_folder()); the package's own folder there
    means none was configured, so the default user folder takes its place.
    """
    bundled = bundled_routines_dir()
    configured = not _same(folder, bundled)
    if configured and not folder.is_dir():
        raise UserError(f"routines folder {folder} does not exist", 2)
    user = folder if configured else user_routines_dir()
    layers = [user, SYSTEM_ROUTINES_DIR, bundled]
    unique: list[Path] = []
    for layer in layers:
        if layer.is_dir() and not any(_same(layer, u) for u in unique):
            unique.append(layer)
    return unique


def load_catalog(folder: Path, language: str = "en") -> tuple[list[Routine], list[Problem]]:
    """Every routine in force (highest-precedence first for name lookups), and all problems.

    `language` other than English gives each routine its translation's words, or refuses it.
    """
    layers = routine_layers(folder)
    by_id: dict[str, Routine] = {}
    problems: list[Problem] = []
    for i, layer in enumerate(layers):
        routines, found = load_routines(layer, below=layers[i + 1 :], language=language)
        problems += found
        for routine in routines:
            by_id.setdefault(routine.id, routine)
    return list(by_id.values()), problems


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _report(problems: list[Problem]) -> None:
    """One line per broken file: its first problem and how many more it has."""
    by_file: dict[str, list[Problem]] = {}
    for problem in problems:
        by_file.setdefault(problem.path, []).append(problem)
    for path, found in by_file.items():
        first = min(found, key=lambda p: p.sort_key)
        what = "library file" if Path(path).parent.name == "library" else "routine"
        more = len(found) - 1
        noun = "problem" if more == 1 else "problems"
        tail = f" (and {more} more {noun}; voiceguide lint {path} shows all)" if more else ""
        print(f"voiceguide: skipping broken {what}: {first}{tail}", file=sys.stderr)


def _none_usable(layers: list[Path]) -> UserError:
    where = ", ".join(str(layer) for layer in layers)
    return UserError(f"no usable routines in {where} (voiceguide lint shows why)", 2)


def load_good_routines(folder: Path, language: str = "en") -> list[Routine]:
    """Every routine in force, sorted by id; broken files are reported once each and skipped."""
    routines, problems = load_catalog(folder, language)
    _report(problems)
    if not routines:
        raise _none_usable(routine_layers(folder))
    return sorted(routines, key=lambda r: r.id)


def find_good_routine(folder: Path, name: str, language: str = "en") -> Routine:
    """Routine `name`; if its own file is broken, that is the error rather than "unknown"."""
    routines, problems = load_catalog(folder, language)
    wanted = spoken_name(name)
    own = [p for p in problems if spoken_name(Path(p.path).stem) == wanted]
    _report([p for p in problems if p not in own])
    if own:
        first = min(own, key=lambda p: p.sort_key)
        more = f" (and {len(own) - 1} more; voiceguide lint shows all)" if len(own) > 1 else ""
        raise UserError(f"routine '{name}' could not be loaded: {first}{more}", 2)
    if not routines:
        raise _none_usable(routine_layers(folder))
    return find_routine(name, routines)
