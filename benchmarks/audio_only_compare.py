"""A master that exposes audio only, against the same master white-box (issue 16 item 3).

Distils the demo voice (voices/demo.toml: its master, corpus, splits and
recipe) twice with the same steps and seed: once as it is (the master hands
the student its pitch definition and features) and once with ``[master]
audio_only = true`` (masters.base.AudioOnlyMaster: audio in, audio out; the
student's PITCH_MAP is fitted from the pairs by voiceskin_tooling.pitchfit,
and its envelope target is WORLD's reading of the master's audio:
voiceskin_tooling.audio_features). Then prints, per
tier and split:

* how closely the student's F0 follows its master's output (Praat on both,
  the QA's ``f0_median_cents`` and ``f0_gross_fraction``; the issue's bars:
  ≤ 50 cents median, ≤ 15 % of frames more than a semitone off);
* every listener and F0-register measure of the audio-only tier, and
  whether it lies beyond the white-box tier's 95 % interval
  (listener_bars.beyond_interval; +1 better, −1 worse, 0 within).

    python benchmarks/audio_only_compare.py --steps 800 -j 2

Results: ``--out``/audio_only_compare.json (and each run's qa.json).
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from demo_runs import add_run_options, demo_voice, trained_steps
from voiceskin_tooling.listener_bars import ORDER_MEASURES, beyond_interval

SPLITS = ("validation", "test")
# the listener measures (higher is better?) and the F0 register against the
# target (None: no better side; "beyond" is then +1 above the interval, −1 below)
MEASURES: dict[str, bool | None] = {**ORDER_MEASURES, "f0_mean_offset_cents": None, "f0_spread_ratio": None}
F0_BARS = {"f0_median_cents": 50.0, "f0_gross_fraction": 0.15}


def compare(white: dict, black: dict) -> list[dict]:
    rows = []
    for t in white["tiers"]:
        if t not in black["tiers"]:
            continue
        for split, key in (("validation", "heldout"), ("test", "test")):
            ws, bs = white["splits"][split]["systems"], black["splits"][split]["systems"]
            row: dict = {"tier": t, "split": split, "measures": {}}
            for m, higher in MEASURES.items():
                a, b = ws[t].get(m), bs[t].get(m)
                if not a or not b or a.get("value") is None or b.get("value") is None:
                    continue
                row["measures"][m] = {"white_box": a, "audio_only": b, "beyond": beyond_interval(a, b, higher is not False)}
            fw, fb = white["tiers"][t].get(key, {}), black["tiers"][t].get(key, {})
            row["f0_follow"] = {m: {"white_box": fw.get(m), "audio_only": fb.get(m), "bar": bar,
                                    "met": fb.get(m) is not None and fb[m] <= bar}
                                for m, bar in F0_BARS.items()}
            rows.append(row)
    return rows


def cache_pitch(voice_dir: Path) -> dict:
    """The PITCH_MAP target statistics the students share, from the run's
    master cache (the newest), and the audio-only fit's report."""
    import torch

    path = max((voice_dir / "cache").glob("master-*.pt"), key=lambda p: p.stat().st_mtime)
    c = torch.load(path, map_location="cpu", weights_only=False)
    fit = c.get("pitch_fit") or {}
    return {"target_mu": c["pitch"]["target_mu"], "target_sigma": c["pitch"]["target_sigma"],
            **({"fit": {k: fit[k] for k in ("residual_cents", "tau", "fmin", "fmax", "frames") if k in fit}}
               if fit else {})}


def print_rows(rows: list[dict], pitch: dict) -> None:
    for k, p in pitch.items():
        print(f"{k}: PITCH_MAP target {math.exp(p['target_mu']):.1f} Hz, sigma {p['target_sigma']:.4f}"
              + (f"; fit {json.dumps(p['fit'])}" if "fit" in p else ""))
    for r in rows:
        f = r["f0_follow"]
        print(f"\n{r['tier']} / {r['split']}: F0 vs master (Praat on both) white-box "
              f"{f['f0_median_cents']['white_box']:.1f} cents, {100 * f['f0_gross_fraction']['white_box']:.1f} % "
              f"> 1 semitone; audio-only {f['f0_median_cents']['audio_only']:.1f} cents, "
              f"{100 * f['f0_gross_fraction']['audio_only']:.1f} % (bars ≤ 50 cents, ≤ 15 %: "
              f"{'met' if all(v['met'] for v in f.values()) else 'MISSED'})")
        for m, d in r["measures"].items():
            a, b = d["white_box"], d["audio_only"]
            verdict = {0: "within", 1: "better" if MEASURES[m] is not None else "above",
                       -1: "WORSE" if MEASURES[m] is not None else "below"}[d["beyond"]]
            print(f"  {m:22s} white-box {a['value']:8.3f} [{a['ci95'][0]:.3f}, {a['ci95'][1]:.3f}]"
                  f"  audio-only {b['value']:8.3f} [{b['ci95'][0]:.3f}, {b['ci95'][1]:.3f}]  {verdict}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap, "audio_only_compare", 800)
    ap.add_argument("--tiers", default=None, help="comma-separated subset of the demo's tiers")
    ap.add_argument("--only", choices=("white_box", "audio_only"), default=None,
                    help="distil only this one (the other's earlier run in --out is reused)")
    a = ap.parse_args()
    from voiceskin_tooling.distill import distill
    from voiceskin_tooling.distill_common import DistillConfig

    out = Path(a.out)
    tiers = [t.strip() for t in a.tiers.split(",")] if a.tiers else None
    runs = {"white_box": ("demo-white", False), "audio_only": ("demo-audio-only", True)}
    for key, (vid, audio_only) in runs.items():
        if a.report_only or (a.only and key != a.only):
            continue
        toml = demo_voice(out, vid, a.steps, a.seed, lambda v, ao=audio_only: v["master"].update(audio_only=ao))
        cfg = DistillConfig(voice=str(toml), out_dir=str(out), tiers=tiers, jobs=a.jobs,
                            max_seen_qa_seconds=20.0, fail_on_qa=False,
                            qa_listen_max_per_split=a.listen_max, qa_without_postfilter=False)
        distill(cfg)
    qa = {k: json.loads((out / vid / "qa.json").read_text()) for k, (vid, _) in runs.items()}
    pitch = {k: cache_pitch(out / vid) for k, (vid, _) in runs.items()}
    rows = compare(qa["white_box"], qa["audio_only"])
    print_rows(rows, pitch)
    (out / "audio_only_compare.json").write_text(
        json.dumps({"steps": {k: trained_steps(out / vid) for k, (vid, _) in runs.items()}, "seed": a.seed,
                    "pitch_fit": pitch, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
