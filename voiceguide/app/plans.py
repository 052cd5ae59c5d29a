"""Routines as the configured box plans them: from the configured folder, locale and rate."""

from __future__ import annotations

from voiceguide.app.config import Config
from voiceguide.content.catalog import find_good_routine
from voiceguide.content.locales import load_locale
from voiceguide.core.timeline import Timeline, plan_at_rate


def timeline_for(config: Config, name: str) -> Timeline:
    """Find routine `name` and plan it with the configured locale and speech rate."""
    routine = find_good_routine(config.routines_folder(), name)
    return plan_at_rate(routine, load_locale(config.locale), config.rate_wpm)
