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
    rec["box"] = tune_rule.box_flags(rec["at"], [])
    rec = {f"0.{k}": v for k, v in rec.items()}
    replayed = tune_rule.replay(rec, 1, spotter.head.classes, SpotterConfig())[0]
    assert len(live) >= 3, "the fixtures should give their commands"
    assert [(d.command, round(d.decided_at, 2)) for d in live] == [
        (e["command"], round(e["heard_at_seconds"], 2)) for e in replayed
    ]
