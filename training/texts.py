"""What the training voices say: commands with natural variants, and many kinds of non-commands.

Never used here: the benchmark's ROOM_TALK sentences (its test negatives) and the Debian
fortunes files (reserved for held-out testing). Prose comes from licence texts, package
documentation and Python docstrings on this machine.
"""

from __future__ import annotations

import ast
import functools
import gzip
import re
import sys
from pathlib import Path

import yaml

from voiceguide.core.commands import Command

REPO = Path(__file__).resolve().parent.parent
# "none" and every session command, in the core's order: the engine reads the class names from
# the head, so a command the core gains is one more class at the next training.
CLASSES: tuple[str, ...] = ("none", *(c.value for c in Command))

# Natural ways to say each command beyond the locale's list (the locale's phrases come first).
VARIANTS: dict[str, tuple[str, ...]] = {
    "pain": (
        "ouch that hurts", "that's sore", "my neck hurts", "this is painful", "it hurts a lot",
        "ouch it hurts", "oh it hurts", "I'm in pain", "ouch ouch", "ouch my back",
        "my knee hurts", "my shoulder hurts", "that hurts a lot", "oh that really hurts",
        "my hip hurts", "it's really painful",
    ),
    "stop": (
        "please stop", "okay stop", "stop please", "stop now", "stop it", "that's enough",
        "I want to stop", "stop stop", "end it now",
    ),
    "pause": (
        "hang on", "okay wait", "wait a second", "pause please", "just a moment",
        "wait please", "pause it", "hold on a second", "wait wait",
    ),
    "resume": (
        "okay continue", "resume please", "carry on", "let's continue", "go on",
        "please continue", "I'm ready", "keep going please",
    ),
    "skip": ("skip please", "skip it", "next please", "skip that one", "skip this one"),
    "previous": ("go back please", "back one", "the previous one", "go back one"),
    "repeat": ("please repeat", "again please", "say it again", "pardon", "come again"),
    "time_left": ("how much time is left", "how long now", "how many minutes left"),
    "whats_next": ("what's coming next", "what's after this", "what's the next one"),
    "help": ("help me", "what are the commands", "help please"),
    "louder": ("louder please", "turn it up", "I can't hear you"),
    "quieter": ("quieter please", "turn it down", "too loud"),
    "slower": ("slower please", "go slower", "too fast"),
    "faster": ("faster please", "go faster", "hurry up"),
    "easier": (
        "easier please", "can we make it easier", "that's too hard", "an easier one please",
        "something gentler", "a gentler version please",
    ),
    "other_side": (
        "now the other side", "other side please", "let's do the other side", "swap sides",
        "switch sides please",
    ),
    "more_detail": (
        "tell me more please", "more detail please", "give me more detail",
        "can you tell me more",
    ),
    "less_talk": ("less talking please", "talk a bit less", "not so much talking", "less chat"),
    "leave_out": ("leave it out please", "leave that one out", "leave this one out"),
    "keep_it": ("keep it in please", "I'll keep it in", "keep that one in", "I'll do it anyway"),
}  # fmt: skip

# Everyday talk written for the project (not the benchmark's ROOM_TALK).
EVERYDAY = (
    "Have you seen my keys anywhere?", "I need to phone the bank this afternoon.",
    "The kettle has just boiled.", "Let's have pasta for dinner tonight.",
    "It's been raining since this morning.", "Shall we watch something on television?",
    "My sister is visiting next month.", "The post came early today.",
    "I've got a dentist appointment on Tuesday.", "Could you open the window a little?",
    "The plants on the balcony need repotting.", "We're out of washing up liquid.",
    "He fixed the bike chain in ten minutes.", "The football starts at three.",
    "I finished that book you lent me.", "The heating is on a timer now.",
    "Our neighbour grows the most amazing tomatoes.", "I'm going to the gym after work.",
    "The printer has run out of ink again.", "We should book the holiday soon.",
    "The baby finally fell asleep.", "Can you believe the price of petrol?",
    "I'll do the shopping on Saturday.", "The bus was packed this morning.",
    "Did you hear the thunder last night?", "The car needs a service.",
    "There's soup in the fridge if you're hungry.", "I've lost track of the time.",
    "This jumper is really warm.", "The film starts in half an hour.",
    "We planted some bulbs in the garden.", "My knees are much better these days.",
    "The new café on the corner is lovely.", "I'm thinking of learning the piano.",
    "The windows need cleaning.", "Grandma sent a postcard from Spain.",
    "Let me check the calendar first.", "The music downstairs is quite loud.",
    "I always forget where I parked.", "They announced the results on the radio.",
    "Yes.", "No.", "Okay.", "Right.", "Fine thanks.", "Hello there.", "Bye for now.",
    "Lovely.", "Oh dear.", "Well well.", "Good idea.", "Never mind.", "Of course.",
    "Absolutely.", "I see.", "Really?", "Great.", "Cheers.", "Excuse me.", "Hmm.",
    "Okay then.", "See you later.", "Who is it?", "Just a minute, love.", "Not bad.",
)  # fmt: skip

