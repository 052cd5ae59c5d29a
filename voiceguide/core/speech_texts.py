"""Every fixed text a session may say, so the speaker can render it all before anything is timed."""

from __future__ import annotations

from collections.abc import Iterable

from voiceguide.core.coaching import Coaching, Verbosity
from voiceguide.core.commands import safety_advice
from voiceguide.core.locale import Locale
from voiceguide.core.planner import easier_text
from voiceguide.core.routine import Routine
from voiceguide.core.timeline import plan_session


def session_texts(
    routines: Iterable[Routine], locale: Locale, rate_wpm: int, coaching: Coaching | None = None
) -> set[str]:
    """Each routine's timeline at every verbosity (with `coaching`'s questions, notes and
    closing line), its start prompt, and the prompts with no slots."""
    coaching = coaching or Coaching()
    texts: set[str] = set()
    for routine in routines:
        everything = frozenset(range(len(routine.steps)))
        for level in Verbosity:
            # A session may change level by voice, and switch any step to its easier variant.
            leveled = Coaching(
                level, coaching.pain_notes, coaching.progression, coaching.sessions_this_week
            )
            for easier in (frozenset(), everything):
                texts |= plan_session(routine, locale, rate_wpm, leveled, easier).texts()
        texts.add(locale.prompt("starting", title=routine.title))
        # "What's next?" has one answer per exercise: ready before anyone asks.
        texts |= {locale.prompt("whats_next_exercise", exercise=s.exercise) for s in routine.steps}
        texts |= {easier_text(locale, s) for s in routine.steps if s.easier}
    texts |= {p for p in locale.prompts.values() if "{" not in p}
    texts.add(safety_advice(locale))  # the one phrase that must never wait for synthesis
    return texts
