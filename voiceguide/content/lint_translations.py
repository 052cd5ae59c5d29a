"""`voiceguide lint` for translations: each locale's words against that locale's own commands.

Every overlay that exists is checked (content/translations.py): it must translate its routine
completely, its spoken text must not contain a command phrase of its own locale, and the
translated routine must fit its timing with that locale's counting words and speech length.
A routine with no overlay for a locale is a problem only for the locales asked for (the one
in force: `voiceguide --locale ko lint`), since the box refuses it in that locale alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from voiceguide.content.lint_timing import timing_findings
from voiceguide.content.loader import Library, RoutineDocument
from voiceguide.content.locales import available_locales, load_locale
from voiceguide.content.problem import Problem
from voiceguide.content.translations import (
    SOURCE_LANGUAGE,
    LibraryOverlays,
    library_overlay_files,
    load_library_overlay,
    routine_overlay_path,
    translate_document,
)
from voiceguide.content.yaml_positions import DataPath
from voiceguide.core.phrases import PhraseMatcher

# (texts with their locator, matcher) -> problems; lint.py's own echo check, passed in.
EchoCheck = Callable[[Iterator[tuple[DataPath, str]], PhraseMatcher, Any], list[Problem]]


def translated_languages() -> list[str]:
    """The bundled locales other than the source language."""
    return [lang for lang in available_locales() if lang != SOURCE_LANGUAGE]


def routine_translation_problems(
    doc: RoutineDocument,
    library: Library,
    required: set[str],
    echo: EchoCheck,
) -> list[Problem]:
    """Problems of every translation of one loaded routine (and a missing required one)."""
    assert doc.routine is not None
    found: list[Problem] = []
    for language in translated_languages():
        overlay_path = routine_overlay_path(Path(doc.path), language)
        if not overlay_path.is_file() and language not in required:
            continue
        translation = translate_document(doc, library, LibraryOverlays(language))
        found += translation.problems
        locale = load_locale(language)
        matcher = PhraseMatcher(locale)
        by_source: dict[str, list[tuple[DataPath, str]]] = {}
        sources: dict[str, object] = {}
        for text in translation.texts:
            by_source.setdefault(text.source.path, []).append((text.path, text.text))
            sources[text.source.path] = text.source
        for name, texts in by_source.items():
            found += echo(iter(texts), matcher, sources[name])
        if translation.routine is not None and translation.overlay is not None:
            findings = timing_findings(translation.routine, doc.data["steps"], locale)
            for path, message in findings:
                found.append(translation.overlay.problem(path, f"({language}) {message}"))
    return found


def library_translation_problems(
    folder: Path, english_keys: set[str], echo: EchoCheck
) -> list[Problem]:
    """Problems of the overlays beside one library folder, for every translated locale."""
    found: list[Problem] = []
    for language in translated_languages():
        files = library_overlay_files(folder, language)
        if not files:
            continue
        overlay = load_library_overlay(folder, language)
        found += overlay.problems
        matcher = PhraseMatcher(load_locale(language))
        for key, (parsed, at) in overlay.where.items():
            if key not in english_keys:
                message = f"'{key}' is not an exercise of the library in {folder}"
                found.append(parsed.problem(at, message, at_key=True))
            step = overlay.exercises[key]
            texts: list[tuple[DataPath, str]] = []
            for name, value in step.items():
                if isinstance(value, dict):
                    cues = value.get("cues", [])
                    texts += [((*at, name, "cues", i), c) for i, c in enumerate(cues)]
                elif isinstance(value, list):
                    texts += [((*at, name, i), v) for i, v in enumerate(value)]
                else:
                    texts.append(((*at, name), value))
            found += echo(iter(texts), matcher, parsed)
    return found