# Command words inside ordinary sentences: these must stay "none".
HARD_NEGATIVES = (
    "I'll see you next week.", "Don't stop me now, I'm having such a good time.",
    "The painting is lovely.", "No pain at all today.", "The bus stop is just over there.",
    "Wait until you see the garden.", "Help yourself to some cake.",
    "I skipped breakfast this morning.", "Next door's dog was barking all night.",
    "Keep the change.", "It doesn't hurt at all now.", "The speed limit here is thirty.",
    "Turn the volume of the radio down a bit later.", "He paused for a moment and smiled.",
    "We'll continue the meeting tomorrow morning.", "The previous owner painted it green.",
    "Could you repeat the order for the kitchen?", "The time left on the parking meter ran out.",
    "What's next on the shopping list is eggs.", "She speaks louder than anyone I know.",
    "The stream runs quieter in the summer.", "Slow down on the corner by the school.",
    "They sped up the roadworks in the end.", "Hold on tight to the railing on the stairs.",
    "I hurt my hand in the garden last year but it's fine.", "Going back home was wonderful.",
    "The painkillers are in the top drawer.", "Stop by for a coffee whenever you like.",
    "Skip the queue by booking online.", "That was the next best thing.",
    "The session musicians played beautifully.", "He quit smoking years ago.",
    "Ouch is what the cartoon mouse says.", "Keep going straight on past the church.",
    "She needs help with her homework on Thursdays.", "Repeat after me, said the teacher.",
    "I waited for ages at the doctors.", "Painful memories fade with time.",
    "The faster train leaves at nine.", "A slower pace of life suits him.",
    "It hurts my feelings when he shouts, she said quietly.", "Pause the film when you go.",
    "We went back to the same hotel this year.", "The stop button on the remote is broken.",
    "Time flies when you're having fun.", "Next time bring an umbrella.",
    "The shop is on the other side of the road.", "Leave it out on the table for me, please.",
    "Tell me more about your trip to Scotland.", "Keep it in the fridge until tomorrow.",
    "Make it easier for the children to reach the shelf.", "They switched sides at half time.",
    "Less talking and more eating, said grandma.", "I'll keep it short this time.",
    "More detail would make the drawing better.", "Do it anyway and see what happens.",
    "The easier route goes round the lake.", "Ouch, I stubbed my toe on the door, but I'm fine.",
)  # fmt: skip

# A sentence ending like a command is not a clean negative: the head is taught that a command
# ends where speech ends, so sentences whose last words are a command phrase (any locale phrase,
# typed-only ones included, or a variant), or one of these words, are left out of the negatives.
_TAIL_WORDS = ("quit", "softer", "back", "again", "on", "going", "up", "down", "left", "session",
               "sides", "side", "out", "in", "anyway", "easier", "gentler", "detail", "details",
               "more", "talking", "sore")  # fmt: skip


def locale_file() -> Path:
    """The English locale (wherever the package layout keeps it)."""
    found = sorted((REPO / "voiceguide").rglob("locales/en.yaml"))
    if not found:
        raise FileNotFoundError("voiceguide/**/locales/en.yaml")
    return found[0]


def locale_commands() -> dict[str, list[str]]:
    """The locale's command phrases, by command."""
    data = yaml.safe_load(locale_file().read_text())
    return {k: list(v) for k, v in data["commands"].items()}


def typed_only() -> set[str]:
    """The locale's phrases obeyed only when typed: speech engines never listen for them."""
    data = yaml.safe_load(locale_file().read_text())
    return {str(p).lower() for p in data.get("typed_only", [])}


def command_phrases() -> list[tuple[str, str]]:
    """(command, phrase): every phrase speech engines listen for, then the natural variants.

    The locale's typed-only phrases ("ow", "hurt", "in pain") are not trained at all: as
    speech they were a large false-pain source (docs/benchmarks.md), and as negatives they
    would teach the head against the typed meaning.
    """
    commands = locale_commands()
    missing = set(CLASSES[1:]) ^ set(commands)
    if missing:
        raise ValueError(f"the locale's commands and the head's classes differ: {sorted(missing)}")
    skip = typed_only()
    items = [(c, p) for c in CLASSES[1:] for p in commands[c] if p.lower() not in skip]
    seen = {_norm(p) for _, p in items}
    for c, ps in VARIANTS.items():
        for p in ps:
            if _norm(p) not in seen:
                items.append((c, p))
                seen.add(_norm(p))
    for c, p in items:
        if _norm(p) in skip:
            raise ValueError(f"variant {p!r} of {c} is typed-only")
    return items


