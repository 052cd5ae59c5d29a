"""Turn typed or recognised text into commands, using a locale's phrase lists.

The same matcher serves console mode, both speech engines and the linter, so a phrase
that works when typed works when spoken, and text the box speaks is checked against
exactly what it would obey.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from voiceguide.core.commands import PRIORITY
from voiceguide.core.locale import Locale

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def normalize(text: str) -> list[str]:
    """Lower-case words with punctuation removed; apostrophes are dropped ("what's" -> "whats")."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = text.replace("'", "")
    text = re.sub(r"[^\w\s]", " ", text)
    return text.split()


@dataclass(frozen=True)
class PhraseMatch:
    """A command phrase found in some text, with word positions [start, end)."""

    command: str
    phrase: str
    start_word: int
    end_word: int


def _find(words: list[str], phrase_words: list[str]) -> int:
    n = len(phrase_words)
    for i in range(len(words) - n + 1):
        if words[i : i + n] == phrase_words:
            return i
    return -1


class PhraseMatcher:
    """Finds a locale's command phrases in text as whole-word sequences."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        table = [
            (command, phrase, normalize(phrase))
            for command, phrases in locale.commands.items()
            for phrase in phrases
        ]
        # Longest phrases first, so "ow that hurts" wins over "that hurts" for the same words.
        self._table = sorted(table, key=lambda row: -len(row[2]))

    def find_all(self, text: str) -> list[PhraseMatch]:
        """Every command phrase occurring in `text`, longest phrases first, no overlaps."""
        words = normalize(text)
        taken: set[int] = set()
        found: list[PhraseMatch] = []
        for command, phrase, pwords in self._table:
            start = _find(words, pwords)
            if start < 0 or taken & set(range(start, start + len(pwords))):
                continue
            taken.update(range(start, start + len(pwords)))
            found.append(PhraseMatch(command, phrase, start, start + len(pwords)))
        return found

    def match(self, text: str) -> PhraseMatch | None:
        """The one command `text` asks for: safety commands first, else the earliest phrase."""
        found = self.find_all(text)
        if not found:
            # Console users may also type the command's own name, e.g. "time_left".
            key = "_".join(normalize(text))
            if key in self.locale.commands:
                return PhraseMatch(key, key, 0, 1)
            return None
        for command in PRIORITY:
            for m in found:
                if m.command == command:
                    return m
        return min(found, key=lambda m: m.start_word)
