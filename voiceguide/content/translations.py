"""Routines in another language: per-locale overlay files beside each routine and library file.

A routine's own file (routines/<id>.yaml) is written in English, the source language. Its text
in another locale is an overlay with the same id and the same steps in the same order:
routines/<lang>/<id>.yaml, and for library exercises routines/library/<lang>/*.yaml with the
same keys. An overlay holds only words (title, aliases, description, intro, and per step the
exercise name, set-up, cues, easier variant and safety notes); timing, sides and counts always
come from the English file, so both languages run the same session.

Each spoken text must come from the same place in both languages: a step field written in the
routine needs the overlay to give it too, and one taken from the library takes the library
overlay's text (an overlay step may still override it). A routine whose translation is missing
or incomplete is refused with one problem; it is never spoken half in one language.
See docs/routines.md, "Translations".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceguide.content.problem import Problem
from voiceguide.content.yaml_positions import DataPath, ParsedYaml, parse_yaml_file
from voiceguide.core.routine import Breathing, Reps, Routine, Step

if TYPE_CHECKING:  # the loader imports this module; these names are only types here
    from voiceguide.content.loader import Library, RoutineDocument

SOURCE_LANGUAGE = "en"  # the language routine and library files are written in

_TOP_FIELDS = ("id", "title", "aliases", "description", "intro", "steps")
_STEP_TEXTS = ("exercise", "setup", "easier", "safety")  # plain text (or list of text) fields
_STEP_CUES = ("reps", "breathing")  # {cues: [...]} only: the timing stays the English file's
_STEP_FIELDS = (*_STEP_TEXTS, *_STEP_CUES)
_LISTS = ("setup", "safety")


def routine_overlay_path(routine_path: Path, language: str) -> Path:
    """Where `language`'s text for the routine at `routine_path` is: <folder>/<lang>/<id>.yaml."""
    return routine_path.parent / language / routine_path.name


def library_overlay_files(library_folder: Path, language: str) -> list[Path]:
    """The overlay files of one library folder for `language`, in a stable order."""
    return sorted((library_folder / language).glob("*.yaml"))


def _text(value: str) -> str:
    # As the loader does: block scalars carry newlines the speaker should not see.
    return " ".join(value.split())


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_text(v) for v in value)


@dataclass(frozen=True)
class SpokenText:
    """One translated text the box will say, and where it is written (for the linter)."""

    source: ParsedYaml
    path: DataPath
    text: str


@dataclass
class LibraryOverlay:
    """One language's text for the exercises of one library folder, keyed like the library."""

    exercises: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    where: dict[str, tuple[ParsedYaml, DataPath]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _step_field_problems(
    step: Any, source: ParsedYaml, base: DataPath, what: str
) -> Iterator[Problem]:
    """Shape problems of one overlay step or library exercise."""
    if not isinstance(step, dict):
        yield source.problem(base, f"{what} must be a mapping of texts")
        return
    for name, value in step.items():
        at = (*base, name)
        if name not in _STEP_FIELDS:
            allowed = ", ".join(_STEP_FIELDS)
            message = f"'{name}' cannot be translated (an overlay holds only words: {allowed})"
            yield source.problem(at, message, at_key=True)
        elif name in _LISTS:
            if not (_is_text(value) or _is_text_list(value)):
                yield source.problem(at, "must be a text or a list of texts")
        elif name in _STEP_CUES:
            if not isinstance(value, dict) or set(value) != {"cues"}:
                yield source.problem(at, "must hold only 'cues' (timing comes from the routine)")
            elif not _is_text_list(value["cues"]):
                yield source.problem((*at, "cues"), "must be a list of texts")
        elif not _is_text(value):
            yield source.problem(at, "must be a text")


def load_library_overlay(library_folder: Path, language: str) -> LibraryOverlay:
    """Load routines/library/<lang>/*.yaml of one library folder; problems are kept, not raised."""
    overlay = LibraryOverlay()
    for path in library_overlay_files(library_folder, language):
        parsed = parse_yaml_file(path)
        overlay.problems += parsed.problems
        if not parsed.parsed:
            continue
        data = parsed.data
        if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict):
            overlay.problems.append(parsed.problem((), "a library overlay needs 'exercises:'"))
            continue
        for name in data:
            if name != "exercises":
                message = f"unknown key '{name}' (a library overlay holds only 'exercises')"
                overlay.problems.append(parsed.problem((name,), message, at_key=True))
        for key, step in data["exercises"].items():
            at: DataPath = ("exercises", key)
            if key in overlay.exercises:
                first = overlay.where[key][0]
                message = f"exercise '{key}' is already translated in {first.path}"
                overlay.problems.append(parsed.problem(at, message, at_key=True))
                continue
            found = list(_step_field_problems(step, parsed, at, "an exercise"))
            overlay.problems += found
            if not found:
                overlay.exercises[str(key)] = step
                overlay.where[str(key)] = (parsed, at)
    return overlay


