"""Echo layer 3: ignore commands whose words the box itself is saying right now.

Prompts such as "Paused. Say resume when you are ready." must name commands, and echo
cancellation is never perfect, so a command whose every word occurs in the phrase being
played is taken for the box's own voice. And until the echo canceller has lined up what
the speaker plays with what the microphone hears (the first second or so of the box talking,
each run), any non-safety command heard while the box talks is taken for its own voice too.
Safety commands are never muted: a person saying "it hurts" over the box must always be
heard. The one exemption (core.commands, STOP_NAMING_PROMPTS): a stop phrase whose every word
the box is saying right now is its own voice, since only the help answer may say "stop".
"""

from __future__ import annotations

from collections.abc import Callable

from voiceguide.core.commands import SAFETY_COMMANDS, Command
from voiceguide.core.phrases import PhraseMatch, normalize

PlayingText = Callable[[], str | None]


class EchoGuard:
    """Drops non-safety commands that could be the box hearing its own speech."""

    def __init__(
        self, playing_text: PlayingText, echo_unsettled: Callable[[float], bool] | None = None
    ) -> None:
        self._playing_text = playing_text
        # Whether the echo canceller in front has heard the box lately without having
        # converged yet (None: no canceller). The offline path sets it per recording, as each
        # recording gets a fresh canceller.
        self.echo_unsettled = echo_unsettled
        self.dropped = 0

    def blocks(self, match: PhraseMatch, words_ago: float = 0.0) -> bool:
        """True if `match` (whose words began `words_ago` seconds back) must be ignored
        because the box is saying those words."""
        if match.command in SAFETY_COMMANDS:
            # Pain never; stop only while the box itself is saying it (the help answer).
            return match.command == Command.STOP and self._playing_says(match)
        # Before the canceller has converged, the box's voice is barely reduced: words said
        # while it talked, or just after, may be its own (judged when they were said: the
        # decision may come seconds later, once the utterance ends).
        if self.echo_unsettled is not None and self.echo_unsettled(words_ago):
            self.dropped += 1
            return True
        return self._playing_says(match)

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
