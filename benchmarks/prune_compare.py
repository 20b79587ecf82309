"""Pruned tiers against their width-scaled twins, at equal cost (issue 18 item 3).

Distils the demo voice (voices/demo.toml: its master, corpus, splits and
recipe) with each requested tier and its ``<tier>-pruned`` twin — the same
front end, an ultra-size network pruned during training down to the twin's
network cost (voiceskin_tooling.prune) — for the same number of steps, then
prints, per pair, the exported graph's cost and the test split's listener
measures with their 95 % intervals, and which one wins each measure beyond
the interval. Results go to ``--out``/prune_compare.json.

    python benchmarks/prune_compare.py --tiers low,medium --steps 1500 -j 2

The comparison is at equal steps, not equal wall time: the pruned tier's
gate phase trains the wide network (slower per step); its training seconds
are printed beside.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from demo_runs import add_run_options, demo_voice, trained_steps
from voiceskin_tooling.listener_bars import ORDER_MEASURES, beyond_both

SPLITS = ("validation", "test")  # the choice is made on validation; test is reported


def pair_voice(out: Path, tiers: list[str], steps: int, seed: int | None = None) -> Path:
    """demo.toml with absolute paths, the given tiers and their pruned twins
    (each twin a copy of its tier's entry, ``[tiers.qa]`` included; the
    default bars go by rank, and a twin ranks with its tier), and ``steps``
    training steps."""
    def pairs(v: dict) -> None:
        by_name = {t["name"]: t for t in v["tiers"]}
        v["tiers"] = []
        for t in tiers:
            spec = dict(by_name.get(t, {"name": t, "sample_rate": 16000}))
            v["tiers"] += [spec, {**spec, "name": f"{t}-pruned"}]

    return demo_voice(out, "demo-prune", steps, seed, pairs)


def compare(qa: dict, training: dict, tiers: list[str]) -> list[dict]:
    rows = []
    for t in tiers:
        p = f"{t}-pruned"
        row = {"tier": t, "flops_per_second": {n: qa["tiers"][n]["flops_per_second"] for n in (t, p)},
               "core_percent_48k": {n: qa["tiers"][n].get("core_percent_48k") for n in (t, p)},
               "train_seconds": {n: training[n]["seconds"] for n in (t, p)},
               "prune": training[p].get("prune"), "splits": {}}
        for split in SPLITS:
            systems = ((qa.get("splits") or {}).get(split) or {}).get("systems") or {}
            out = row["splits"][split] = {}
            for key, higher in ORDER_MEASURES.items():
                a, b = systems.get(t, {}).get(key), systems.get(p, {}).get(key)
                if not (a and b):
                    continue
                # beyond both intervals: each value outside the other's
                step = beyond_both(a, b, higher)
                verdict = "same within intervals" if step == 0 else "pruned better" if step > 0 \
                    else "width-scaled better"
                out[key] = {t: a, p: b, "verdict": verdict}
        rows.append(row)
    return rows


def print_rows(rows: list[dict]) -> None:
    for r in rows:
        t, p = r["tier"], f"{r['tier']}-pruned"
        pr = r["prune"] or {}
        cp = r["core_percent_48k"]
        print(f"{t} vs {p}: graph {r['flops_per_second'][t] / 1e6:.1f} vs {r['flops_per_second'][p] / 1e6:.1f} "
              f"MFLOP/s, native {cp[t]} vs {cp[p]} % of a core at 48 kHz; network {pr.get('target_flops')} "
              f"(target) vs {pr.get('pruned_flops')} FLOPs/step, pruned from {pr.get('wide_flops')} to widths "
              f"{pr.get('widths')}; training {r['train_seconds'][t]:.0f} vs {r['train_seconds'][p]:.0f} s")
        for split, ms in r["splits"].items():
            for key, m in ms.items():
                a, b = m[t], m[p]
                print(f"  {split:<11}{key:<16}{a['value']:>8.3f} [{a['ci95'][0]:.3f},{a['ci95'][1]:.3f}]"
                      f"{b['value']:>8.3f} [{b['ci95'][0]:.3f},{b['ci95'][1]:.3f}]  {m['verdict']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiers", default="low,medium", help="comma-separated width-scaled tiers to pair")
    add_run_options(ap, "prune_compare", 1500)
    a = ap.parse_args()
    from voiceskin_tooling.distill import distill
    from voiceskin_tooling.distill_common import DistillConfig

    tiers = [t.strip() for t in a.tiers.split(",") if t.strip()]
    out = Path(a.out)
    if not a.report_only:
        toml = pair_voice(out, tiers, a.steps, a.seed)
        cfg = DistillConfig(voice=str(toml), out_dir=str(out), jobs=a.jobs,
                            max_seen_qa_seconds=20.0, fail_on_qa=False, qa_listen_max_per_split=a.listen_max,
                            qa_without_postfilter=False)
        distill(cfg)
    vd = out / "demo-prune"
    qa = json.loads((vd / "qa.json").read_text())
    training = json.loads((vd / "distill.json").read_text())["training"]
    rows = compare(qa, training, tiers)
    print_rows(rows)
    (out / "prune_compare.json").write_text(json.dumps({"steps": trained_steps(vd), "seed": a.seed, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
