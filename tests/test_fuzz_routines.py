"""Fuzz: mutated copies of the real routines, library and config never hang, crash or lie.

Each case is one real file, mutated (numbers made extreme, negative, NaN, huge or fractional;
types swapped; keys deleted or duplicated; lists blown up; values nested deep; long strings;
YAML 1.1 literals, bad bytes and broken syntax written into the text). The case is then loaded
and planned in-process the way `lint`, `list` and `plan` do, under a per-case time budget. It
must end with either located problems (file:line:column on every one) or routines whose plans
are sane. Any other exception, or running out of time, fails the case.

VOICEGUIDE_FUZZ_EXAMPLES raises the number of cases for a longer run (default 150, for CI), and
VOICEGUIDE_FUZZ_REPORT=1 prints how the cases ended.
"""

from __future__ import annotations

import atexit
import math
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceguide.app.config import load_config
from voiceguide.content.lint import lint_paths
from voiceguide.content.loader import load_library, load_routine_file, load_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.timeline import Timeline, plan_at_rate
from voiceguide.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
ROUTINES = ROOT / "voiceguide" / "data" / "routines"
ROUTINE_FILES = sorted(p.name for p in ROUTINES.glob("*.yaml"))
CONFIG_TEXT = """\
voice: en-gb
rate_wpm: 140
volume: 0.9
pitch: 50
output_device: USB
input_device: 3
output_rate_hz: 48000
engine: pocketsphinx
echo_cancel: true
locale: en
history_db: history.db
log_level: info
"""
SOURCES = [*ROUTINE_FILES, "library/exercises.yaml", "config.yaml"]
CASE_BUDGET_SECONDS = 10.0  # a case takes well under 0.5 s; the budget catches hangs
EXAMPLES = int(os.environ.get("VOICEGUIDE_FUZZ_EXAMPLES", "150"))
LOCATED = re.compile(r"^\S.*:\d+:\d+: \S")

EXTREME_NUMBERS = [0, -1, -0.5, 1e-20, 0.001, 0.5, 1, 1.5, 2, 59.9, 299, 300, 301, 600, 601,
                   3600, 3601, 10**6, 10**30, 1e300, math.nan, math.inf, -math.inf]  # fmt: skip
RAW_LITERALS = [".nan", "-.inf", ".inf", "1e999", "010", "0o17", "0x1f", "1:30", "no", "yes",
                "on", "off", "y", "~", "1e3", "!!binary aGk=", "!!timestamp 2001-01-01",
                "!!python/object:os.system x", "*nowhere", "&a x", "'unclosed", "[", "{a: ",
                "Quick\treset", "\x07", "9" * 40, "- a\n- b", "|\n  block"]  # fmt: skip


# ---- the time budget ---------------------------------------------------------------------
class OutOfTime(Exception):
    """A case ran past its budget: a hang, or something near one."""


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Raise OutOfTime in this (main) thread if the block runs longer than `seconds`."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise OutOfTime(f"case ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- mutations ---------------------------------------------------------------------------
Path_ = tuple[Any, ...]


def _paths(value: Any, path: Path_ = ()) -> Iterator[Path_]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: Path_, value: Any) -> Any:
    if not path:
        return value
    _get(data, path[:-1])[path[-1]] = value
    return data


def _delete(data: Any, path: Path_) -> Any:
    if not path:
        return None
    parent = _get(data, path[:-1])
    del parent[path[-1]]
    return data


def _nest(value: Any, depth: int, kind: str) -> Any:
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


replacement = st.one_of(
    st.sampled_from(EXTREME_NUMBERS),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "none", "both", "no", "x" * 10_000, "start gentle back", "1:30"]),
    st.text(max_size=50),
    st.booleans(),
    st.none(),
    st.just([]),
    st.just({}),
    st.lists(st.sampled_from([1, "a", None, 2.5]), max_size=5),
)


@st.composite
def data_mutation(draw: st.DrawFn, data: Any) -> Any:
    """One change to the parsed data: replace, delete, blow up, nest or re-type a value."""
    paths = list(_paths(data))
    path = draw(st.sampled_from(paths))
    kind = draw(st.sampled_from(["replace", "replace", "replace", "delete", "repeat", "nest",
                                 "wrap", "stringify"]))  # fmt: skip
    target = _get(data, path)
    if kind == "replace":
        return _set(data, path, draw(replacement))
    if kind == "delete":
        return _delete(data, path)
    if kind == "repeat" and isinstance(target, list) and target:
        times = draw(st.sampled_from([2, 10, 101, 400]))
        return _set(data, path, target * times)
    if kind == "nest":
        depth = draw(st.sampled_from([2, 10, 63, 65, 200]))
        return _set(data, path, _nest(target, depth, draw(st.sampled_from(["list", "map"]))))
    if kind == "wrap":
        return _set(data, path, [target])
    return _set(data, path, str(target))


