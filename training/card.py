"""Write MODEL_CARD.md beside the head from the build summary and the held-out evaluation.

    .venv/bin/python -m training.card --summary training/out/full/summary.json \
        --eval training/out/eval-test.json [--eval-quick training/out/eval-test-quick.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from voiceguide.speech_in.engines.neural.head import HEAD_FILE, load_head


def _table(ev: dict) -> str:
    rows = ["| condition | accuracy | n |", "|---|---|---|"]
    for k, v in ev["accuracy"].items():
        rows.append(f"| {k} | {v:.1%} | {ev['n'][k]} |")
    return "\n".join(rows)


def _in_use() -> str:
    """The spotter's default decision settings, as the product runs them."""
    import dataclasses

    from voiceguide.speech_in.engines.neural.spotter import SpotterConfig

    shown = {k: v for k, v in dataclasses.asdict(SpotterConfig()).items() if v != {}}
    return ", ".join(f"{k} {v}" for k, v in shown.items())


def main() -> None:
    """Render the card."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--eval", type=Path, required=True)
    parser.add_argument("--extra", type=Path, default=None, help="markdown appended verbatim")
    parser.add_argument("--command", default=None, help="the build command, if not the default")
    parser.add_argument(
        "--eval-command", default=None, help="the evaluate command, if not the default"
    )
    args = parser.parse_args()
    s = json.loads(args.summary.read_text())
    ev = json.loads(args.eval.read_text())
    head = load_head(HEAD_FILE)
    sha = hashlib.sha256(HEAD_FILE.read_bytes()).hexdigest()
    assert sha == s["sha256"], "head.npz is not the one this summary describes"
    frames, dim = head.input_shape
    ch = head.weights["conv0.weight"].shape[0]
    hidden = head.weights["fc1.weight"].shape[0]
    tr = s["data"]["train"]
    va = s["data"]["validation"]
    per = "\n".join(
        f"| {c} | {tr['per_class'][c]['scenes']} | {tr['per_class'][c]['hours']:.2f} | "
        f"{va['per_class'][c]['scenes']} |"
        for c in head.classes
    )
    t = s["tuned"]
    text = f"""# Model card: voiceguide neural command head

- sha256: `{sha}`
- classes: `{", ".join(head.classes)}`
- input: `{frames}x{dim}`
- file: `head.npz` ({HEAD_FILE.stat().st_size / 1024:.0f} KiB, float32, numpy-only inference)
- training command: `{args.command or f".venv/bin/python -m training.build --seed {s['seed']}"}`
- seed: {s["seed"]}
- licence: MIT (the project's), for this head. The front end it runs on is not part of it
  (see "Front end" below).

## What it does
Scores a window of {frames} consecutive speech embeddings (one per 80 ms, each over 775 ms: a
{(frames - 1) * 0.08 + 0.782:.2f} s stretch of audio) into {len(head.classes)} classes: `none`
and the {len(head.classes) - 1} session commands of `voiceguide/core/commands.py` (phrases from
`voiceguide/locales/en.yaml`, without its `typed_only` ones, plus natural variants). It is trained so that a command
wins in the windows that end 60-600 ms after the command ended with no more speech after it;
a command word that talk goes on after, or inside a sentence, is `none`. `spotter.py` turns
the per-window scores into one decision per utterance.

Architecture: {len(head.members)} member net(s), trained alike from seeds {s["seed"]}..{s["seed"] + len(head.members) - 1},
whose softmax outputs are averaged. Each: per-dimension standardisation, Conv1d({dim}->{ch}, k3)
ReLU, Conv1d({ch}->{ch}, k3, dilation 2) ReLU, flatten, Linear(->{hidden}) ReLU,
Linear(->{len(head.classes)}), softmax.
Training: AdamW (weight decay 0.01), one-cycle learning rate, dropout 0.4 and feature dropout
0.25, label smoothing 0.05, commands weighted x2, feature noise, time masking (up to 4
embeddings replaced by the mean) and 60% of the windows mixed with a random "none" window
(weight 0-0.5, label kept); the epoch with the best balanced window accuracy on the
validation voices is kept. numpy inference matches
torch to {s["numpy_torch_max_diff"]:.1e} (max abs probability difference).

## Front end
openWakeWord's `melspectrogram.tflite` and `embedding_model.tflite` (Google's speech_embedding),
as shipped in the `pyopen-wakeword` 1.1.0 wheel and run with `ai-edge-litert`; see
training/README.md for the licence finding.

