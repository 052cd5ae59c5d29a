"""PocketSphinx's command grammar: the model files, the dictionary words, the FSG's transitions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from voiceguide.errors import UserError
from voiceguide.speech_in.engines.pocketsphinx_settings import SphinxSettings

# Words people put around a command ("okay, pause please"); recognised, then ignored. Short
# ones such as "oh" or "now" are left out: they let "oh really" pass for "oh, repeat".
CARRIERS_BEFORE = ("please", "okay")
CARRIERS_AFTER = ("please",)
FILLERS = ("[NOISE]", "[SPEECH]")


def model_paths(model_dir: Path | None = None) -> tuple[Path, Path, Path]:
    """(acoustic model folder, pronunciation dictionary, phone language model) of en-us."""
    from pocketsphinx import get_model_path

    hmm = Path(model_dir) if model_dir else Path(get_model_path("en-us/en-us"))
    if not (hmm / "mdef").is_file():
        raise UserError(f"{hmm} is not a PocketSphinx acoustic model folder (no mdef)", 2)
    dictionary = Path(get_model_path("en-us/cmudict-en-us.dict"))
    phone_lm = Path(get_model_path("en-us/en-us-phone.lm.bin"))
    return hmm, dictionary, phone_lm


def grammar_words(phrase: str) -> list[str]:
    """The dictionary words of a phrase: lower case, hyphens split, other punctuation gone."""
    text = phrase.lower().replace("\u2019", "'").replace("-", " ")
    return re.sub(r"[^\w\s']", " ", text).split()


@cache
def read_dictionary(path: Path, wanted: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Pronunciations of the `wanted` words (only those are kept: the full dictionary is big)."""
    prons: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            word, _, rest = line.partition(" ")
            word = word.split("(", 1)[0]
            if word in wanted:
                prons.setdefault(word, []).append(rest.split("#", 1)[0].strip())
    return {w: tuple(p) for w, p in prons.items()}


def missing_words(phrases: Sequence[str], dictionary: Path | None = None) -> dict[str, list[str]]:
    """Words of `phrases` the pronunciation dictionary lacks, each with the phrases using it."""
    dictionary = dictionary or model_paths()[1]
    prons = read_dictionary(dictionary, frozenset(w for p in phrases for w in grammar_words(p)))
    missing: dict[str, list[str]] = {}
    for phrase in phrases:
        for word in dict.fromkeys(grammar_words(phrase)):
            if word not in prons:
                missing.setdefault(word, []).append(phrase)
    return missing


def missing_words_message(missing: dict[str, list[str]]) -> str:
    """One line naming every missing word and a phrase that uses it."""
    listed = ", ".join(f"'{w}' (in '{ps[0]}')" for w, ps in missing.items())
    return (
        f"the PocketSphinx dictionary does not know {len(missing)} command word(s): {listed}; "
        "change these phrases or use another engine"
    )


def command_graph(phrases: list[list[str]], s: SphinxSettings) -> tuple[int, int, list[tuple]]:
    """The grammar as FSG transitions: (start state, final state, [(from, to, prob[, word])]).

    silence, then fillers, then [carrier] phrase [carrier], then fillers, then silence.
    Reaching the final state needs a real word (<sil>): PocketSphinx does not finish an
    utterance on a null transition into the final state, and would return half a phrase.
    """
    start, pre, cmd, end, post, final = range(6)
    n = 6
    t: list[tuple] = [(start, pre, 1.0, "<sil>")]
    for loop in (pre, post):
        t.append((loop, loop, s.silence_prob, "<sil>"))
        t += [(loop, loop, s.filler_prob, f) for f in FILLERS]
    t.append((pre, post, s.null_prob))
    t.append((pre, cmd, 1.0 - s.carrier_prob - s.null_prob))
    t += [(pre, cmd, s.carrier_prob / len(CARRIERS_BEFORE), w) for w in CARRIERS_BEFORE]
    for words in phrases:
        state = cmd
        for i, word in enumerate(words):
            target = end if i == len(words) - 1 else n
            if target == n:
                n += 1
            t.append((state, target, 1.0 / len(phrases) if i == 0 else 1.0, word))
            state = target
    t.append((end, post, 1.0 - s.carrier_prob))
    t += [(end, post, s.carrier_prob / len(CARRIERS_AFTER), w) for w in CARRIERS_AFTER]
    t.append((post, final, 1.0, "<sil>"))
    return start, final, t
