"""Turn typed or recognised text into commands, using a locale's phrase lists.

The same matcher serves console mode, both speech engines and the linter, so a phrase
that works when typed works when spoken, and text the box speaks is checked against
exactly what it would obey.

Pain is heard in every natural form, and told from its negation by one narrow rule (the
locale's `pain_negation`): a pain phrase that *begins* with a pain word ("hurt", "hurting",
"painful", "in pain") is not pain when a negator stands right before it, with at most two
softeners between: "it doesn't hurt", "not really hurting anymore", "I'm not in pain".
A phrase led by any other word is never negated, so "no, it hurts" and "ow" are pain, and
anything unsure is pain: a false alarm only ends a stretch early, a missed one does harm.
"No pain now" and "painting" are not pain because "pain" alone is no phrase (whole words only).
Languages that glue endings on (Korean "아파요" = "아파" + "요") list `stems`: a word that
starts with a stem is pain, unless it is in `not_stems` ("아파트", a flat).
The linter matches strictly (`negation=False`), so the box never says a pain word at all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from voiceguide.core.commands import PRIORITY, Command
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


_MAX_SOFTENERS = 2  # "not really hurting", "doesn't even really hurt"
PAIN = Command.PAIN.value


def _starts(words: list[str], phrase_words: list[str]) -> list[int]:
    n = len(phrase_words)
    return [i for i in range(len(words) - n + 1) if words[i : i + n] == phrase_words]


def _only(words: list[str], phrase_words: list[str]) -> bool:
    """True if `words` are `phrase_words` said one or more times and nothing else."""
    n = len(phrase_words)
    return bool(words) and len(words) % n == 0 and words == phrase_words * (len(words) // n)


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

    def find_all(self, text: str, negation: bool = True) -> list[PhraseMatch]:
        """Every command phrase occurring in `text`, longest phrases first, no overlaps.

        With `negation`, a negated pain phrase ("it doesn't hurt") is left out, and an
        `alone_only` phrase counts only when it is all of `text`. Without it every phrase
        counts wherever it stands: the linter's strict reading of what the box says."""
        words = normalize(text)
        taken: set[int] = set()
        found: list[PhraseMatch] = []
        for command, phrase, pwords in self._table:
            if negation and phrase in self.locale.alone_only and not _only(words, pwords):
                continue
            for start in _starts(words, pwords):
                span = set(range(start, start + len(pwords)))
                if taken & span:
                    continue
                if negation and command == PAIN and self._negated(words, start, pwords[0]):
                    continue
                taken.update(span)
                found.append(PhraseMatch(command, phrase, start, start + len(pwords)))
                break
        found += self._stem_matches(words, taken, negation)
        return found

    def _negated(self, words: list[str], start: int, first: str) -> bool:
        """True if the pain phrase at `start` (led by `first`) follows a negator."""
        rules = self.locale.pain_negation
        if first not in rules.get("words", ()) and not self._is_stem(first):
            return False
        softeners, negators = set(rules.get("softeners", ())), set(rules.get("negators", ()))
        i = start - 1
        for _ in range(_MAX_SOFTENERS):
            if i >= 0 and words[i] in softeners:
                i -= 1
        return i >= 0 and words[i] in negators

    def _is_stem(self, word: str) -> bool:
        rules = self.locale.pain_negation
        if word in rules.get("not_stems", ()):
            return False
        return any(word.startswith(stem) for stem in rules.get("stems", ()))

    def _stem_matches(self, words: list[str], taken: set[int], negation: bool) -> list[PhraseMatch]:
        """Pain words with an ending glued on ("아파요"), which whole-word phrases miss."""
        for i, word in enumerate(words):
            if i in taken or not self._is_stem(word):
                continue
            if negation and self._negated(words, i, word):
                continue
            taken.add(i)
            return [PhraseMatch(PAIN, word, i, i + 1)]
        return []

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
