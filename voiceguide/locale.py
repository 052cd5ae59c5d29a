"""Locale data: command phrases, system prompts and number words, from locales/<lang>.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from voiceguide.errors import UserError

COMMANDS = (
    "pain", "stop", "pause", "resume", "skip", "previous", "repeat", "time_left",
    "whats_next", "help", "louder", "quieter", "slower", "faster",
)  # fmt: skip


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

    def prompt(self, key: str, **values: object) -> str:
        """Return prompt `key` with its {placeholders} filled in."""
        return self.prompts[key].format(**values)

    def number(self, n: int) -> str:
        """Spell a whole number; numbers beyond the word list fall back to digits."""
        return self.numbers[n] if 0 <= n < len(self.numbers) else str(n)

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


def available_locales() -> list[str]:
    """Names of the bundled locales."""
    folder = resources.files("voiceguide") / "locales"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@cache
def load_locale(language: str = "en") -> Locale:
    """Load a bundled locale by language code."""
    path = resources.files("voiceguide") / "locales" / f"{language}.yaml"
    if not path.is_file():
        raise UserError(
            f"unknown locale '{language}' (available: {', '.join(available_locales())})", 2
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = [c for c in COMMANDS if c not in data["commands"]]
    if missing:
        raise UserError(f"locale '{language}' lacks phrases for: {', '.join(missing)}")
    return Locale(
        language=data["language"],
        commands={k: tuple(v) for k, v in data["commands"].items()},
        idle_commands={k: tuple(v) for k, v in data.get("idle_commands", {}).items()},
        prompts=dict(data["prompts"]),
        prompts_naming_commands=frozenset(data.get("prompts_naming_commands", ())),
        sides=dict(data["sides"]),
        units=dict(data["units"]),
        numbers=tuple(data["numbers"]),
    )
