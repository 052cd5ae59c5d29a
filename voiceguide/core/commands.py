"""The commands a session obeys, how sessions end, and every rule that makes "it hurts" safe.

This is the one place to read what a safety command does. "It hurts" (pain) and "stop":
- win over any other command found in the same utterance (PRIORITY, used by the matcher);
- are obeyed on a partial recognition result, before the sentence is finished, and at a lower
  confidence bar than other commands (speech_in.rejection reads SAFETY_COMMANDS);
- are never muted by the echo guard (speech_in.echo_guard), with one narrow exemption: "what
  can I say" must tell the user the real stop word, so the `help` prompt (STOP_NAMING_PROMPTS,
  the only prompts content.lint lets say a stop phrase) says it, and a stop phrase whose every
  word the box is saying at that moment is taken for the box's own voice. That can only happen
  while the help answer plays; a person's "stop" then needs saying again once it ends, and
  pain is never muted at all, even then. The help prompt names stop mid-prompt, with a
  sentence after it, so the recogniser's decision on the box's own "stop" still comes while
  the prompt plays;
- override a different command heard in the same breath (speech_in.listener);
- never appear in anything the box says (content.lint), except stop in STOP_NAMING_PROMPTS;
- and in the session (core.session): pain cancels speech at once, speaks `safety_advice`,
  logs where it happened and ends the session with Ending.PAIN; stop says goodbye and ends
  with Ending.STOPPED.
The speech output pre-renders `safety_advice` before a session starts, so it never waits for
synthesis, and a speaker that lost its rate still plays it (speech_out.speaker).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voiceguide.core.locale import Locale


class Command(StrEnum):
    """A session command; the values are the keys of a locale's `commands:` table."""

    PAIN = "pain"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    SKIP = "skip"
    PREVIOUS = "previous"
    REPEAT = "repeat"
    TIME_LEFT = "time_left"
    WHATS_NEXT = "whats_next"
    HELP = "help"
    LOUDER = "louder"
    QUIETER = "quieter"
    SLOWER = "slower"
    FASTER = "faster"
    EASIER = "easier"
    OTHER_SIDE = "other_side"
    MORE_DETAIL = "more_detail"
    LESS_TALK = "less_talk"
    LEAVE_OUT = "leave_out"  # answers the pain-memory question
    KEEP_IT = "keep_it"  # answers the pain-memory question


# Safety first: when one utterance holds several commands, these win, in this order.
PRIORITY: tuple[Command, ...] = (Command.PAIN, Command.STOP)
SAFETY_COMMANDS: frozenset[str] = frozenset(PRIORITY)
# Prompts that must name the stop phrase so the user learns it; the echo guard mutes a stop
# whose words the box is saying, which only these prompts may contain. Never pain phrases.
STOP_NAMING_PROMPTS: frozenset[str] = frozenset({"help"})


def is_safety(command: str) -> bool:
    """True for the commands that are never muted and act on partial results."""
    return command in SAFETY_COMMANDS


class Ending(StrEnum):
    """How a session ended, as recorded in history."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    PAIN = "pain"
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM, or a crash (a session row with no end)


def safety_advice(locale: Locale) -> str:
    """What the box says after "it hurts": ease out, don't push, and the red flags."""
    return f"{locale.prompt('pain_advice')} {locale.prompt('pain_red_flags')}"
