"""What the benchmarks that distil the demo voice share: a copy of
voices/demo.toml with absolute paths, and the command-line options of a run."""
from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path
from typing import Any, Callable

import tomli_w

ROOT = Path(__file__).resolve().parents[1]


def demo_voice(out: Path, voice_id: str, steps: int, seed: int | None,
               edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """Writes ``out/<voice_id>.toml``: demo.toml with absolute paths, its own
    id, ``steps`` training steps, ``seed`` (None: the voice's) and whatever
    ``edit`` changes in the parsed TOML."""
    src = ROOT / "voices" / "demo.toml"
    v = tomllib.loads(src.read_text())
    base = src.parent
    v["target"]["reference"] = [str((base / p).resolve()) for p in v["target"]["reference"]]
    v["corpus"]["inputs"] = [str((base / p).resolve()) for p in v["corpus"]["inputs"]]
    v["voice"]["id"] = voice_id
    v["training"]["steps"] = steps
    if seed is not None:
        v["training"]["seed"] = seed
    if edit is not None:
        edit(v)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{voice_id}.toml"
    path.write_text(tomli_w.dumps(v))
    return path


def add_run_options(ap: argparse.ArgumentParser, out: str, steps: int) -> None:
    ap.add_argument("--steps", type=int, default=steps, help="training steps per tier (every run)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "out" / out))
    ap.add_argument("--listen-max", type=int, default=12,
                    help="utterances per split that get WER and DNSMOS (the main job's 12)")
    ap.add_argument("--seed", type=int, default=None, help="training seed (default: the voice's)")
    ap.add_argument("--report-only", action="store_true", help="print the table of an earlier run in --out")


def trained_steps(voice_dir: Path) -> dict[str, int]:
    """Steps each tier of a finished run was trained for (its distill.json),
    so a re-printed report states what was run, not the command's default."""
    training = json.loads((voice_dir / "distill.json").read_text())["training"]
    return {t: int(info["steps"]) for t, info in training.items()}
