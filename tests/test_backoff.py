"""The one back-off helper every retry loop uses."""

from __future__ import annotations

import pytest

from voiceguide.audio.backoff import Backoff


def test_doubles_from_the_first_delay_up_to_the_cap() -> None:
    backoff = Backoff(0.5, 10.0)
    assert [backoff.next_delay() for _ in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_reset_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(1.0, 30.0)
    assert [backoff.next_delay() for _ in range(3)] == [1.0, 2.0, 4.0]
    backoff.reset()
    assert [backoff.next_delay() for _ in range(2)] == [1.0, 2.0]


def test_matches_the_closed_form_the_loops_used() -> None:
    # The recogniser's restart loop computed min(max, first * 2 ** (n - 1)) for crash n.
    backoff = Backoff(1.0, 30.0)
    assert [backoff.next_delay() for _ in range(10)] == [
        min(30.0, 1.0 * 2 ** (crashes - 1)) for crashes in range(1, 11)
    ]


def test_other_factor_and_a_cap_equal_to_the_first_delay() -> None:
    backoff = Backoff(0.1, 1.0, factor=3.0)
    assert [round(backoff.next_delay(), 9) for _ in range(4)] == [0.1, 0.3, 0.9, 1.0]
    steady = Backoff(2.0, 2.0)
    assert [steady.next_delay() for _ in range(3)] == [2.0, 2.0, 2.0]


@pytest.mark.parametrize(
    ("first", "most", "factor"), [(0.0, 1.0, 2.0), (2.0, 1.0, 2.0), (0.5, 10.0, 0.5)]
)
def test_nonsense_settings_are_refused(first: float, most: float, factor: float) -> None:
    with pytest.raises(ValueError, match="bad back-off"):
        Backoff(first, most, factor)
