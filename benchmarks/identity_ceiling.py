"""How much of the target's identity can a WORLD master carry at all?

Leave-one-out on the target's own recordings (data/corpus/target/slt): each
held-out file is scored against the mean embedding of the other files, as
itself, as a WORLD analysis-resynthesis (offline harvest F0, and the causal
YIN the masters use), and converted by ``world2`` (shipped settings, and kNN
envelopes only) fitted on the other files. The identity measures are the
QA's (resemblyzer similarity; margin over the demo voice's cohort of other
women), so the numbers compare with docs/experiments.md.

    python benchmarks/identity_ceiling.py [--every 2]
"""
from __future__ import annotations

import argparse

import numpy as np

import diagnose_master as dm  # its corpus readers and measures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=int, default=2, help="hold out every N-th target file")
    a = ap.parse_args()
    import pyworld as pw

    from voiceskin_tooling.masters import get_master
    from voiceskin_tooling.masters.world import analyze

    meas = dm.Measures()
    refs = dm.target_refs()
    cohort = np.stack([meas.speaker([dm._read(f) for f in sorted((dm.CORPUS / "speakers" / s).glob("*.flac"))])
                       for s in dm.COHORT])
    embs = [meas.embed(r) for r in refs]
    scores: dict[str, list[tuple[float, float]]] = {}
    for i in range(0, len(refs), a.every):
        tgt = np.mean([e for j, e in enumerate(embs) if j != i], 0)
        tgt /= np.linalg.norm(tgt)
        others = [r for j, r in enumerate(refs) if j != i]
        x = refs[i]
        outs = {"the recording itself": x}
        for method in ("harvest", "yin"):
            f0, sp, ap_ = analyze(x, dm.SR, dm.HOP, f0_method=method)
            outs[f"WORLD resynthesis ({method} F0)"] = pw.synthesize(f0, sp, ap_, dm.SR, 1000.0 * dm.HOP / dm.SR)
        for name, kw in (("world2, shipped", {}), ("world2, kNN only", {"knn_blend": 1.0})):
            m = get_master("world2", **kw)
            m.fit(others, dm.SR)
            outs[name] = m.convert(x, dm.SR).audio
        for name, y in outs.items():
            e = meas.embed(np.asarray(y, np.float32))
            s = float(e @ tgt)
            scores.setdefault(name, []).append((s, s - float((cohort @ e).max())))
    print(f"{len(scores['the recording itself'])} held-out target files")
    for name, v in scores.items():
        arr = np.array(v)
        print(f"  {name:32s} similarity {arr[:, 0].mean():.3f}  margin {arr[:, 1].mean():+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
