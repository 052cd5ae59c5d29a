"""`voiceguide lint`: check routines, the exercise library and locale prompts.

Beyond the schema (which the loader applies), this checks what only makes sense across files
or against the speech: duplicate names, id vs file name, spoken text containing a command
phrase (the box hears itself), and counts or cues that cannot fit their time. Given the
recogniser's vocabulary, it also warns about routine names with words it cannot say.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voiceguide.content.lint_timing import timing_findings
from voiceguide.content.lint_translations import (
    library_translation_problems,
    routine_translation_problems,
)
from voiceguide.content.loader import (
    Library,
    RoutineDocument,
    layered_library,
    library_files,
    load_library,
    load_routine_document,
    routine_files,
    spoken_name,
)
from voiceguide.content.locales import load_locale
from voiceguide.content.problem import Problem
from voiceguide.content.schema import schema_problems
from voiceguide.content.yaml_positions import DataPath, parse_yaml_file
from voiceguide.core.commands import SAFETY_COMMANDS, STOP_NAMING_PROMPTS, Command
from voiceguide.core.locale import Locale
from voiceguide.core.phrases import PhraseMatcher
from voiceguide.errors import UserError

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
ROUTINE_LOCALE = "en"  # routines carry no language yet; their text is checked against English

_TEXT_FIELDS = ("exercise", "setup", "easier", "safety")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def _echo_message(phrase: str, command: str) -> str:
    return (
        f"spoken text contains the command phrase '{phrase}' ({command}); "
        "the box would hear itself and obey"
    )


def _texts_at(value: Any, path: DataPath) -> Iterator[tuple[DataPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str):
                yield (*path, i), item


def _step_texts(step: Any, base: DataPath) -> Iterator[tuple[DataPath, str]]:
    """Every spoken text of a step (or library exercise) mapping, with its path."""
    if not isinstance(step, dict):
        return
    for name in _TEXT_FIELDS:
        yield from _texts_at(step.get(name), (*base, name))
    for group in ("breathing", "reps"):
        if isinstance(step.get(group), dict):
            yield from _texts_at(step[group].get("cues"), (*base, group, "cues"))


def _routine_texts(data: dict[str, Any]) -> Iterator[tuple[DataPath, str]]:
    """Spoken texts of a routine; aliases are names people say, never spoken by the box."""
    yield from _texts_at(data.get("title"), ("title",))
    yield from _texts_at(data.get("intro"), ("intro",))
    for i, step in enumerate(data.get("steps", [])):
        yield from _step_texts(step, ("steps", i))


def _echo_problems(
    texts: Iterator[tuple[DataPath, str]], matcher: PhraseMatcher, locator: Any
) -> list[Problem]:
    found = []
    for path, text in texts:
        for match in sorted(matcher.find_all(text, negation=False), key=lambda m: m.start_word):
            found.append(locator.problem(path, _echo_message(match.phrase, match.command)))
    return found


@dataclass
class _Name:
    spoken: str
    written: str
    kind: str  # id | title | alias
    path: DataPath
    doc: RoutineDocument


def _names(doc: RoutineDocument) -> list[_Name]:
    assert doc.routine is not None
    routine = doc.routine
    candidates: list[tuple[str, str, tuple[str | int, ...]]] = [
        (routine.id, "id", ("id",)),
        (routine.title, "title", ("title",)),
    ]
    candidates += [(a, "alias", ("aliases", i)) for i, a in enumerate(routine.aliases)]
    return [_Name(spoken_name(text), text, kind, path, doc) for text, kind, path in candidates]


def _where(name: _Name) -> str:
    problem = name.doc.problem(name.path, "")
    return f"{problem.path}:{problem.line}:{problem.column}"


@dataclass(frozen=True)
class Vocabulary:
    """What the configured recogniser can say, for the warnings about routine names."""

    name: str  # as in "<name> does not know 'zorbex'": "the PocketSphinx dictionary"
    unknown: Callable[[Sequence[str]], Mapping[str, Sequence[str]]]  # word -> phrases using it


def _name_warnings(docs: list[RoutineDocument], vocabulary: Vocabulary) -> list[Problem]:
    """Titles and aliases with a word the recogniser cannot say: "start <name>" is left out
    of what serve listens for (a warning: the routine is valid, and starts when typed)."""
    names = [n for doc in docs for n in _names(doc) if n.kind != "id" and n.spoken]
    unknown = vocabulary.unknown([n.written for n in names])
    if not unknown:
        return []
    lost = {id(n): [w for w, phrases in unknown.items() if n.written in phrases] for n in names}
    found = []
    for name in names:
        if not lost[id(name)]:
            continue
        words = ", ".join(f"'{w}'" for w in lost[id(name)])
        message = (
            f"warning: {vocabulary.name} does not know {words}, so "
            f"'start {name.written}' cannot start this routine by voice"
        )
        if all(lost[id(n)] for n in names if n.doc is name.doc):
            routine_id = name.doc.routine.id if name.doc.routine else "?"
            message += (
                f"; no name of it can be said: it starts only when typed or with "
                f"'voiceguide run {routine_id}'"
            )
        found.append(name.doc.problem(name.path, message))
    return found


def _name_problems(docs: list[RoutineDocument], targets: set[str]) -> list[Problem]:
    """Names must be unique across routines, or "start <name>" would be ambiguous."""
    found: list[Problem] = []
    owners: dict[str, _Name] = {}
    for doc in docs:
        own: set[str] = set()
        for name in _names(doc):
            if not name.spoken:
                if doc.path in targets:
                    message = f"{name.kind} '{name.written}' has no words to say"
                    found.append(doc.problem(name.path, message))
                continue
            if name.spoken in own:
                continue  # a routine may repeat its own name, e.g. an alias equal to its title
            own.add(name.spoken)
            first = owners.setdefault(name.spoken, name)
            if first is name:
                continue
            # Report on the later file, or on the earlier one if only that one is being linted.
            here, there = (name, first) if doc.path in targets else (first, name)
            if here.doc.path not in targets:
                continue
            if here.kind == there.kind == "id":
                message = f"duplicate id '{here.written}' (also at {_where(there)})"
            else:
                other = there.doc.routine.id if there.doc.routine else "?"
                message = (
                    f"{here.kind} '{here.written}' is also a name of routine '{other}' "
                    f"({_where(there)})"
                )
            found.append(here.doc.problem(here.path, message))
    return found


def _routine_problems(
    doc: RoutineDocument, matcher: PhraseMatcher, locale: Locale
) -> list[Problem]:
    found = list(doc.problems)
    if doc.routine is None:
        return found
    stem = Path(doc.path).stem
    if doc.routine.id != stem:
        message = f"'{doc.routine.id}' must equal the file name without .yaml ('{stem}')"
        found.append(doc.problem(("id",), message))
    # Text taken from the library is checked once, in the library file itself.
    texts = ((p, t) for p, t in _routine_texts(doc.data) if doc.library_key(p) is None)
    found += _echo_problems(texts, matcher, doc)
    for path, message in timing_findings(doc.routine, doc.data["steps"], locale):
        found.append(doc.problem(path, message))
    return found


def _library_problems(
    path: Path, display: str, matcher: PhraseMatcher, folder_problems: _FolderProblems
) -> list[Problem]:
    parsed = parse_yaml_file(path, display)
    if path.parent.name == "library":
        # Through load_library, so clashes with the folder's other library files show up too.
        found = folder_problems.for_file(path, display)
    else:
        found = list(parsed.problems)
        if parsed.parsed:
            found += schema_problems(parsed.data, "library", parsed)
    exercises = parsed.data.get("exercises") if isinstance(parsed.data, dict) else None
    if isinstance(exercises, dict):
        texts = (
            item
            for key, step in exercises.items()
            for item in _step_texts(step, ("exercises", key))
        )
        found += _echo_problems(texts, matcher, parsed)
    return found


class _FolderProblems:
    """load_library's problems per routines folder, handed out file by file."""

    def __init__(self) -> None:
        self.cache: dict[Path, list[Problem]] = {}

    def for_file(self, path: Path, display: str) -> list[Problem]:
        folder = path.resolve().parent.parent
        if folder not in self.cache:
            self.cache[folder] = load_library(folder)[1]
        mine = path.resolve()
        return [
            replace(p, path=display) for p in self.cache[folder] if Path(p.path).resolve() == mine
        ]