@functools.cache
def _tail_phrases() -> tuple[tuple[str, ...], ...]:
    phrases = {_norm(p) for ps in locale_commands().values() for p in ps} | typed_only()
    phrases |= {_norm(p) for ps in VARIANTS.values() for p in ps} | set(_TAIL_WORDS)
    return tuple(sorted(tuple(p.split()) for p in phrases if p))


def ends_like_command(text: str) -> bool:
    """True when the sentence's last words are a command phrase (not a clean negative)."""
    words = tuple(_norm(text).split())
    return any(len(words) >= len(p) and words[-len(p) :] == p for p in _tail_phrases())


def reserved_sentences() -> set[str]:
    """Sentences that must never be trained on (the benchmark's test negatives)."""
    sys.path.insert(0, str(REPO))
    from bench.corpus import ROOM_TALK

    return {_norm(s) for s in ROOM_TALK}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z' ]", " ", text.lower())).strip()


def box_texts() -> list[str]:
    """What the box itself says: routine texts and the locale's prompts (with fields filled)."""
    texts: set[str] = set()
    data = yaml.safe_load(locale_file().read_text())
    fill = {"title": "Gentle back", "duration": "ten minutes", "side": "Left", "seconds": "20",
            "count": "five", "text": "bend your knees a little", "exercise": "cat cow",
            "hold": "twenty seconds", "total": "six minutes", "titles": "Gentle back, Desk break"}  # fmt: skip
    for prompt in data.get("prompts", {}).values():
        try:
            texts.add(str(prompt).format(**fill))
        except (KeyError, IndexError):
            continue
    for path in sorted((REPO / "voiceguide" / "data" / "routines").rglob("*.yaml")):
        _strings(yaml.safe_load(path.read_text()), texts)
    return sorted(t for t in texts if len(t.split()) >= 2)


def _strings(node: object, out: set[str]) -> None:
    if isinstance(node, dict):
        for value in node.values():
            _strings(value, out)
    elif isinstance(node, list):
        for value in node:
            _strings(value, out)
    elif isinstance(node, str) and " " in node and len(node) < 300:
        out.update(s.strip() for s in re.split(r"(?<=[.!?])\s+", node) if s.strip())


def _sentences(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text)
    out = []
    for s in re.split(r"(?<=[.!?])\s+", text):
        words = s.split()
        if 4 <= len(words) <= 22 and re.fullmatch(r"[A-Za-z ,.;:'?!-]+", s):
            out.append(s)
    return out


def prose(limit: int, seed: int = 0) -> list[str]:
    """Sentences of local prose: licence texts, /usr/share/doc READMEs, Python docstrings."""
    import random

    found: list[str] = []
    for path in sorted(Path("/usr/share/common-licenses").glob("*")):
        if path.is_file():
            found += _sentences(path.read_text(errors="ignore"))
    for path in sorted(Path("/usr/share/doc").glob("*/README*"))[:400]:
        if "fortune" in str(path).lower():
            continue
        try:
            raw = path.read_bytes()
            text = gzip.decompress(raw).decode("utf-8", "ignore") if path.suffix == ".gz" else (
                raw.decode("utf-8", "ignore"))  # fmt: skip
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        found += _sentences(text)
    stdlib = Path(ast.__file__).parent
    for path in sorted(stdlib.glob("*.py"))[:300]:
        try:
            tree = ast.parse(path.read_text(errors="ignore"))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Module):
                doc = ast.get_docstring(node)
                if doc:
                    found += _sentences(doc)
    reserved = reserved_sentences()
    unique = sorted({s for s in found if _norm(s) not in reserved and not ends_like_command(s)})
    random.Random(seed).shuffle(unique)
    return unique[:limit]


def negative_texts(prose_limit: int, seed: int = 0) -> dict[str, list[str]]:
    """Non-command texts by kind; none of them ends like a command or is reserved."""
    reserved = reserved_sentences()

    def ok(texts: list[str] | tuple[str, ...]) -> list[str]:
        return [t for t in texts if _norm(t) not in reserved and not ends_like_command(t)]

    return {
        "box": ok(box_texts()),
        "everyday": ok(EVERYDAY),
        "hard": ok(HARD_NEGATIVES),
        "prose": prose(prose_limit, seed),
    }
