"""The committed head matches its model card: hash, classes, input shape."""

import hashlib
import re
from pathlib import Path

from voiceguide.speech_in.engines.neural.head import HEAD_FILE, load_head

CARD = Path(HEAD_FILE).with_name("MODEL_CARD.md")


def field(name: str) -> str:
    match = re.search(rf"^- {name}: `([^`]*)`", CARD.read_text(), re.MULTILINE)
    assert match, f"MODEL_CARD.md has no '- {name}: `...`' line"
    return match.group(1)


def test_card_hash_matches_the_weights():
    assert field("sha256") == hashlib.sha256(HEAD_FILE.read_bytes()).hexdigest()


def test_card_classes_and_input_shape_match_the_weights():
    head = load_head()
    assert tuple(c.strip() for c in field("classes").split(",")) == head.classes
    frames, dim = (int(v) for v in field("input").split("x"))
    assert (frames, dim) == head.input_shape


def test_head_is_small():
    assert HEAD_FILE.stat().st_size <= 2 * 1024 * 1024