## Training data (synthetic speech only)
Voices: {tr["voices"]} training speakers and {va["voices"]} validation speakers (held out by base
voice for threshold tuning, one base voice in 8 with its virtual speakers): espeak-ng English
voices x variants at random rate and pitch (never the benchmark's test pairs), flite kal and
kal16, festival kal, Piper joe at 4 length and 2 noise scales; and two virtual speakers per
base voice, each a fixed `sox pitch` shift of 1.5-5 semitones up or down (pitch and formants
together) and a fixed tempo of 0.85-1.2 over every clip of that speaker (25 command phrases
each; the base voices say every phrase). Every clip also has a 50% chance of a speed
perturbation (x0.88-1.12, pitch and tempo). The locale's typed-only phrases ("ow", "hurt",
"in pain") are not trained, neither as commands nor as negatives.
Reserved and never used: flite awb, rms and slt, festival's other voices, the benchmark's
TEST_SPEAKERS and ROOM_TALK, the Debian fortunes files.

| class | train scenes | train hours | validation scenes |
|---|---|---|---|
{per}

Scene kinds (train; own = the box's own speech alone after the echo canceller): {tr["kinds"]}.
Non-command texts: the box's own routine and prompt text,
everyday talk and hard negatives written for the project (command words inside sentences),
and prose from licence texts, /usr/share/doc READMEs and Python docstrings.

## Augmentation
Per scene: background clean / white, pink or brown noise at -3..25 dB / babble of 2-7
continuous talkers at -5..20 dB with the command inside it / the box's own speech (espeak-ng
en-us, en-gb) delayed 5-120 ms through a simulated room, from 6 dB above to 15 dB below the
talker, raw (8%) or after the product's echo stage (12%: `speech_in.echo_path.offline_echo_path`
with what the box played as reference, after 3 s of the box talking so the canceller has
converged); talk just before the
command (30%) or just after it (15%, labelled none); simulated-room reverberation
(pyroomacoustics shoebox, RT60 0.15-0.7 s, 50%); level -30..-17 dBFS; a cheap-mic band limit
(40%); clipping (10%); a -66 dBFS floor.

## Tuned decision settings (validation voices, at build time)
threshold {t["threshold"]}, confirm_hops {t["confirm_hops"]}, early_threshold (pain, stop)
{t["early_threshold"]}. Validation: {json.dumps(s["validation"])}

## Decision settings the product runs
`SpotterConfig`'s defaults, retuned after the build on the benchmark's train split (the
training voices) by `training.tune_rule` (training/README.md): {_in_use()}.

## Held-out figures (benchmark test split: unseen voices and talk)
Command: `{args.eval_command or ".venv/bin/python -m training.evaluate" + (" --quick" if ev.get("quick") else "")}`
({ev["audio_hours"]:.2f} h of streams, raw microphone signal, no echo canceller).

{_table(ev)}

- mean accuracy {ev["mean_accuracy"]:.1%}, worst condition {ev["worst_condition"]:.1%}
- pain: {json.dumps({k: round(v, 3) for k, v in ev["pain"].items()})}
- false detections per hour of speech: {json.dumps({k: round(v, 1) for k, v in ev["false_per_hour"].items()})}
  (false pain: {json.dumps({k: round(v, 1) for k, v in ev["false_pain_per_hour"].items()})})
- latency end of speech -> decision: p50 {ev["latency_p50_ms"]:.0f} ms, p95 {ev["latency_p95_ms"]:.0f} ms
  (pain/stop p95 {ev["latency_safety_p95_ms"]:.0f} ms)
- CPU {ev["cpu_seconds_per_audio_second"]:.3f} s per audio second; peak RSS {ev["rss_mb_max_worker"]:.0f} MB
"""
    if args.extra:
        text += "\n" + args.extra.read_text()
    HEAD_FILE.with_name("MODEL_CARD.md").write_text(text)


if __name__ == "__main__":
    main()
