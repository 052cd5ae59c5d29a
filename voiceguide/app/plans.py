"""Routines as the configured box plans them: from the configured folder, locale and rate, and
coached for this user from the history (pain memory, progression, sessions this week)."""

from __future__ import annotations

import logging
from datetime import datetime

from voiceguide.app.config import Config
from voiceguide.content.catalog import find_good_routine
from voiceguide.content.locales import load_locale
from voiceguide.core.coaching import Coaching, Verbosity, progression_for
from voiceguide.core.routine import Routine
from voiceguide.core.timeline import Timeline, plan_session
from voiceguide.errors import UserError
from voiceguide.store.history import History, default_history_path
from voiceguide.store.pain_memory import recent_pain_notes
from voiceguide.store.progress import sessions_this_week, use_so_far

log = logging.getLogger("voiceguide.plans")


def coaching_for(
    config: Config, routine: Routine | None, history: History | None, now: datetime | None = None
) -> Coaching:
    """How today's session of `routine` is coached: the configured verbosity, and from the
    history the pain reports of the last `pain_memory_days` days on its exercises (on any
    exercise when `routine` is None), the start-slowly progression and the sessions this week
    (counting this one)."""
    verbosity = Verbosity(config.verbosity)
    if history is None:
        return Coaching(
            verbosity=verbosity, progression=progression_for(0, None, config.progression)
        )
    use = use_so_far(history, now)
    exercises = None if routine is None else [step.exercise for step in routine.steps]
    return Coaching(
        verbosity=verbosity,
        pain_notes=recent_pain_notes(history, exercises, config.pain_memory_days, now),
        progression=progression_for(
            use.completed_sessions, use.days_since_first, config.progression
        ),
        sessions_this_week=sessions_this_week(history, now),
    )


def read_history(config: Config) -> History | None:
    """The history for reading only (`plan`, and `run --no-history`): nothing is created or
    changed. None when it cannot be read (logged): the routine is then planned as a first
    session."""
    try:
        return History(default_history_path(config.history_db), read_only=True)
    except UserError as exc:
        log.warning("%s; planning without the history", exc)
        return None


def plan_routine(config: Config, routine: Routine, coaching: Coaching | None = None) -> Timeline:
    """Plan `routine` at the configured locale and speech rate, coached (default: the
    configured verbosity only, as a session without history)."""
    chosen = coaching if coaching is not None else Coaching(verbosity=Verbosity(config.verbosity))
    return plan_session(routine, load_locale(config.locale), config.rate_wpm, chosen)


def coached_plan(
    config: Config, name: str, history: History | None, now: datetime | None = None
) -> tuple[Timeline, Coaching]:
    """Find routine `name`, coach it from `history` and plan it: what `run` and `plan` play."""
    routine = find_good_routine(config.routines_folder(), name, config.locale)
    coaching = coaching_for(config, routine, history, now)
    return plan_routine(config, routine, coaching), coaching


def timeline_for(config: Config, name: str) -> Timeline:
    """Find routine `name` and plan it with the configured locale, rate and verbosity."""
    return plan_routine(config, find_good_routine(config.routines_folder(), name, config.locale))
