"""The one way to build speech input: an engine, then a listener around it, from settings.

`recognize`, `listen`, `doctor`, `run`, `serve` and the benchmark all build through
`open_listener`, so what is measured is what the box runs. Engine packages (pocketsphinx,
vosk) are imported only inside their adapters, and the adapters only when asked for, so the
rest of the program never pays for an engine it does not use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from voiceguide.core.locale import Locale
from voiceguide.errors import UserError
from voiceguide.speech_in.echo_guard import EchoGuard, EchoState
from voiceguide.speech_in.engine import Engine, Hypothesis
from voiceguide.speech_in.listener import Listener, grammar_for
from voiceguide.speech_in.rejection import DEFAULT_THRESHOLDS, Rejection
from voiceguide.speech_in.settings import ENGINES, GRAMMAR_ENGINE, ListenSettings

# What a grammar engine does with a phrase holding a word it cannot say: stop the program
# (the project's own phrases: a bug) or leave the phrase out with a warning (user data).
OnMissing = Literal["error", "warn"]


class UserPhrases(dict[str, list[str]]):
    """A command table made from user data: idle mode's "start <routine name>" phrases.

    open_listener builds its engine with on_missing="warn" for it, so one routine name with a
    word the recogniser cannot say loses its phrases instead of stopping `serve`. A plain
    table (the locale's session commands) keeps "error".
    """


def create_engine(
    name: str,
    locale: Locale,
    grammar_phrases: list[str],
    model_path: Path | None = None,
    on_missing: OnMissing = "error",
) -> Engine:
    """A recogniser `name` listening for `grammar_phrases`; UserError if it cannot be set up."""
    if name == "pocketsphinx":
        if locale.language != "en":
            raise UserError(
                f"pocketsphinx only has an English model; for locale '{locale.language}' "
                "use --engine vosk",
                2,
            )
        from voiceguide.speech_in.engines.pocketsphinx import PocketsphinxEngine

        return PocketsphinxEngine(grammar_phrases, model_dir=model_path, on_missing=on_missing)
    if name == "vosk":
        from voiceguide.speech_in.engines.vosk import create_vosk_engine

        return create_vosk_engine(locale, grammar_phrases, model_path,  # (vosk says "skip")
                                  on_missing="skip" if on_missing == "warn" else "error")  # fmt: skip
    if name == "neural":  # a programming error: it needs the command table, not phrases
        raise ValueError("create_engine builds grammar engines; use engine_for for neural")
    raise UserError(f"unknown speech engine '{name}' (choose from: {', '.join(ENGINES)})", 2)


def engine_for(
    settings: ListenSettings,
    locale: Locale,
    commands: Mapping[str, Sequence[str]],
    on_missing: OnMissing = "error",
    box_talking: Callable[[], bool] | None = None,
) -> Engine:
    """The configured engine, restricted to `commands`, with its model resolved.

    The neural engine's head knows the session commands of English only. A table with other
    phrases (idle mode's "start <routine name>": routine names are user data, and a routine
    added to routines/ must start by voice with no retraining) goes to the grammar engine.
    """
    if settings.engine == "neural":
        from voiceguide.speech_in.engines.neural_engine import NeuralEngine, spots

        if locale.language != "en":
            raise UserError(
                f"the neural engine only knows English; for locale '{locale.language}' "
                "use --engine vosk",
                2,
            )
        if spots(commands):
            return NeuralEngine(commands, box_talking, locale)
        settings = dataclasses.replace(settings, engine=GRAMMAR_ENGINE)
    model_path = None
    if settings.engine == "vosk":
        from voiceguide.speech_in.models.locate import resolve_vosk_model

        model_path = resolve_vosk_model(settings.models, locale.language)
    phrases = grammar_for(commands)
    if on_missing == "error":  # the four-argument call tests stand in for (test_mic_input)
        return create_engine(settings.engine, locale, phrases, model_path)
    return create_engine(settings.engine, locale, phrases, model_path, on_missing=on_missing)


def spoken_commands(
    locale: Locale, commands: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """`commands` without the locale's typed-only phrases: what a speech engine listens for."""
    return {
        command: tuple(p for p in phrases if p not in locale.typed_only)
        for command, phrases in commands.items()
    }


def open_listener(
    settings: ListenSettings,
    locale: Locale,
    commands: Mapping[str, Sequence[str]],
    *,
    playing_text: Callable[[], str | None] | None = None,
    rejection: Rejection | None = None,
    on_hypothesis: Callable[[Hypothesis], None] | None = None,
    echo: EchoState | None = None,
) -> Listener:
    """Engine, rejection, echo guard and debouncing: everything between audio and a command.

    `playing_text` tells the echo guard what the box is saying right now; without it no
    hypothesis is guarded (offline recordings of a person alone). `echo` is the echo stage in
    front (speech_in.echo_path), which says whether its canceller had converged when words
    were said and, before that, whether the microphone held only the box's voice. A
    `UserPhrases` table loses its unsayable phrases with a warning instead of failing.
    """
    on_missing: OnMissing = "warn" if isinstance(commands, UserPhrases) else "error"
    commands = spoken_commands(locale, commands)
    # The neural spotter lifts its "has the talk stopped?" test while the box speaks.
    box_talking = (lambda: playing_text() is not None) if playing_text is not None else None
    engine = engine_for(settings, locale, commands, on_missing, box_talking)
    if rejection is None:
        rejection = _rejection_for(settings, engine)
    guard = EchoGuard(playing_text, echo) if playing_text is not None else None
    return Listener(
        engine, locale, commands=commands, rejection=rejection, guard=guard,
        on_hypothesis=on_hypothesis,
    )  # fmt: skip


def _rejection_for(settings: ListenSettings, engine: Engine) -> Rejection:
    """The neural spotter already applied its own thresholds; grammar engines need the bar."""
    if settings.engine == "vosk":
        # The lower bars over the box and for idle starts were chosen on PocketSphinx's
        # confidences; Vosk's are another scale, and nothing has measured them there.
        vosk = dataclasses.replace(DEFAULT_THRESHOLDS, final_other_over_box=None, final_start=None)
        return Rejection(vosk)
    if settings.engine != "neural":
        return Rejection()  # (and the neural module is never imported for other engines)
    from voiceguide.speech_in.engines.neural_engine import NEURAL_THRESHOLDS, NeuralEngine

    return Rejection(NEURAL_THRESHOLDS) if isinstance(engine, NeuralEngine) else Rejection()