@st.composite
def text_mutation(draw: st.DrawFn, text: str) -> str | bytes:
    """One change to the text: a raw literal, a duplicated line, deep nesting, bad bytes..."""
    lines = text.splitlines()
    kind = draw(st.sampled_from(["literal", "literal", "duplicate", "deep", "bomb", "truncate",
                                 "bytes", "tab", "none"]))  # fmt: skip
    if kind == "literal":
        with_values = [i for i, line in enumerate(lines) if re.search(r":\s+\S", line)]
        if with_values:
            i = draw(st.sampled_from(with_values))
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {draw(st.sampled_from(RAW_LITERALS))}"
    elif kind == "duplicate" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, lines[i])
    elif kind == "deep":
        n = draw(st.sampled_from([60, 70, 1000, 5000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        lines.append("x-deep: " + opener * n + "1" + closer * n)
    elif kind == "bomb":
        lines.append("x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]")
        lines += [f"x-a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    elif kind == "truncate":
        cut = draw(st.integers(0, len(text)))
        return text[:cut]
    elif kind == "bytes":
        raw = text.encode()
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from([b"\xff", b"\xe9", b"\x00", b"\xc3"])) + raw[at:]
    elif kind == "tab" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = "\t" + lines[i]
    return "\n".join(lines) + "\n"


@st.composite
def mutated_file(draw: st.DrawFn) -> tuple[str, str | bytes]:
    """(source name, mutated content) from one real routine, the library or a config."""
    source = draw(st.sampled_from(SOURCES))
    text = CONFIG_TEXT if source == "config.yaml" else (ROUTINES / source).read_text()
    data = yaml.safe_load(text)
    for _ in range(draw(st.integers(0, 3))):
        data = draw(data_mutation(data))
    dumped = text
    if draw(st.booleans()) or data != yaml.safe_load(text):
        try:
            dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)
        except (yaml.YAMLError, RecursionError):
            dumped = text
    if draw(st.booleans()):
        return source, draw(text_mutation(dumped))
    return source, dumped


# ---- checking one case -------------------------------------------------------------------
def _check_timeline(timeline: Timeline) -> None:
    total = timeline.total_seconds
    assert math.isfinite(total) and total > 0
    for seg in timeline.segments:
        assert math.isfinite(seg.duration_seconds) and seg.duration_seconds >= 0
        for cue in seg.cues:
            assert math.isfinite(cue.offset_seconds), cue
            assert 0 <= cue.offset_seconds <= seg.duration_seconds + 1e-9, (seg.kind, cue)
            assert cue.text.strip(), cue


def _check_problems(problems: list[Any]) -> None:
    for problem in problems:
        line = str(problem)
        assert "\n" not in line and LOCATED.match(line), line


def run_case(source: str, content: str | bytes, folder: Path) -> str:
    """Load, lint and plan one mutated file in a copy of the routines folder; 'ok' or 'refused'."""
    target = folder / source
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")
    if source == "config.yaml":
        try:
            config = load_config(target)
        except UserError as e:
            message = str(e)
            assert "\n" not in message and LOCATED.match(message), message
            return "refused"
        assert 0 <= config.volume <= 1 and math.isfinite(config.volume)
        assert 80 <= config.rate_wpm <= 400
        return "ok"
    locale = load_locale("en")
    if source.startswith("library/"):
        library, problems = load_library(folder)
        _check_problems(problems)
        routines, problems = load_routines(folder)
        _check_problems(problems)
    else:
        library, _ = load_library(folder)
        routine, problems = load_routine_file(target, library)
        _check_problems(problems)
        routines = [routine] if routine is not None else []
    _check_problems(lint_paths([target], folder))
    for routine in routines:
        for rate in (80, 160, 400):
            _check_timeline(plan_at_rate(routine, locale, rate))
    return "ok" if routines and not problems else "refused"


_SCRATCH: list[Path] = []


def scratch_folder() -> Path:
    """One scratch copy of the real routines folder for the whole run (never the real one)."""
    if not _SCRATCH:
        scratch = Path(tempfile.mkdtemp(prefix="voiceguide-fuzz-"))
        atexit.register(shutil.rmtree, scratch, True)
        shutil.copytree(ROUTINES, scratch / "routines")
        _SCRATCH.append(scratch / "routines")
    return _SCRATCH[0]


@contextmanager
def routines_copy(source: str) -> Iterator[Path]:
    """The scratch folder; file `source` is put back as it was when the case ends."""
    folder = scratch_folder()
    target = folder / source
    original = target.read_bytes() if target.exists() else None
    try:
        yield folder
    finally:
        if original is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(original)


OUTCOMES: dict[str, int] = {}


def _record(outcome: str) -> None:
    OUTCOMES[outcome] = OUTCOMES.get(outcome, 0) + 1


def _report() -> None:
    total = sum(OUTCOMES.values())
    rows = ", ".join(f"{key} {n}" for key, n in sorted(OUTCOMES.items()))
    print(f"\nfuzz: {total} cases passed the checks ({rows})")


if os.environ.get("VOICEGUIDE_FUZZ_REPORT"):
    atexit.register(_report)  # for the long run: how many cases, and how they ended


@settings(
    max_examples=EXAMPLES,
    deadline=None,  # our own per-case budget instead; a shared CI box is too noisy for hypothesis'
    database=None,  # nothing written into the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=mutated_file())
def test_mutated_files_are_refused_with_a_location_or_plan_sanely(
    case: tuple[str, str | bytes],
) -> None:
    source, content = case
    with routines_copy(source) as folder, budget(CASE_BUDGET_SECONDS):
        _record(f"{source.split('/')[0]}:{run_case(source, content, folder)}")


def test_the_real_files_pass_the_case_checker() -> None:
    for source in SOURCES:
        text = CONFIG_TEXT if source == "config.yaml" else (ROUTINES / source).read_text()
        with routines_copy(source) as folder, budget(CASE_BUDGET_SECONDS):
            assert run_case(source, text, folder) == "ok", source


def test_the_budget_catches_a_hang() -> None:
    spin: Callable[[], None] = lambda: None
    try:
        with budget(0.2):
            while True:
                spin()
    except OutOfTime:
        return
    raise AssertionError("the budget never fired")
