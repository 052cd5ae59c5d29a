"""training.tune_rule replays the spotter's decisions exactly as the streaming spotter makes them."""

import numpy as np

from bench.corpus import Stream
from tests.test_neural_spotter import FIXTURES, read
from training import tune_rule
from voiceguide.speech_in.engines.neural.spotter import Spotter, SpotterConfig


def test_replay_matches_the_streaming_spotter():
    gap = np.zeros(24000, np.int16)
    names = ["pain__it_hurts__kal", "none__talk__joe", "pause__hold_on__kal", "stop__stop__joe"]
    audio = np.concatenate([np.concatenate([read(FIXTURES / f"{n}.wav"), gap]) for n in names])
    audio = audio.astype(np.float32) / 32767
    pcm = (audio * 32767).astype(np.int16)  # what _record feeds, to the last bit
    spotter = Spotter()
    live = []
    for k in range(0, len(pcm), 1600):
        live += spotter.accept(pcm[k : k + 1600].tobytes())
    live += spotter.flush()
    tune_rule._STREAMS[:] = [Stream("s", "commands", "clean", audio)]
    _, rec = tune_rule._record(0)
    rec = {f"0.{k}": v for k, v in rec.items()}
    replayed = tune_rule.replay(rec, 1, spotter.head.classes, SpotterConfig())[0]
    assert len(live) >= 3, "the fixtures should give their commands"
    assert [(d.command, round(d.decided_at, 2)) for d in live] == [
        (e["command"], round(e["heard_at_seconds"], 2)) for e in replayed
    ]


def test_replay_lifts_the_gap_rule_while_the_box_talks_as_the_spotter_does():
    """A hum under the end of "stop" holds it back, unless the box is talking then."""
    pcm = read(FIXTURES / "stop__stop__joe.wav").astype(np.float32)
    end = np.flatnonzero(np.abs(pcm) > 300)[-1]
    t = np.arange(len(pcm) - end)
    pcm[end:] += (
        np.sin(t * 2 * np.pi * 200 / 16000) * 600 * (1 + 0.5 * np.sin(t * 2 * np.pi / 4000))
    )
    audio = np.concatenate([pcm, np.zeros(8000)]).astype(np.int16).astype(np.float32) / 32767
    seconds = len(audio) / 16000
    for played, expected in (([], []), ([(0.0, seconds, "Breathe out.")], ["stop"])):
        tune_rule._STREAMS[:] = [Stream("s", "commands", "clean", audio, played=played)]
        _, rec = tune_rule._record(0)
        rec = {f"0.{k}": v for k, v in rec.items()}
        classes = Spotter().head.classes
        replayed = tune_rule.replay(rec, 1, classes, SpotterConfig())[0]
        assert [e["command"] for e in replayed] == expected


def test_the_second_opinion_sweep_replays_the_streaming_spotter_with_its_check(monkeypatch):
    """training.tune_check decides as the product's spotter with the real GrammarCheck does."""
    from training import tune_check
    from voiceguide.content.locales import load_locale
    from voiceguide.speech_in.engines.grammar_check import GrammarCheck
    from voiceguide.speech_in.factory import spoken_commands

    gap = np.zeros(16000, np.int16)
    names = ["pause__hold_on__kal", "none__talk__joe", "pain__it_hurts__joe_babble10dB"]
    audio = np.concatenate([np.concatenate([read(FIXTURES / f"{n}.wav"), gap]) for n in names])
    audio = audio.astype(np.float32) / 32767
    pcm = (audio * 32767).astype(np.int16)
    tune_rule._STREAMS[:] = [Stream("s", "commands", "clean", audio)]
    _, rec = tune_rule._record(0)
    setting = (0.5, 1, 0.5, 0.3)
    monkeypatch.setattr(tune_check, "GRID", [setting])
    classes = Spotter().head.classes
    stream = Stream("s", "commands", "clean", audio)
    stream.reference = None
    rec = {f"0.{k}": v for k, v in rec.items()}
    monkeypatch.setattr(
        tune_check, "_SHARED", {"rec": rec, "classes": classes, "streams": [stream]}
    )
    _, out, asked = tune_check._stream(0)
    en = load_locale("en")
    check = GrammarCheck(en, spoken_commands(en, en.commands), bar=0.5, safety_bar=0.3)
    spotter = Spotter(config=SpotterConfig(check_threshold=0.5, check_hops=1), check=check)
    live = []
    for k in range(0, len(pcm), 1600):
        live += spotter.accept(pcm[k : k + 1600].tobytes())
    live += spotter.flush()
    key = "0.5/1/0.5/0.3"
    assert check.asked == asked[key] >= 1 and [d.command for d in live][:1] == ["pause"]
    assert [(d.command, round(d.decided_at, 2)) for d in live] == [
        (e["command"], round(e["heard_at_seconds"], 2)) for e in out[key]
    ]
