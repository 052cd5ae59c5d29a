"""Cues cut off (a cue's estimated spoken end passes the next cue's start), across every routine.

Three figures per routine, in English:
- planned at 160 wpm and spoken at 100 wpm with no re-plan (what three "slower"s did before
  the session re-planned);
- planned and spoken at 100 wpm;
- a live session at 160 wpm given three "slower"s during its welcome, each cue timed at the
  rate in effect when it is said. A cue cut off by a command's own answer is the user's doing
  and is not counted.

Run: `.venv/bin/python -m bench.cue_cutoffs`.
"""

from __future__ import annotations

from itertools import pairwise

from voiceguide.content.loader import default_routines_dir, load_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.actions import Action, CommandHeard, Speak, Tick
from voiceguide.core.segments import PlannedCue
from voiceguide.core.session import Session
from voiceguide.core.timeline import estimate_speech_seconds, plan_at_rate, plan_session

EPS = 1e-9


def unreplanned(cues: list[PlannedCue], speak_rate: int) -> int:
    """Cues planned at one rate that run into the next when said at `speak_rate`."""
    return sum(
        1
        for a, b in pairwise(cues)
        if a.at_seconds + estimate_speech_seconds(a.text, speak_rate) > b.at_seconds + EPS
    )


def live_after_slowers(session: Session, slowers: int = 3) -> tuple[int, int]:
    """(cut off, said) for a whole session given `slowers` "slower"s during its welcome."""
    log: list[tuple[float, Action, int, bool]] = [
        (0.0, a, session.rate_wpm, False) for a in session.start(0.0)
    ]
    for k in range(slowers):
        now = 0.5 + k * 0.1
        answer = session.handle(CommandHeard("slower"), now)
        log += [(now, a, session.rate_wpm, True) for a in answer]
    while (due := session.next_deadline) is not None:
        log += [(due, a, session.rate_wpm, False) for a in session.handle(Tick(), due)]
    said = [(t, a.text, rate) for t, a, rate, cmd in log if isinstance(a, Speak) and not cmd]
    commands = [t for t, _, _, cmd in log if cmd]
    cut = sum(
        1
        for (t, text, rate), (t2, _, _) in pairwise(said)
        if t + estimate_speech_seconds(text, rate) > t2 + EPS
        and not any(t <= c <= t2 for c in commands)
    )
    return cut, len(said)


def main() -> None:
    """Print the three figures per routine, then the totals."""
    locale = load_locale("en")
    routines, _ = load_routines(default_routines_dir())
    totals = [0, 0, 0, 0, 0, 0]
    for routine in sorted(routines, key=lambda r: r.id):
        at_160 = plan_at_rate(routine, locale, 160).cues()
        at_100 = plan_at_rate(routine, locale, 100).cues()
        figures = (
            unreplanned(at_160, 100),
            len(at_160),
            unreplanned(at_100, 100),
            len(at_100),
            *live_after_slowers(Session(plan_session(routine, locale, 160), locale, rate_wpm=160)),
        )
        totals = [t + f for t, f in zip(totals, figures)]
        print(
            f"{routine.id}: no re-plan {figures[0]} of {figures[1]}; at 100 wpm {figures[2]} of "
            f"{figures[3]}; live after 3 slowers {figures[4]} of {figures[5]}"
        )
    print(
        f"ALL: no re-plan {totals[0]} of {totals[1]}; at 100 wpm {totals[2]} of {totals[3]}; "
        f"live after 3 slowers {totals[4]} of {totals[5]}"
    )


if __name__ == "__main__":
    main()
