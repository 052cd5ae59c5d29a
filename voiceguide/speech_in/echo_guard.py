"""Echo layer 3: ignore commands whose words the box itself is saying right now.

Prompts such as "Paused. Say resume when you are ready." must name commands, and echo
cancellation is never perfect, so a command whose every word occurs in the phrase being
played is taken for the box's own voice. And until the echo canceller has lined up what
the speaker plays with what the microphone hears (the first seconds of the box talking, each
run), a non-safety command heard while the box talks is taken for its own voice too, unless a
second look at the audio (speech_in.double_talk) finds someone talking over the box.
Safety commands are never muted on the words alone: a person saying "it hurts" over the box
must always be heard. Two exemptions. A stop phrase whose every word the box is saying right
now is its own voice, since only the help answer may say "stop" (core.commands,
STOP_NAMING_PROMPTS). And a safety command heard while the canceller cannot be trusted (before
it converges, or while it removes little) gets a second look at the audio
(speech_in.double_talk): if the microphone held nothing but the box's echo over those words,
it was the box's own voice. Once the canceller works, a non-safety command whose words it
removed much of (SUSPECT_REMOVED_DB) gets that look too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from voiceguide.core.commands import SAFETY_COMMANDS, Command
from voiceguide.core.phrases import PhraseMatch, normalize

PlayingText = Callable[[], str | None]
# Words over the box from which the converged live canceller removed this much get a second
# look: a person talking over the box leaves most of their voice, so little is removed (at
# most 7.0 dB for any command said over it on the train split, either engine), while the
# box's residue that the neural spotter took for a command had 10-46 dB removed
# (`bench.second_look --suspects`, docs/benchmarks.md).
SUSPECT_REMOVED_DB = 8.0


class EchoState(Protocol):
    """What the echo stage in front can tell about a stretch of past audio
    (speech_in.echo_path.EchoPath)."""

    def unsettled(self, seconds_ago: float = 0.0) -> bool:
        """True if the filter had not converged then, with the box talking."""
        ...

    @property
    def cancelling_poorly(self) -> bool:
        """True if, converged, the canceller lately removes too little of the box's voice."""
        ...

    def removed_over(self, start_ago: float, end_ago: float) -> float | None:
        """dB the live canceller, converged then, removed from those seconds; None when it
        cannot tell."""
        ...

    def second_look(self, start_ago: float, end_ago: float) -> bool | None:
        """True if the microphone held only the box's echo then, False if something else was
        heard over it, None when it cannot tell."""
        ...

    def talked_within(self, seconds: float) -> bool:
        """True if the box was heard talking in the last `seconds` (or its echo may linger)."""
        ...


class EchoGuard:
    """Drops commands that could be the box hearing its own speech (pain and stop only on the
    second look's evidence)."""

    def __init__(self, playing_text: PlayingText, echo: EchoState | None = None) -> None:
        self._playing_text = playing_text
        # The echo canceller in front (None: none). The offline path sets it per recording,
        # as each recording gets a fresh canceller.
        self.echo = echo
        self.dropped = 0

    def blocks(self, match: PhraseMatch, words_ago: float = 0.0, end_ago: float = 0.0) -> bool:
        """True if `match` (whose words were said from `words_ago` to `end_ago` seconds back)
        must be ignored because the box is saying those words."""
        unsettled = self.echo is not None and self.echo.unsettled(words_ago)
        # The second look is taken only while the canceller is not doing its job: before it
        # has converged, or while it removes little (a real room with drifting clocks). Where
        # it works, the look's CPU would only delay the command, except for suspects (below).
        look = unsettled or (self.echo is not None and self.echo.cancelling_poorly)
        if match.command in SAFETY_COMMANDS:
            # Stop while the box itself is saying it (the help answer); pain and stop when the
            # look finds only the box's echo. Nothing else.
            if match.command == Command.STOP and self._playing_says(match):
                return True
            return look and self._box_alone(words_ago, end_ago, unsure=False)
        # Before convergence the box's voice is barely reduced: words said while it talked, or
        # just after, may be its own (judged when they were said: the decision may come
        # seconds later, once the utterance ends). They are obeyed only if the look finds
        # someone else talking over the box. Later, what it finds to be the box alone is dropped.
        # Where the canceller works, words it removed much of are suspect (the box's residue,
        # which the neural spotter now and then takes for "skip") and get the look too; there
        # `unsettled` is False, so a look that cannot tell obeys them.
        if (look or self._suspect(words_ago, end_ago)) and self._box_alone(
            words_ago, end_ago, unsure=unsettled
        ):
            return True
        return self._playing_says(match)

    def over_the_box(self, words_ago: float) -> bool:
        """True if words begun `words_ago` seconds back were said while the box talked, with
        the echo stage in front doing its job (converged then, and removing enough lately):
        only there may the listener's lower bar over the box apply. Without a stage of ours
        (none, or a sound server's of unknown quality) it never does."""
        echo = self.echo
        return (
            echo is not None
            and echo.talked_within(words_ago)
            and not echo.unsettled(words_ago)
            and not echo.cancelling_poorly
        )

    def _box_alone(self, words_ago: float, end_ago: float, unsure: bool) -> bool:
        """The second look's verdict (counted when it drops), `unsure` when it cannot tell."""
        if self.echo is None:
            return False
        verdict = self.echo.second_look(words_ago, end_ago)
        alone = unsure if verdict is None else verdict
        if alone:
            self.dropped += 1
        return alone

    def _suspect(self, words_ago: float, end_ago: float) -> bool:
        """True if the live canceller removed SUSPECT_REMOVED_DB or more from the words."""
        if self.echo is None or not self.echo.talked_within(words_ago):
            return False
        removed = self.echo.removed_over(words_ago, end_ago)
        return removed is not None and removed >= SUSPECT_REMOVED_DB

    def _playing_says(self, match: PhraseMatch) -> bool:
        """True (and counted) if every word of `match` is in the phrase being played."""
        text = self._playing_text()
        if not text:
            return False
        played = set(normalize(text))
        if all(word in played for word in normalize(match.phrase)):
            self.dropped += 1
            return True
        return False
