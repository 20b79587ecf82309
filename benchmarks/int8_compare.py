"""Float vs int8 weights on a distilled bundle: speed and output difference.

    python benchmarks/int8_compare.py BUNDLE.vskin [--cache MASTER_CACHE.pt]
        [--rounds 5] [--seconds 10] [--json OUT.json]

Quantises every tier of BUNDLE (voiceskin_tooling.quantise, the tier setting
``weights = "int8"``) and compares the two bundles tier by tier:

* speed: the op profile (benchmarks/op_profile.py, native/bench/profile.c)
  of the float and the int8 bundle, alternated for ``--rounds`` rounds on
  the same speech; per round the network part (LINEAR + GRU µs per 256-frame
  buffer at 48 kHz, from the per-node medians × steps per buffer) and the
  whole voice (median and p99 µs per buffer); reported as the median over
  rounds and the ratio float/int8 of those medians.
* output: both tiers through the native library at the model rate on every
  utterance of the ``--splits`` (default test) of a master cache
  (``--cache``; else the corpus
  files under data/corpus/speakers of the demo's test speakers): the SNR of
  the int8 output against the float output, the log-mel distance between
  them (voiceskin_tooling.qa.logmel_distance: mean |Δ ln mel|, 80 bands),
  and, with a cache, each one's log-mel distance to the master's output
  divided by the input's (the QA's ``logmel_ratio``).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NET_OPS = ("LINEAR", "GRU")


def _net_us(rec: dict) -> float:
    return sum(n["median_ns"] for n in rec["nodes"] if n["op"] in NET_OPS) * rec["steps_per_buffer"] / 1e3


def speed(paths: dict[str, Path], rounds: int, seconds: float) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_runtime import BUFFER, HOST_RATE, _speech
    from op_profile import build_profiler, profile_tier
    import soxr
    from voiceskin.format import load_bundle

    x48 = _speech(seconds, HOST_RATE)
    exe = build_profiler()
    spec = load_bundle(paths["f32"])
    out: dict = {}
    for i, t in enumerate(spec.tiers):
        xm = soxr.resample(x48, HOST_RATE, t.model_sample_rate).astype(np.float32)
        runs: dict[str, list[dict]] = {k: [] for k in paths}
        for r in range(rounds):
            order = list(paths) if r % 2 == 0 else list(paths)[::-1]
            for k in order:
                runs[k].append(profile_tier(exe, paths[k], i, HOST_RATE, BUFFER, x48, xm))
        res = {}
        for k, recs in runs.items():
            res[k] = {"net_us": statistics.median(_net_us(r) for r in recs),
                      "net_us_rounds": [round(_net_us(r), 2) for r in recs],
                      "voice_median_us": statistics.median(r["voice_us"]["median"] for r in recs),
                      "voice_p99_us": statistics.median(r["voice_us"]["p99"] for r in recs),
                      "voice_mean_us": statistics.median(r["voice_us"]["mean"] for r in recs),
                      "isa": recs[0]["isa"]}
        res["net_speedup"] = res["f32"]["net_us"] / res["int8"]["net_us"]
        res["voice_speedup"] = res["f32"]["voice_median_us"] / res["int8"]["voice_median_us"]
        out[t.name] = res
        print(f"[speed] {t.name}: network {res['f32']['net_us']:.2f} -> {res['int8']['net_us']:.2f} us "
              f"({res['net_speedup']:.2f}x); voice median {res['f32']['voice_median_us']:.2f} -> "
              f"{res['int8']['voice_median_us']:.2f} us, p99 {res['f32']['voice_p99_us']:.2f} -> "
              f"{res['int8']['voice_p99_us']:.2f} us", flush=True)
    return out


def _run(blob: bytes, tier: int, x: np.ndarray, rate: int) -> np.ndarray:
    from voiceskin import Bundle, Voice

    with Bundle.from_bytes(blob) as b:
        v = Voice(b, sample_rate=rate, max_block=4096, tier=tier)
        y = v.process(np.concatenate([x, np.zeros(v.latency, np.float32)]))[v.latency:]
        v.close()
    return np.asarray(y[: len(x)], np.float64)


def _utterances(cache: Path | None, split: str) -> tuple[list[tuple[np.ndarray, np.ndarray | None]], str]:
    if cache is not None:
        import torch

        from voiceskin_tooling.qa import _qa_split

        c = torch.load(cache, weights_only=False)
        utts = [(u["input"].numpy().astype(np.float32), u["master"].numpy().astype(np.float32))
                for u in c["utts"] if _qa_split(u) == split]
        return utts, f"{len(utts)} {split}-split utterances of {cache.name}"
    import soundfile as sf

    files = sorted((ROOT / "data" / "corpus" / "speakers").glob("awb_test/*.flac"))[:8]
    return [(sf.read(f, dtype="float32")[0], None) for f in files], f"{len(files)} files of awb_test"


def quality(blobs: dict[str, bytes], cache: Path | None, split: str) -> dict:
    from voiceskin.format import read_bundle
    from voiceskin_tooling.qa import logmel_distance

    spec = read_bundle(blobs["f32"])
    utts, what = _utterances(cache, split)
    out: dict = {"utterances": what}
    for i, t in enumerate(spec.tiers):
        sig = err = 0.0
        d_q, d_fm, d_qm, d_in = [], [], [], []
        for x, m in utts:
            yf = _run(blobs["f32"], i, x, t.model_sample_rate)
            yq = _run(blobs["int8"], i, x, t.model_sample_rate)
            sig += float(np.sum(yf ** 2))
            err += float(np.sum((yq - yf) ** 2))
            d_q.append(logmel_distance(yq, yf))
            if m is not None:
                d_fm.append(logmel_distance(yf, m))
                d_qm.append(logmel_distance(yq, m))
                d_in.append(logmel_distance(x, m))
        r = {"snr_db": 10 * np.log10(sig / max(err, 1e-30)),
             "logmel_distance_int8_vs_f32": float(np.mean(d_q))}
        if d_in:
            r["logmel_ratio_f32"] = float(np.mean(d_fm) / np.mean(d_in))
            r["logmel_ratio_int8"] = float(np.mean(d_qm) / np.mean(d_in))
        out[t.name] = r
        print(f"[quality {split}] {t.name}: " + ", ".join(f"{k} {v:.4g}" for k, v in r.items()),
              flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--splits", default="test", help="with --cache: comma-separated QA splits")
    a = ap.parse_args()
    from voiceskin.format import load_bundle, write_bundle
    from voiceskin_tooling.quantise import quantise_bundle

    spec = load_bundle(a.bundle)
    q = quantise_bundle(spec, [t.name for t in spec.tiers])
    blobs = {"f32": a.bundle.read_bytes(), "int8": write_bundle(q)}
    qpath = Path(a.json.with_suffix(".int8.vskin") if a.json else "/tmp/int8_compare.int8.vskin")
    qpath.write_bytes(blobs["int8"])
    res: dict = {"bundle": str(a.bundle)}
    if not a.no_speed:
        res["speed"] = speed({"f32": a.bundle, "int8": qpath}, a.rounds, a.seconds)
    if not a.no_quality:
        res["quality"] = {sp: quality(blobs, a.cache, sp) for sp in a.splits.split(",")}
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
