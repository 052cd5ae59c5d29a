"""The pieces `run` and `serve` share: the speaker and microphone from config, the phrases to
render before anything is timed, and one session wired to its runner."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from voiceguide.app.clock import Clock
from voiceguide.app.config import Config
from voiceguide.app.notify import ServiceNotifier
from voiceguide.app.ports import HistorySink, Post, SpeechSink
from voiceguide.app.runner import Runner
from voiceguide.audio.backoff import Backoff
from voiceguide.audio.devices import NoInputDevice, NoOutputDevice, choose_input_device
from voiceguide.core.coaching import Coaching
from voiceguide.core.idle import START_PREFIX, IdleMode
from voiceguide.core.locale import Locale
from voiceguide.core.routine import Routine
from voiceguide.core.session import Session
from voiceguide.core.speech_texts import session_texts
from voiceguide.core.timeline import Timeline
from voiceguide.speech_in.echo_cancel import ReferenceBuffer, load_speexdsp
from voiceguide.speech_in.factory import UserPhrases
from voiceguide.speech_in.mic import MicInput
from voiceguide.speech_in.settings import GRAMMAR_ENGINE, ListenSettings
from voiceguide.speech_out.speaker import AudioSpeechOut, open_speaker

log = logging.getLogger("voiceguide.audio")
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 1.0, 30.0


def open_speaker_or_none(config: Config) -> AudioSpeechOut | None:
    """The speaker, or None (logged once, with the reason) when no output device opens."""
    try:
        return open_speaker(config.speaker_settings())
    except NoOutputDevice as exc:
        log.warning("no speaker: %s; using console mode (spoken lines are printed only)", exc)
        return None


def has_input_device(config: Config) -> bool:
    """True if the configured (or default) microphone exists right now."""
    try:
        choose_input_device(config.input_device)
    except NoInputDevice:
        return False
    return True


def wait_for_speaker(config: Config, stop: threading.Event) -> AudioSpeechOut | None:
    """Open the speaker, retrying with back-off while it is missing; None if `stop` is set."""
    backoff = Backoff(RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS)
    warned = False
    while not stop.is_set():
        try:
            return open_speaker(config.speaker_settings())
        except NoOutputDevice as exc:
            if not warned:
                log.warning("waiting for a speaker: %s", exc)
                warned = True
        stop.wait(backoff.next_delay())
    return None


def prepare_phrases(
    speaker: AudioSpeechOut,
    routines: Iterable[Routine],
    locale: Locale,
    rate_wpm: int,
    notifier: ServiceNotifier | None = None,
    coaching: Coaching | None = None,
) -> None:
    """Render everything a session of these routines may say before anything is timed: with
    `coaching`, every verbosity level, its pain-memory question and progression and closing
    lines too."""
    texts = session_texts(routines, locale, rate_wpm, coaching)
    started = time.monotonic()
    if notifier is not None:
        # A first run on a Pi renders a few hundred phrases; tell systemd it is still starting.
        notifier.extend_start(max(60.0, len(texts) * 2.0))
    speaker.prepare(sorted(texts))
    log.info("%d phrases ready in %.1f s", len(texts), time.monotonic() - started)


def open_microphone(
    config: Config,
    locale: Locale,
    post: Post,
    commands: Mapping[str, Sequence[str]],
    speaker: AudioSpeechOut | None = None,
) -> MicInput:
    """Listen on the configured microphone. What the speaker plays feeds the echo canceller
    (unless the config turns it off) and what it says feeds the echo guard."""
    settings = config.listen_settings()
    playing: Callable[[], str | None] | None = None
    reference = None
    if speaker is not None:
        playing = speaker.playing_text
        if echo_cancellation(settings) == "on":
            reference = ReferenceBuffer()
            speaker.add_tap(reference.add)
    glitches = (lambda: speaker.player.underflows) if speaker is not None else None
    return MicInput(settings, locale, post, commands, playing, reference=reference,
                    echo_delay_seconds=remembered_echo_delay(config),
                    speaker_glitches=glitches)  # fmt: skip


def idle_commands(idle: IdleMode, settings: ListenSettings) -> UserPhrases:
    """Idle mode's table for the listener ("start <routine name>"), marked as user data.

    Routine names are user data, so a word the recogniser cannot say leaves that name's
    phrases out instead of stopping `serve` (open_listener builds a UserPhrases table with
    on_missing="warn"). PocketSphinx's dictionary is checked here, for one warning line per
    routine that names it and says how else to start it; Vosk leaves such phrases out itself,
    with its own line. Build the table once per process: each build warns again.
    """
    table = UserPhrases(idle.command_table())
    engine = GRAMMAR_ENGINE if settings.engine == "neural" else settings.engine  # as engine_for
    if engine != "pocketsphinx" or idle.locale.language != "en" or not idle.routines:
        return table  # (pocketsphinx in another language stops with its own error)
    from voiceguide.speech_in.engines.pocketsphinx_grammar import grammar_words, missing_words

    starts = [f"{START_PREFIX}{routine.id}" for routine in idle.routines]
    missing = missing_words([p for key in starts for p in table[key]])
    for routine, key in zip(idle.routines, starts, strict=True):
        names = list(dict.fromkeys((*routine.aliases, routine.title)))
        unknown = {n: [w for w in grammar_words(n) if w in missing] for n in names}
        lost = [n for n in names if unknown[n]]
        if not lost:
            continue
        table[key] = [p for p in table[key] if not set(grammar_words(p)) & missing.keys()]
        words = ", ".join(f"'{w}'" for w in dict.fromkeys(w for n in lost for w in unknown[n]))
        why = f"the PocketSphinx dictionary does not know {words}"
        kept = [n for n in names if not unknown[n]]
        if kept and table[key]:
            log.warning("routine '%s' cannot be started by voice as %s (%s); say 'start %s'",
                        routine.id, " or ".join(f"'{n}'" for n in lost), why, kept[0])  # fmt: skip
            continue
        del table[key]
        log.warning("routine '%s' cannot be started by voice (%s); it starts only when typed "
                    "('start %s') or with 'voiceguide run %s'",
                    routine.id, why, routine.title, routine.id)  # fmt: skip
    return table


def _echo_delay_file(config: Config) -> Path:
    return Path(config.cache_dir) / "echo-delay.json"


def remembered_echo_delay(config: Config) -> float:
    """The playback-to-capture delay measured last time with these devices, else 0."""
    try:
        data = json.loads(_echo_delay_file(config).read_text())
        if data.get("devices") == [str(config.output_device), str(config.input_device)]:
            return float(data["delay_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # none yet, or unreadable: the estimator finds it again within a second
    return 0.0


def remember_echo_delay(config: Config, mic: MicInput) -> None:
    """Keep the delay the echo canceller tracked, so the next run starts lined up."""
    # A delay with no echo heard is a chance correlation peak: not worth starting from.
    if mic.echo is None or not mic.echo.stats.delay_estimates or not mic.echo.echo_heard:
        return
    record = {"devices": [str(config.output_device), str(config.input_device)],
              "delay_seconds": round(mic.echo.delay_seconds, 4)}  # fmt: skip
    try:
        path = _echo_delay_file(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
    except OSError as exc:
        log.debug("could not keep the echo delay: %s", exc)


def echo_cancellation(settings: ListenSettings) -> str:
    """ "on" (libspeexdsp in the mic path), "off by config" or "unavailable"."""
    if not settings.echo_cancel:
        return "off by config"
    return "on" if load_speexdsp() is not None else "unavailable"


def session_runner(
    timeline: Timeline,
    locale: Locale,
    clock: Clock,
    speech: SpeechSink,
    history: HistorySink | None,
    *,
    volume: float,
    rate_wpm: int,
    events: queue.SimpleQueue[object] | None = None,
    notifier: ServiceNotifier | None = None,
    coaching: Coaching | None = None,
) -> Runner:
    """One session of `timeline` (planned with the same `coaching`), driven by a runner that
    owns it (and pings the watchdog)."""
    session = Session(timeline, locale, volume=volume, rate_wpm=rate_wpm,
                      coaching=coaching if coaching is not None else Coaching())  # fmt: skip
    if notifier is None:
        return Runner(session, clock, speech, history, events)
    return Runner(session, clock, speech, history, events, heartbeat=notifier.watchdog,
                  max_wait_seconds=notifier.ping_seconds / 2)  # fmt: skip
