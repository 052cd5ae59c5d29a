"""Neural command spotter: a pretrained speech front end from a wheel plus the project's head.

Pure core (standard library, numpy, soxr and ai-edge-litert only; nothing else from voiceguide):

- ``frontend.FrontEnd``: streaming 96-dim speech embeddings every 80 ms (openWakeWord's
  melspectrogram + Google's speech_embedding from the pyopen-wakeword wheel).
- ``head.load_head`` / ``head.predict``: numpy inference of the committed head.npz.
- ``spotter.Spotter``: ``accept(pcm16) -> list[Detection]``, ``flush()``, ``reset()``.
"""

from .spotter import Detection, Spotter, SpotterConfig

__all__ = ["Detection", "Spotter", "SpotterConfig"]
