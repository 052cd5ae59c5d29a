"""Loading the bundled locales (voiceguide/locales/<lang>.yaml) into core Locale objects."""

from __future__ import annotations

from functools import cache
from importlib import resources

from voiceguide.content.yaml_positions import parse_yaml_resource
from voiceguide.core.commands import Command
from voiceguide.core.locale import Locale
from voiceguide.errors import UserError


def available_locales() -> list[str]:
    """Names of the bundled locales."""
    folder = resources.files("voiceguide") / "locales"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@cache
def load_locale(language: str = "en") -> Locale:
    """Load a bundled locale by language code."""
    path = resources.files("voiceguide") / "locales" / f"{language}.yaml"
    if not path.is_file():
        raise UserError(
            f"unknown locale '{language}' (available: {', '.join(available_locales())})", 2
        )
    parsed = parse_yaml_resource(path, f"voiceguide/locales/{language}.yaml")
    if parsed.problems:
        first = min(parsed.problems, key=lambda p: p.sort_key)
        more = len(parsed.problems) - 1
        raise UserError(f"{first}" + (f" (and {more} more problems)" if more else ""))
    data = parsed.data
    if not isinstance(data, dict) or not isinstance(data.get("commands"), dict):
        raise UserError(
            f"voiceguide/locales/{language}.yaml:1:1: a locale needs a commands mapping"
        )
    missing = [c.value for c in Command if c.value not in data["commands"]]
    if missing:
        raise UserError(f"locale '{language}' lacks phrases for: {', '.join(missing)}")
    phrases = {p for v in data["commands"].values() for p in v}
    typed_only = frozenset(str(p) for p in data.get("typed_only", ()) or ())
    if typed_only - phrases:
        raise UserError(
            f"voiceguide/locales/{language}.yaml: typed_only names phrases that are not commands: "
            + ", ".join(sorted(typed_only - phrases))
        )
    alone_only = frozenset(str(p) for p in data.get("alone_only", ()) or ())
    if alone_only - phrases:
        raise UserError(
            f"voiceguide/locales/{language}.yaml: alone_only names phrases that are not commands: "
            + ", ".join(sorted(alone_only - phrases))
        )
    return Locale(
        language=data["language"],
        commands={k: tuple(v) for k, v in data["commands"].items()},
        idle_commands={k: tuple(v) for k, v in data.get("idle_commands", {}).items()},
        prompts=dict(data["prompts"]),
        prompts_naming_commands=frozenset(data.get("prompts_naming_commands", ())),
        sides=dict(data["sides"]),
        units=dict(data["units"]),
        numbers=tuple(data["numbers"]),
        asr_fillers=tuple(str(w) for w in data.get("asr_fillers", ()) or ()),
        counting=tuple(str(w) for w in data.get("counting", ()) or ()),
        typed_only=typed_only,
        alone_only=alone_only,
        voice=str(data.get("voice") or ""),
        pain_negation={
            str(k): tuple(str(w) for w in v or ())
            for k, v in (data.get("pain_negation") or {}).items()
        },
    )
