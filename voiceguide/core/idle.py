"""Idle mode: between sessions the box waits for "start <routine>", "list routines" or "help"."""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.core.actions import Speak
from voiceguide.core.locale import Locale
from voiceguide.core.phrases import normalize
from voiceguide.core.routine import Routine


@dataclass(frozen=True)
class StartRoutine:
    """Begin a session of `routine` (after the spoken confirmation)."""

    routine: Routine


IdleAction = Speak | StartRoutine
NAME_SLOT = "{name}"
START_PREFIX = "start:"  # idle commands "start:<routine id>", one per routine


def is_start(command: str) -> bool:
    """Whether an idle command asks for a routine ("start:<routine id>")."""
    return command.startswith(START_PREFIX)


def start_phrase(start: str, name: str) -> str:
    """A start phrase for one routine name: the locale's "{name}" slot filled, or the name
    after the phrase when it has no slot ("start" -> "start morning stretch")."""
    return start.replace(NAME_SLOT, name) if NAME_SLOT in start else f"{start} {name}"


def _start_pattern(start: str) -> tuple[list[str], list[str]]:
    """The words said before and after the routine name in a start phrase."""
    before, _, after = start.partition(NAME_SLOT) if NAME_SLOT in start else (start, "", "")
    return normalize(before), normalize(after)


def spoken_names(routine: Routine) -> list[list[str]]:
    """Every way to name a routine aloud, as word lists: aliases, title and id."""
    names = [*routine.aliases, routine.title, routine.id.replace("-", " ")]
    return [words for name in names if (words := normalize(name))]


class IdleMode:
    """Decides what to do with what was heard while no routine is running."""

    def __init__(self, routines: list[Routine], locale: Locale) -> None:
        self.routines = routines
        self.locale = locale
        self._starts = sorted(
            (_start_pattern(p) for p in locale.idle_commands.get("start", ())),
            key=lambda pattern: len(pattern[0]) + len(pattern[1]),
            reverse=True,
        )
        self._lists = [normalize(p) for p in locale.idle_commands.get("list_routines", ())]
        self._helps = [normalize(p) for p in locale.commands.get("help", ())]

    def command_table(self) -> dict[str, list[str]]:
        """Idle-mode phrases by command, for the listener: one start command per routine."""
        table = {
            f"{START_PREFIX}{routine.id}": sorted(
                {start_phrase(start, name) for start in self.locale.idle_commands.get("start", ())
                 for name in (*routine.aliases, routine.title)}
            )
            for routine in self.routines
        }  # fmt: skip
        table["list_routines"] = list(self.locale.idle_commands.get("list_routines", ()))
        table["help"] = list(self.locale.commands.get("help", ()))
        return table

    def grammar_phrases(self) -> list[str]:
        """Every phrase idle mode understands, for restricting a recogniser's grammar."""
        return sorted({p for phrases in self.command_table().values() for p in phrases})

    def find_start(self, text: str) -> Routine | None:
        """The routine that `text` asks to start, if any ("start the morning stretch")."""
        words = normalize(text)
        for before, after in self._starts:
            for i in range(len(words) - len(before) + 1):
                if words[i : i + len(before)] != before:
                    continue
                rest = words[i + len(before) :]
                # The longest name wins, so "gentle back" is not taken for a shorter alias.
                best = max(
                    ((len(n), r) for r in self.routines for n in spoken_names(r)
                     if rest[: len(n)] == n and rest[len(n) : len(n) + len(after)] == after),
                    key=lambda pair: pair[0], default=None,
                )  # fmt: skip
                if best:
                    return best[1]
        return None

    def _sounds_like_a_start(self, words: list[str]) -> bool:
        """True if the words begin or end like a start phrase (with an unknown name)."""
        return any(
            (before and words[: len(before)] == before) or (after and words[-len(after) :] == after)
            for before, after in self._starts
        )

    def handle_text(self, text: str) -> list[IdleAction]:
        """React to one recognised or typed utterance."""
        routine = self.find_start(text)
        if routine is not None:
            return [
                Speak(self.locale.prompt("starting", title=routine.title), "prompt"),
                StartRoutine(routine),
            ]
        words = normalize(text)
        joined = " ".join(words)
        if any(" ".join(p) in joined for p in self._lists):
            titles = ", ".join(r.title for r in self.routines)
            return [Speak(self.locale.prompt("routines_list", titles=titles), "prompt")]
        if any(" ".join(p) == joined for p in self._helps):
            return [Speak(self.idle_help(), "prompt")]
        if words and self._sounds_like_a_start(words):
            return [Speak(self.locale.prompt("unknown_routine"), "prompt")]
        return []

    def idle_help(self) -> str:
        """The spoken help for idle mode, with a real alias as the example."""
        example = self.routines[0].aliases[0] if self.routines else ""
        return self.locale.prompt("idle_help", example=example)