def _locale_problems(path: Path, display: str) -> list[Problem]:
    parsed = parse_yaml_file(path, display)
    found = list(parsed.problems)
    data = parsed.data
    if not parsed.parsed or not isinstance(data, dict):
        return found or [parsed.problem((), "a locale file must be a mapping")]
    commands, prompts = data.get("commands"), data.get("prompts")
    if not isinstance(commands, dict) or not isinstance(prompts, dict):
        return [*found, parsed.problem((), "a locale file needs 'commands' and 'prompts' mappings")]
    listed = data.get("prompts_naming_commands") or []
    if not isinstance(listed, list):
        listed = []
        message = "prompts_naming_commands must be a list of prompt keys"
        found.append(parsed.problem(("prompts_naming_commands",), message))
    exempt = [key for key in listed if isinstance(key, str)]
    for i, key in enumerate(listed):
        if not isinstance(key, str) or key not in prompts:
            message = f"prompts_naming_commands lists '{key}', which is not a prompt"
            found.append(parsed.problem(("prompts_naming_commands", i), message))
    phrases = {
        str(command): tuple(p for p in items if isinstance(p, str))
        for command, items in commands.items()
        if isinstance(items, list)
    }
    # The pain stems ("아파" in "아파요") count too; negation never excuses a spoken pain word.
    raw_negation = data.get("pain_negation")
    negation = {
        str(k): tuple(str(w) for w in v)
        for k, v in (raw_negation.items() if isinstance(raw_negation, dict) else ())
        if isinstance(v, list)
    }
    language = str(data.get("language", path.stem))
    locale = Locale(language, phrases, {}, {}, frozenset(), {}, {}, (), pain_negation=negation)
    # Placeholders are filled with names and numbers; the template's own words are what we check.
    texts = (
        (("prompts", key), _PLACEHOLDER.sub(" ", text))
        for key, text in prompts.items()
        if isinstance(text, str) and key not in exempt
    )
    found += _echo_problems(texts, PhraseMatcher(locale), parsed)

    # A prompt that must name a command is protected by the echo guard, which never mutes pain
    # and mutes stop only while the box says it: one that says "it hurts" could end the
    # session by itself, and only STOP_NAMING_PROMPTS (help) may say a stop phrase.
    def safety_matcher(commands: frozenset[str]) -> PhraseMatcher:
        chosen = {c: v for c, v in phrases.items() if c in commands}
        return PhraseMatcher(
            Locale(language, chosen, {}, {}, frozenset(), {}, {}, (), pain_negation=negation)
        )

    naming = (
        (("prompts", key), _PLACEHOLDER.sub(" ", text))
        for key, text in prompts.items()
        if isinstance(text, str) and key in exempt and key not in STOP_NAMING_PROMPTS
    )
    naming_stop = (
        (("prompts", key), _PLACEHOLDER.sub(" ", text))
        for key, text in prompts.items()
        if isinstance(text, str) and key in exempt and key in STOP_NAMING_PROMPTS
    )
    found += _echo_problems(naming, safety_matcher(SAFETY_COMMANDS), parsed)
    pain_only = SAFETY_COMMANDS - {Command.STOP.value}
    return found + _echo_problems(naming_stop, safety_matcher(pain_only), parsed)