class LibraryOverlays:
    """Library overlays for one language, loaded once per library folder."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.cache: dict[Path, LibraryOverlay] = {}

    def for_exercise_file(self, source_path: str) -> LibraryOverlay:
        """The overlay of the library folder that holds the English file `source_path`."""
        folder = Path(source_path).parent.resolve()
        if folder not in self.cache:
            self.cache[folder] = load_library_overlay(folder, self.language)
        return self.cache[folder]


@dataclass
class Translation:
    """A routine in one language: the Routine (None if refused), its problems and its texts."""

    routine: Routine | None
    problems: list[Problem] = field(default_factory=list)
    texts: list[SpokenText] = field(default_factory=list)
    overlay: ParsedYaml | None = None


def _value_texts(value: Any, source: ParsedYaml, path: DataPath) -> list[SpokenText]:
    if isinstance(value, str):
        return [SpokenText(source, path, value)]
    return [SpokenText(source, (*path, i), v) for i, v in enumerate(value)]


class _Translator:
    """Builds one routine's translated steps, collecting problems on the overlay file."""

    def __init__(
        self, doc: RoutineDocument, library: Library, overlay: ParsedYaml, libs: LibraryOverlays
    ) -> None:
        self.doc = doc
        self.library = library
        self.overlay = overlay
        self.libs = libs
        self.language = libs.language
        self.problems: list[Problem] = []
        self.texts: list[SpokenText] = []

    def problem(self, path: DataPath, message: str) -> None:
        self.problems.append(self.overlay.problem(path, message))

    def _library_text(
        self, key: str, name: str, at: DataPath
    ) -> tuple[Any, ParsedYaml, DataPath] | None:
        exercise = self.library.exercises[key]
        lib = self.libs.for_exercise_file(exercise.source_path)
        folder = Path(exercise.source_path).parent / self.language
        if key not in lib.exercises:
            bad = [p for p in lib.problems if f"exercises.{key}" in p.field or not p.field]
            why = f" ({bad[0]})" if bad else ""
            self.problem(
                at, f"library exercise '{key}' has no '{self.language}' text in {folder}{why}"
            )
            return None
        value = lib.exercises[key].get(name)
        if value is None:
            self.problem(at, f"'{name}' of library exercise '{key}' is not translated in {folder}")
            return None
        source, base = lib.where[key]
        return value, source, (*base, name)

    def field_value(self, i: int, name: str, own: Mapping[str, Any]) -> Any:
        """The translated value of step i's field `name` (text, list, or {cues}), or None."""
        at: DataPath = ("steps", i, name)
        if name in own:
            value = own[name]
            source = self.overlay
            spoken_at = at
        else:
            key = self.doc.library_fields.get((i, name))
            if key is None:
                self.problem(
                    ("steps", i),
                    f"'{name}' is written in the routine, so the '{self.language}' overlay "
                    "must give it too",
                )
                return None
            found = self._library_text(key, name, ("steps", i))
            if found is None:
                return None
            value, source, spoken_at = found
        if name in _STEP_CUES:
            self.texts += _value_texts(value["cues"], source, (*spoken_at, "cues"))
        else:
            self.texts += _value_texts(value, source, spoken_at)
        return value

    def step(self, i: int, english: Step, raw: Mapping[str, Any], own: Any) -> Step:
        """Step i with its words in the overlay's language."""
        own = own if isinstance(own, dict) else {}
        for name in own:
            if name in _STEP_FIELDS and name not in raw:
                self.problem(("steps", i, name), f"the routine's step has no '{name}' to translate")
        values = {name: self.field_value(i, name, own) for name in _STEP_FIELDS if name in raw}
        if any(v is None for v in values.values()):
            return english
        for group in _STEP_CUES:
            if group in values:
                source_cues = raw[group].get("cues") or []
                cues = values[group]["cues"]
                if len(cues) != len(source_cues):
                    self.problem(
                        ("steps", i, group, "cues"),
                        f"has {len(cues)} cues but the routine has {len(source_cues)}; "
                        "the cues share the same time, so give one for each",
                    )
                    return english
        reps = english.reps
        if reps is not None and "reps" in values:
            reps = Reps(
                reps.count, reps.seconds_each, tuple(_text(c) for c in values["reps"]["cues"])
            )
        breathing = english.breathing
        if breathing is not None and "breathing" in values:
            cues = tuple(_text(c) for c in values["breathing"]["cues"])
            breathing = Breathing(breathing.every_seconds, cues)

        def texts(name: str) -> tuple[str, ...]:
            value = values.get(name)
            if value is None:
                return ()
            return (_text(value),) if isinstance(value, str) else tuple(_text(v) for v in value)

        return replace(
            english,
            exercise=_text(values["exercise"]),
            setup=texts("setup"),
            reps=reps,
            breathing=breathing,
            easier=_text(values["easier"]) if "easier" in values else None,
            safety=texts("safety"),
        )


