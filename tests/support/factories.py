"""Small routines built in code, so core tests don't depend on the YAML files."""

from voiceguide.core.routine import Breathing, Counts, Reps, Routine, Sides, Step


def two_step_routine() -> Routine:
    """A hold with both sides, then reps, with a rest between."""
    return Routine(
        id="test-routine",
        title="Test routine",
        aliases=("test",),
        description="For tests.",
        level="gentle",
        steps=(
            Step(
                exercise="Knee to chest",
                setup=("Lie on your back with your knees bent.", "Draw one knee in."),
                hold_seconds=20,
                sides=Sides.BOTH,
                rest_seconds=8,
                breathing=Breathing(6, ("Breathe in slowly.", "Let it out.")),
                counts=Counts(final_seconds=3, halfway=True),
                easier="Hold behind the thigh.",
                safety=("Keep your head on the mat.",),
            ),
            Step(
                exercise="Pelvic tilt",
                setup=("Flatten your lower back into the mat.",),
                reps=Reps(count=4, seconds_each=5, cues=("Tilt.", "Release.")),
            ),
        ),
    )