@dataclass
class _Targets:
    routines: dict[Path, str] = field(default_factory=dict)  # resolved path -> shown path
    libraries: dict[Path, str] = field(default_factory=dict)
    locales: dict[Path, str] = field(default_factory=dict)

    def all_shown(self) -> list[str]:
        return [*self.routines.values(), *self.libraries.values(), *self.locales.values()]


def _add_folder(targets: _Targets, folder: Path) -> None:
    for path in routine_files(folder):
        targets.routines.setdefault(path.resolve(), str(path))
    for path in library_files(folder):
        targets.libraries.setdefault(path.resolve(), str(path))


def _is_library(path: Path) -> bool:
    if path.parent.name == "library":
        return True
    parsed = parse_yaml_file(path)
    return (
        isinstance(parsed.data, dict) and "exercises" in parsed.data and "steps" not in parsed.data
    )


def _targets(paths: list[Path] | None, routines_dir: Path) -> _Targets:
    targets = _Targets()
    if paths is None:
        if not routines_dir.is_dir():
            raise UserError(f"routines folder not found: {routines_dir}", 2)
        _add_folder(targets, routines_dir)
        for path in sorted(LOCALES_DIR.glob("*.yaml")):
            targets.locales[path.resolve()] = str(path)
        return targets
    for path in paths:
        if path.is_dir():
            _add_folder(targets, path)
        elif not path.is_file():
            raise UserError(f"no such file or folder: {path}", 2)
        elif path.resolve().parent == LOCALES_DIR or path.parent.name == "locales":
            targets.locales.setdefault(path.resolve(), str(path))
        elif _is_library(path):
            targets.libraries.setdefault(path.resolve(), str(path))
        else:
            targets.routines.setdefault(path.resolve(), str(path))
    return targets


class _Libraries:
    """The library each routine resolves `use:` against: the one beside it, else routines_dir's."""

    def __init__(self, routines_dir: Path) -> None:
        self.routines_dir = routines_dir
        self.cache: dict[Path, Library] = {}

    def for_routine(self, path: Path) -> Library:
        folder = path.parent if (path.parent / "library").is_dir() else self.routines_dir
        key = folder.resolve()
        if key not in self.cache:
            self.cache[key] = layered_library(folder)  # then the package's library
        return self.cache[key]


