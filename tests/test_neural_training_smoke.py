"""The training pipeline runs end to end on a tiny configuration (synthesis to exported head)."""

import json
import shutil

import pytest


@pytest.mark.slow
def test_smoke_training_builds_a_loadable_head(tmp_path):
    for tool in ("espeak-ng", "flite", "text2wave"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    pytest.importorskip("torch")
    pytest.importorskip("piper")
    pytest.importorskip("pyroomacoustics")
    from training.build import main
    from voiceguide.speech_in.engines.neural.head import load_head, predict

    assert main(["--smoke", "--seed", "1", "--out", str(tmp_path)]) == 0
    head = load_head(tmp_path / "head.npz")
    assert head.classes[0] == "none" and len(head.classes) == 21
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["numpy_torch_max_diff"] < 1e-4
    import numpy as np

    p = predict(head, np.zeros((1, *head.input_shape), np.float32))
    assert p.shape == (1, 21)
