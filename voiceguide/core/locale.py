"""Locale data: command phrases, system prompts and number words for one language (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Locale:
    """Phrases and prompts for one language."""

    language: str
    commands: dict[str, tuple[str, ...]]
    idle_commands: dict[str, tuple[str, ...]]
    prompts: dict[str, str]
    prompts_naming_commands: frozenset[str]
    sides: dict[str, str]
    units: dict[str, str]
    numbers: tuple[str, ...]
    asr_fillers: tuple[str, ...] = ()  # ordinary words that soak up non-command speech
    # How a pain report is told from its negation (core/phrases.py): "words", "negators",
    # "softeners", and for languages that glue endings on, "stems" and "not_stems".
    pain_negation: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Words for counting aloud (reps and the final countdown) where they differ from `numbers`:
    # a Korean coach counts "하나, 둘, 셋" but reads seconds as "삼십 초". Empty: use `numbers`.
    counting: tuple[str, ...] = ()
    voice: str = ""  # the espeak-ng voice this language is spoken in by default
    # Command phrases obeyed when typed but not listened for: too short for a speech engine
    # to tell from ordinary talk (measured in docs/benchmarks.md).
    typed_only: frozenset[str] = frozenset()
    # Command phrases obeyed only when they are all that was said (repeats allowed): a word
    # that is also a common part of other words in speech recognisers' output (Korean "아야",
    # which Vosk also writes for the ending -아야 "must").
    alone_only: frozenset[str] = frozenset()

    def prompt(self, key: str, **values: object) -> str:
        """Return prompt `key` with its {placeholders} filled in."""
        return self.prompts[key].format(**values)

    def number(self, n: int) -> str:
        """Spell a whole number; numbers beyond the word list fall back to digits."""
        return self.numbers[n] if 0 <= n < len(self.numbers) else str(n)

    def count(self, n: int) -> str:
        """A number as counted aloud (reps, countdowns); `number` where no counting word exists."""
        return self.counting[n] if 0 <= n < len(self.counting) else self.number(n)

    def duration(self, seconds: float) -> str:
        """Spell a duration as minutes and seconds, e.g. 'two minutes and ten seconds'."""
        total = max(0, round(seconds))
        minutes, secs = divmod(total, 60)
        parts = []
        if minutes:
            unit = self.units["minute"] if minutes == 1 else self.units["minutes"]
            parts.append(f"{self.number(minutes)} {unit}")
        if secs or not minutes:
            unit = self.units["second"] if secs == 1 else self.units["seconds"]
            parts.append(f"{self.number(secs)} {unit}")
        return self.units["join"].join(parts)
