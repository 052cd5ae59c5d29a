"""Load routines from YAML: parse with positions, resolve `use:`, validate, build dataclasses.

Nothing here raises for a bad file: every issue becomes a `Problem` naming file:line:column
and the field, so the service can skip a broken routine and keep running with the others.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from voiceguide.content.problem import Problem, format_field
from voiceguide.content.schema import schema_errors, schema_problems
from voiceguide.content.translations import SOURCE_LANGUAGE, LibraryOverlays, translate_document
from voiceguide.content.yaml_positions import DataPath, ParsedYaml, parse_yaml_file
from voiceguide.core.phrases import normalize
from voiceguide.core.routine import Breathing, Counts, Reps, Routine, Sides, Step
from voiceguide.core.timeline import MAX_CUES_PER_STEP, step_cue_bound
from voiceguide.errors import UserError

__all__ = [
    "Library",
    "LibraryExercise",
    "Problem",
    "RoutineDocument",
    "bundled_routines_dir",
    "default_routines_dir",
    "find_routine",
    "layered_library",
    "load_library",
    "load_routine_document",
    "load_routine_file",
    "load_routines",
]


@dataclass(frozen=True)
class LibraryExercise:
    """One shared exercise from routines/library/*.yaml: its raw step fields and where it is."""

    key: str
    fields: Mapping[str, Any]
    source_path: str
    line: int
    column: int


@dataclass(frozen=True)
class Library:
    """Shared exercises by key; `broken` maps keys of invalid exercises to their location."""

    exercises: Mapping[str, LibraryExercise] = field(default_factory=dict)
    broken: Mapping[str, str] = field(default_factory=dict)
    # The library folders searched, first first: named when an exercise is not found.
    folders: tuple[str, ...] = ()


def library_files(routines_dir: Path) -> list[Path]:
    """The library files of a routines folder, in a stable order."""
    return sorted((routines_dir / "library").glob("*.yaml"))


def routine_files(routines_dir: Path) -> list[Path]:
    """The routine files of a routines folder, in a stable order."""
    return sorted(routines_dir.glob("*.yaml"))


def load_library(routines_dir: Path) -> tuple[Library, list[Problem]]:
    """Load every routines/library/*.yaml; invalid exercises are left out and reported."""
    exercises: dict[str, LibraryExercise] = {}
    broken: dict[str, str] = {}
    problems: list[Problem] = []
    for path in library_files(routines_dir):
        parsed = parse_yaml_file(path)
        problems += parsed.problems
        if not parsed.parsed:
            continue
        errors = schema_errors(parsed.data, "library")
        problems += schema_problems(parsed.data, "library", parsed)
        if not isinstance(parsed.data, dict) or not isinstance(parsed.data.get("exercises"), dict):
            continue
        # An error outside any one exercise (say, a bad top-level key) leaves the others usable.
        bad_keys = {p[1] for p, _, _ in errors if len(p) >= 2 and p[0] == "exercises"}
        bad_keys |= {
            p.field.split(".")[1].split("[")[0]
            for p in parsed.problems
            if p.field.startswith("exercises.")
        }
        for key, fields in parsed.data["exercises"].items():
            pos = parsed.pos(("exercises", key))
            where = f"{parsed.path}:{pos.key_line}:{pos.key_column}"
            if key in exercises or key in broken:
                first = exercises.get(key)
                origin = (
                    f"{first.source_path}:{first.line}:{first.column}" if first else broken[key]
                )
                message = f"library exercise '{key}' is already defined at {origin}"
                problems.append(parsed.problem(("exercises", key), message, at_key=True))
            elif key in bad_keys:
                broken[key] = where
            else:
                exercises[key] = LibraryExercise(
                    key, fields, parsed.path, pos.key_line, pos.key_column
                )
    library = Library(exercises, broken, (str(routines_dir / "library"),))
    return library, sorted(problems, key=lambda p: p.sort_key)


def layered_library(routines_dir: Path, below: Sequence[Path] | None = None) -> Library:
    """The library `use:` resolves against: the folder's own, then each folder in `below`.

    `below` (default: the package's routines) holds lower-precedence routines folders. A key
    in a higher folder hides the same key below it, even when it is broken there: a user's own
    version that fails must not be swapped silently for the package's.
    """
    if below is None:
        below = [] if _same(routines_dir, bundled_routines_dir()) else [bundled_routines_dir()]
    exercises: dict[str, LibraryExercise] = {}
    broken: dict[str, str] = {}
    folders: list[str] = []
    for folder in [routines_dir, *below]:
        library = load_library(folder)[0]
        folders += library.folders
        for key, exercise in library.exercises.items():
            if key not in exercises and key not in broken:
                exercises[key] = exercise
        for key, where in library.broken.items():
            if key not in exercises and key not in broken:
                broken[key] = where
    return Library(exercises, broken, tuple(folders))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


@dataclass
class RoutineDocument:
    """A routine file after `use:` is resolved: merged data, its problems and, if valid, the Routine."""

    parsed: ParsedYaml
    data: Any = None
    # (step index, field) -> library key, for step fields that came from the library.
    library_fields: dict[tuple[int, str], str] = field(default_factory=dict)
    routine: Routine | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The file's path as shown in problems."""
        return self.parsed.path

    def library_key(self, path: DataPath) -> str | None:
        """The library exercise `path` (under steps[i]) was taken from, if it was."""
        if len(path) >= 3 and path[0] == "steps" and isinstance(path[1], int):
            return self.library_fields.get((path[1], str(path[2])))
        return None

    def problem(self, path: DataPath, message: str, *, at_key: bool = False) -> Problem:
        """A Problem at `path`; values taken from the library are reported at the step's `use:`."""
        key = self.library_key(path)
        if key is None:
            return self.parsed.problem(path, message, at_key=at_key)
        pos = self.parsed.pos(("steps", path[1], "use"))
        note = f" (from library exercise '{key}')"
        return Problem(self.path, pos.line, pos.column, format_field(path), message + note)


def _unknown_use_message(key: str, library: Library) -> str:
    if key in library.broken:
        return f"library exercise '{key}' has problems of its own (at {library.broken[key]})"
    known = sorted(library.exercises)
    close = difflib.get_close_matches(key.lower(), known, n=3, cutoff=0.6)
    close = close or [k for k in known if key.lower() in k][:3]
    if close:
        return f"unknown library exercise '{key}' (did you mean: {', '.join(close)}?)"
    where = " or ".join(library.folders) or "the library"
    if not known:
        return f"unknown library exercise '{key}' ({where} has no exercises)"
    return f"unknown library exercise '{key}' (not in {where}; known: {', '.join(known)})"


def _resolve_uses(doc: RoutineDocument, library: Library) -> None:
    data = doc.parsed.data
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        doc.data = data
        return
    steps: list[Any] = []
    for i, step in enumerate(data["steps"]):
        key = step.get("use") if isinstance(step, dict) else None
        if not isinstance(key, str):
            steps.append(step)  # a full step, or a `use:` the schema will complain about
            continue
        exercise = library.exercises.get(key)
        if exercise is None:
            doc.problems.append(
                doc.parsed.problem(("steps", i, "use"), _unknown_use_message(key, library))
            )
            steps.append(step)  # keeps `use`, so the schema only checks the fields written here
            continue
        # Shallow merge: a field written in the routine replaces the library's field whole.
        merged = dict(exercise.fields)
        for name in merged:
            doc.library_fields[(i, name)] = key
        for name, value in step.items():
            if name != "use":
                merged[name] = value
                doc.library_fields.pop((i, name), None)
        steps.append(merged)
    doc.data = {**data, "steps": steps}


def _text(value: str) -> str:
    # Folded and literal block scalars carry newlines and indentation the speaker should not see.
    return " ".join(value.split())


def _texts(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (_text(value),) if isinstance(value, str) else tuple(_text(v) for v in value)


def _build_step(raw: dict[str, Any]) -> Step:
    reps = raw.get("reps")
    breathing = raw.get("breathing")
    counts = raw.get("counts", {})
    hold = raw.get("hold_seconds")
    return Step(
        exercise=_text(raw["exercise"]),
        setup=_texts(raw["setup"]),
        hold_seconds=float(hold) if hold is not None else None,
        reps=Reps(int(reps["count"]), float(reps["seconds_each"]), _texts(reps.get("cues")))
        if reps is not None
        else None,
        sides=Sides(raw.get("sides", "none")),
        rest_seconds=float(raw.get("rest_seconds", 0)),
        breathing=Breathing(float(breathing["every_seconds"]), _texts(breathing["cues"]))
        if breathing is not None
        else None,
        counts=Counts(
            final_seconds=int(counts.get("final_seconds", 0)),
            every_seconds=int(counts.get("every_seconds", 0)),
            halfway=bool(counts.get("halfway", False)),
        ),
        easier=_text(raw["easier"]) if "easier" in raw else None,
        safety=_texts(raw.get("safety")),
        allow_long_hold=bool(raw.get("allow_long_hold", False)),
    )


def _build_routine(data: dict[str, Any], source_path: str) -> Routine:
    return Routine(
        id=data["id"],
        title=_text(data["title"]),
        aliases=tuple(_text(a) for a in data.get("aliases", ())),
        description=_text(data["description"]),
        level=data["level"],
        steps=tuple(_build_step(s) for s in data["steps"]),
        intro=_text(data["intro"]) if "intro" in data else None,
        source_path=source_path,
    )


def load_routine_document(path: Path, library: Library) -> RoutineDocument:
    """Parse, resolve and validate one routine file, keeping positions for further checks."""
    parsed = parse_yaml_file(path)
    doc = RoutineDocument(parsed, problems=list(parsed.problems))
    if not parsed.parsed:
        return doc
    _resolve_uses(doc, library)
    doc.problems += schema_problems(doc.data, "routine", doc)
    doc.problems = sorted(set(doc.problems), key=lambda p: p.sort_key)
    if not doc.problems:
        routine = _build_routine(doc.data, str(path))
        doc.problems = _budget_problems(doc, routine)
        doc.routine = None if doc.problems else routine
    return doc


def _budget_problems(doc: RoutineDocument, routine: Routine) -> list[Problem]:
    """Steps that would plan more cues than any real step needs (planning must stay quick)."""
    found = []
    for i, step in enumerate(routine.steps):
        cues = step_cue_bound(step)
        if cues > MAX_CUES_PER_STEP:
            message = (
                f"this step asks for up to {cues} cues, more than the {MAX_CUES_PER_STEP} a step "
                "may have; lengthen breathing.every_seconds or counts.every_seconds, "
                "or use fewer reps, cues or sentences"
            )
            found.append(doc.problem(("steps", i), message))
    return found


def load_routine_file(path: Path, library: Library) -> tuple[Routine | None, list[Problem]]:
    """Load one routine file: the Routine, or None and the problems that stop it loading."""
    doc = load_routine_document(path, library)
    return doc.routine, doc.problems


def load_routines(
    routines_dir: Path, below: Sequence[Path] | None = None, language: str = SOURCE_LANGUAGE
) -> tuple[list[Routine], list[Problem]]:
    """Load every routine in a folder; broken files are skipped and their problems returned.

    `use:` looks in the folder's own library/, then in those of `below` (see layered_library);
    only the folder's own library files are reported, the others when their folder is loaded.
    In a `language` other than the source's, each routine takes its overlay's words
    (content/translations.py); one without a complete translation is refused, never mixed.
    """
    if not routines_dir.is_dir():
        return [], [Problem(str(routines_dir), 1, 1, "", "routines folder not found")]
    problems = load_library(routines_dir)[1]
    library = layered_library(routines_dir, below)
    routines: list[Routine] = []
    overlays = LibraryOverlays(language)
    for path in routine_files(routines_dir):
        doc = load_routine_document(path, library)
        problems += doc.problems
        if doc.routine is not None and language != SOURCE_LANGUAGE:
            translation = translate_document(doc, library, overlays)
            problems += translation.problems
            doc.routine = translation.routine
        if doc.routine is not None:
            routines.append(doc.routine)
    return routines, problems


def bundled_routines_dir() -> Path:
    """The routines shipped inside the package (voiceguide/data/routines)."""
    return Path(str(resources.files("voiceguide") / "data" / "routines"))


def default_routines_dir() -> Path:
    """$VOICEGUIDE_ROUTINES, else the routines shipped inside the package."""
    configured = os.environ.get("VOICEGUIDE_ROUTINES")
    if configured:
        return Path(configured).expanduser()
    return bundled_routines_dir()


def spoken_name(text: str) -> str:
    """A name as the matcher sees it: lower-case words without punctuation."""
    return " ".join(normalize(text))


def find_routine(name: str, routines: list[Routine]) -> Routine:
    """The routine whose id, title or alias matches `name`; UserError with suggestions if none."""
    wanted = spoken_name(name)
    names: dict[str, Routine] = {}
    for routine in routines:
        for candidate in (routine.id, routine.title, *routine.aliases):
            names.setdefault(spoken_name(candidate), routine)
    if wanted and wanted in names:
        return names[wanted]
    if not routines:
        raise UserError(f"unknown routine '{name}'; no routines are loaded", 2)
    # Only names that are close (or contain what was typed): a list of every routine would
    # bury the one meant, and `voiceguide list` shows them all anyway.
    close = difflib.get_close_matches(wanted, list(names), n=5, cutoff=0.6)
    close = close or [candidate for candidate in names if wanted and wanted in candidate][:5]
    ids = list(dict.fromkeys(names[c].id for c in close))
    if not ids:
        raise UserError(
            f"unknown routine '{name}'; no routine has a name close to it "
            "(voiceguide list shows all)",
            2,
        )
    raise UserError(
        f"unknown routine '{name}'; did you mean: {', '.join(ids)}? (voiceguide list shows all)", 2
    )