def _lint(
    paths: list[Path] | None,
    routines_dir: Path,
    required: frozenset[str] = frozenset(),
    vocabulary: Vocabulary | None = None,
) -> tuple[list[Problem], list[str], list[Problem]]:
    targets = _targets(paths, routines_dir)
    libraries = _Libraries(routines_dir)
    # Every routine in routines_dir takes part in the duplicate-name check, linted or not.
    shown = (
        {p.resolve(): str(p) for p in routine_files(routines_dir)} if routines_dir.is_dir() else {}
    )
    shown.update(targets.routines)
    docs = {
        resolved: load_routine_document(Path(name), libraries.for_routine(resolved))
        for resolved, name in sorted(shown.items(), key=lambda item: item[1])
    }
    target_names = set(targets.routines.values())
    # Library text reaches the speaker through routines, so lint the exercises they draw on;
    # a library file pulled in this way is reported only for the exercises actually used.
    pulled_in: dict[Path, set[str]] = {}
    for resolved in targets.routines:
        library = libraries.for_routine(resolved)
        for key in set(docs[resolved].library_fields.values()):
            source = Path(library.exercises[key].source_path)
            if source.resolve() not in targets.libraries:
                pulled_in.setdefault(source.resolve(), set()).add(key)
                targets.libraries[source.resolve()] = str(source)

    locale = load_locale(ROUTINE_LOCALE)
    matcher = PhraseMatcher(locale)
    problems: list[Problem] = []
    for resolved in targets.routines:
        problems += _routine_problems(docs[resolved], matcher, locale)
        if docs[resolved].routine is not None:
            # Each locale's words against its own commands and timing (lint_translations.py).
            library = libraries.for_routine(resolved)
            found = routine_translation_problems(
                docs[resolved], library, set(required), _echo_problems
            )
            problems += found
    problems += _name_problems([d for d in docs.values() if d.routine], target_names)
    folder_problems = _FolderProblems()
    for resolved, name in targets.libraries.items():
        found = _library_problems(resolved, name, matcher, folder_problems)
        if resolved in pulled_in:
            found = [p for p in found if _exercise_key(p.field) in pulled_in[resolved]]
        problems += found
    for folder in {Path(name).parent for name in targets.libraries.values()}:
        english = load_library(folder.parent)[0]
        keys = set(english.exercises) | set(english.broken)
        problems += library_translation_problems(folder, keys, _echo_problems)
    for resolved, name in targets.locales.items():
        problems += _locale_problems(resolved, name)
    warnings: list[Problem] = []
    if vocabulary is not None:
        linted = [docs[resolved] for resolved in targets.routines if docs[resolved].routine]
        warnings = _name_warnings(linted, vocabulary)
    return (
        sorted(set(problems), key=lambda p: p.sort_key),
        targets.all_shown(),
        sorted(set(warnings), key=lambda p: p.sort_key),
    )


def _exercise_key(field: str) -> str | None:
    """'exercises.knee-hug.setup[1]' -> 'knee-hug'."""
    match = re.match(r"exercises\.([^.\[]+)", field)
    return match.group(1) if match else None


def lint_paths(
    paths: list[Path] | None, routines_dir: Path, required: frozenset[str] = frozenset()
) -> list[Problem]:
    """Problems in the given files or folders (None: all routines, the library and locales).

    Every translation that exists is checked; one missing is a problem for `required` locales.
    """
    return _lint(paths, routines_dir, required)[0]


def _relative(problem: Problem) -> Problem:
    """Show paths under the current folder relative to it, in the location and the message."""
    prefix = os.path.join(os.getcwd(), "")
    path = problem.path.removeprefix(prefix)
    return replace(problem, path=path, message=problem.message.replace(prefix, ""))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_lint(
    paths: list[Path] | None,
    routines_dir: Path,
    required: frozenset[str] = frozenset(),
    vocabulary: Vocabulary | None = None,
) -> int:
    """Print each problem and warning on its own line and a summary; return 1 if any problem
    was found (warnings alone return 0)."""
    problems, files, warnings = _lint(paths, routines_dir, required, vocabulary)
    for line in sorted([*problems, *warnings], key=lambda p: p.sort_key):
        print(_relative(line))
    warned = f", {_plural(len(warnings), 'warning')}" if warnings else ""
    if problems:
        bad = len({p.path for p in problems})
        print(f"{_plural(len(problems), 'problem')} in {_plural(bad, 'file')}{warned}")
        return 1
    print(f"{_plural(len(files), 'file')} OK{warned}")
    return 0