def _top_problems(data: dict[str, Any], doc: RoutineDocument, overlay: ParsedYaml) -> list[Problem]:
    found: list[Problem] = []
    english = doc.data
    for name in data:
        if name not in _TOP_FIELDS:
            message = f"'{name}' cannot be translated (an overlay holds {', '.join(_TOP_FIELDS)})"
            found.append(overlay.problem((name,), message, at_key=True))
    if data.get("id") != english["id"]:
        found.append(overlay.problem(("id",), f"must be '{english['id']}', the routine's id"))
    for name in ("title", "description"):
        if not _is_text(data.get(name)):
            found.append(overlay.problem((name,), f"'{name}' must be given as a text"))
    if "intro" in english and not _is_text(data.get("intro")):
        found.append(overlay.problem(("intro",), "the routine has an intro, so give its text"))
    if "intro" in data and "intro" not in english:
        found.append(overlay.problem(("intro",), "the routine has no intro to translate"))
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(_is_text(a) for a in aliases):
        found.append(overlay.problem(("aliases",), "must be a list of texts"))
    steps = data.get("steps")
    if not isinstance(steps, list) or len(steps) != len(english["steps"]):
        count = len(english["steps"])
        found.append(
            overlay.problem(("steps",), f"must list the routine's {count} steps, in its order")
        )
    else:
        for i, step in enumerate(steps):
            if step is not None:  # `- {}` or an empty item: every text comes from the library
                found += _step_field_problems(step, overlay, ("steps", i), "a step")
    return found


def translate_document(
    doc: RoutineDocument, library: Library, libs: LibraryOverlays
) -> Translation:
    """The loaded routine `doc` in `libs.language`, or None with the problems that refuse it."""
    routine = doc.routine
    assert routine is not None, "only a routine that loaded is translated"
    language = libs.language
    if language == SOURCE_LANGUAGE:
        return Translation(routine)
    path = routine_overlay_path(Path(doc.path), language)
    if not path.is_file():
        message = (
            f"routine '{routine.id}' has no '{language}' translation (expected {path}); "
            "a routine is never spoken half in one language"
        )
        return Translation(None, [Problem(doc.path, 1, 1, "", message)])
    overlay = parse_yaml_file(path)
    if not overlay.parsed or not isinstance(overlay.data, dict):
        problems = overlay.problems or [overlay.problem((), "a translation must be a mapping")]
        return Translation(None, problems, overlay=overlay)
    data = overlay.data
    problems = _top_problems(data, doc, overlay)
    if problems:
        return Translation(None, problems, overlay=overlay)
    translator = _Translator(doc, library, overlay, libs)
    steps = tuple(
        translator.step(i, step, doc.data["steps"][i], data["steps"][i])
        for i, step in enumerate(routine.steps)
    )
    texts = [SpokenText(overlay, ("title",), data["title"])]
    if "intro" in data:
        texts.append(SpokenText(overlay, ("intro",), data["intro"]))
    texts += translator.texts
    if translator.problems:
        return Translation(None, translator.problems, texts, overlay)
    translated = replace(
        routine,
        title=_text(data["title"]),
        aliases=tuple(_text(a) for a in data.get("aliases", [])),
        description=_text(data["description"]),
        intro=_text(data["intro"]) if "intro" in data else None,
        steps=steps,
    )
    return Translation(translated, [], texts, overlay)
