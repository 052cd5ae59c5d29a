"""Echo layer 3: ignore commands whose words the box itself is saying right now.

Prompts such as "Paused. Say resume when you are ready." must name commands, and echo
cancellation is never perfect, so a command whose every word occurs in the phrase being
played is taken for the box's own voice. Safety commands (pain, stop) are never muted: a
person saying "it hurts" over the box must always be heard.
"""

from __future__ import annotations

from collections.abc import Callable

from voiceguide.core.commands import SAFETY_COMMANDS
from voiceguide.core.phrases import PhraseMatch, normalize

PlayingText = Callable[[], str | None]


class EchoGuard:
    """Drops non-safety commands that could be the box hearing its own speech."""

    def __init__(self, playing_text: PlayingText) -> None:
        self._playing_text = playing_text
        self.dropped = 0

    def blocks(self, match: PhraseMatch) -> bool:
        """True if `match` must be ignored because the box is saying those words."""
        if match.command in SAFETY_COMMANDS:
            return False
        text = self._playing_text()
        if not text:
            return False
        played = set(normalize(text))
        if all(word in played for word in normalize(match.phrase)):
            self.dropped += 1
            return True
        return False
