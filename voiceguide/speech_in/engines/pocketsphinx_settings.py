"""PocketSphinx's tuning knobs, with the defaults the benchmark chose."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SphinxSettings:
    """Tuning knobs; defaults come from the benchmark's train split (docs/benchmarks.md)."""

    language_weight: float = 2.0
    frame_skip: int = 1  # PocketSphinx -ds: score Gaussians every Nth frame only
    topn: int = 4  # Gaussians per codebook scored per frame
    beam: float = 1e-48  # search beams (PocketSphinx defaults); narrower is cheaper
    word_beam: float = 7e-29
    carrier_prob: float = 0.01  # prior of a carrier word before/after the command
    filler_prob: float = 0.01  # prior of each noise/speech filler around the command
    null_prob: float = 0.01  # prior of an utterance with no command (noise, a cough)
    silence_prob: float = 0.3
    llr_center: float = -12.0  # log-likelihood ratio per frame that maps to confidence 0.5
    llr_scale: float = 3.0  # ...and how quickly confidence rises around it
    # Log-odds lost per second of other speech in the same utterance: commands are said on
    # their own, while "next" inside a sentence on the television is not a command.
    isolation_penalty: float = 2.0
    vad_mode: int = 0  # PocketSphinx Vad aggressiveness 0 (loose) .. 3 (strict)
    vad_margin_db: float = 6.0  # ...and the frame must stand this far above the noise floor
    vad_min_dbfs: float = -55.0  # ...and above this absolute level
    # The floor is this percentile of the last 3 s. A low one (10) is the quiet between
    # words, so background talk counts as speech, the utterance never ends and the command
    # over it is never decided; 40 sits on the babble itself (train split: babble 20 dB
    # 42% -> 76%, latency p95 434 -> 258 ms).
    vad_floor_percentile: float = 40.0
    denoise_steady_noise: bool = True  # libspeexdsp's denoiser while a fan-like noise is on
    onset_frames: int = 6  # speech frames in the onset window that start an utterance
    onset_window_frames: int = 10
    hangover_seconds: float = 0.2  # silence that ends an utterance
    preroll_seconds: float = 0.25  # audio before the detected onset that is decoded too
    window_seconds: float = 3.0  # utterances longer than this are talk: decoding stops
    # Partial results go out only once the talker has paused this long: a phrase in the
    # middle of a sentence is not yet a command, and the final result would wait 0.2 s.
    partial_pause_seconds: float = 0.08
    # False drops the phone-loop decoder: the grammar path's own score (already normalised
    # per frame by the best senone) is then the whole measure. Half the CPU (train split:
    # 0.060 -> 0.028 s/s) but 5 points of mean accuracy and 11 of pain recall are lost, so
    # it is only a benchmark ablation (`--set phone_loop= --set llr_center=-59`).
    phone_loop: bool = True
    # The cepstral mean a stream starts from (PocketSphinx's live CMN then follows the
    # microphone). The model's own, 40,3,-1,0..., is far from what our microphones give: from
    # there, the first utterances of each stream were heard badly (test split, clean: 58.1%
    # against 63.1% with the mean carried over from whichever stream came before). This is the
    # median of the means reached at the end of 74 train-split streams (docs/benchmarks.md).
    cmn_init: str = "59.0,-0.9,-2.0,7.5,-8.9,-2.7,-6.6,-7.2,-2.6,-1.7,1.8,-1.4,-1.0"


DEFAULT_SETTINGS = SphinxSettings()
