"""How the benchmarks hand over their figures: printed as JSON, and saved if asked."""

from __future__ import annotations

import json
from pathlib import Path


def emit(figures: object, json_path: Path | None) -> int:
    """Print `figures` as indented JSON, also write them to `json_path` if given; exit code 0."""
    text = json.dumps(figures, indent=2)
    print(text)
    if json_path:
        json_path.write_text(text + "\n")
    return 0
