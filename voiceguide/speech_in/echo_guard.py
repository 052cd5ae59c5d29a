"""Echo layer 3: ignore commands whose words the box itself is saying right now.

Prompts such as "Paused. Say resume when you are ready." must name commands, and echo
cancellation is never perfect, so a command whose every word occurs in the phrase being
played is taken for the box's own voice. And until the echo canceller has lined up what
the speaker plays with what the microphone hears (the first second or so of the box talking,
each run), any non-safety command heard while the box talks is taken for its own voice too.
Safety commands (pain, stop) are never muted: a person saying "it hurts" over the box must
always be heard.
"""

from __future__ import annotations

from collections.abc import Callable

from voiceguide.core.commands import SAFETY_COMMANDS
from voiceguide.core.phrases import PhraseMatch, normalize

PlayingText = Callable[[], str | None]


class EchoGuard:
    """Drops non-safety commands that could be the box hearing its own speech."""

    def __init__(
        self, playing_text: PlayingText, echo_lined_up: Callable[[], bool] | None = None
    ) -> None:
        self._playing_text = playing_text
        self._echo_lined_up = echo_lined_up
        self.dropped = 0

    def blocks(self, match: PhraseMatch) -> bool:
        """True if `match` must be ignored because the box is saying those words."""
        if match.command in SAFETY_COMMANDS:
            return False
        text = self._playing_text()
        if not text:
            return False
        if self._echo_lined_up is not None and not self._echo_lined_up():
            self.dropped += 1
            return True
        played = set(normalize(text))
        if all(word in played for word in normalize(match.phrase)):
            self.dropped += 1
            return True
        return False
