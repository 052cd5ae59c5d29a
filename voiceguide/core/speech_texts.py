"""Every fixed text a session may say, so the speaker can render it all before anything is timed."""

from __future__ import annotations

from collections.abc import Iterable

from voiceguide.core.commands import safety_advice
from voiceguide.core.locale import Locale
from voiceguide.core.routine import Routine
from voiceguide.core.timeline import plan_at_rate


def session_texts(routines: Iterable[Routine], locale: Locale, rate_wpm: int) -> set[str]:
    """Each routine's timeline at `rate_wpm`, its start prompt, and the prompts with no slots."""
    texts: set[str] = set()
    for routine in routines:
        texts |= plan_at_rate(routine, locale, rate_wpm).texts()
        texts.add(locale.prompt("starting", title=routine.title))
        # "What's next?" has one answer per exercise: ready before anyone asks.
        texts |= {locale.prompt("whats_next_exercise", exercise=s.exercise) for s in routine.steps}
    texts |= {p for p in locale.prompts.values() if "{" not in p}
    texts.add(safety_advice(locale))  # the one phrase that must never wait for synthesis
    return texts
