"""Float vs int8 weights on a distilled bundle: speed and output difference.

    python benchmarks/int8_compare.py BUNDLE.vskin [--cache MASTER_CACHE.pt]
        [--rounds 5] [--seconds 10] [--splits test] [--listen [--listen-max N]]
        [--jobs 2] [--json OUT.json]

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
* listener measures (``--listen``, needs ``--cache``): every float and
  int8 tier rendered through the native library
  (voiceskin_tooling.qa.BundleTier) on every utterance of the ``--splits``
  and scored by the QA itself (qa.qa_voice, the tiers as its
  ``variants``): WER, DNSMOS OVRL, resemblyzer similarity, identity
  margin, envelope error and log-mel ratio against the master, each with
  its 95 % bootstrap interval over utterances (WER and DNSMOS on at most
  ``--listen-max`` utterances per split, default all). Per tier and split:
  whether int8 lies beyond float's interval on the worse (or better) side
  (listener_bars.beyond_interval), and whether each meets the tier's
  listener bars (listener_bars.check_listener_bars).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
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


def _run(blob: bytes, tier: int, x: np.ndarray) -> np.ndarray:
    from voiceskin_tooling.qa import BundleTier

    return BundleTier(blob, tier).convert(x).astype(np.float64)


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
            yf = _run(blobs["f32"], i, x)
            yq = _run(blobs["int8"], i, x)
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


#: measures compared float vs int8 (``--listen``; which way is better: listener_bars.ORDER_MEASURES)
LISTEN_MEASURES = ("wer", "dnsmos_ovrl", "similarity", "identity_margin", "envelope_error", "logmel_ratio")
INT8 = "-int8"  # system name suffix of an int8 tier in the QA


def listen(blobs: dict[str, bytes], cache: Path, splits: list[str], jobs: int,
           listen_max: int | None) -> dict:
    """The QA's listener measures of the float and the int8 tiers, rendered
    by the native library; float vs int8 per tier and split."""
    import torch
    from voiceskin.format import read_bundle
    from voiceskin_tooling.listener_bars import ORDER_MEASURES, beyond_interval, check_listener_bars
    from voiceskin_tooling.qa import MEASURES, BundleTier, _qa_split, format_interval, qa_voice

    c = torch.load(cache, weights_only=False)
    c = {**c, "utts": [u for u in c["utts"] if _qa_split(u) in splits]}
    names = [t.name for t in read_bundle(blobs["f32"]).tiers]
    variants = {n + ("" if k == "f32" else INT8): BundleTier(blobs[k], i)
                for i, n in enumerate(names) for k in ("f32", "int8")}
    for n, v in variants.items():
        if v.sample_rate != int(c["sample_rate"]):
            raise SystemExit(f"tier {n} runs at {v.sample_rate} Hz, the cache at {c['sample_rate']} Hz")
    qa = qa_voice(c, {}, [], variants=variants, jobs=jobs, listen_max_per_split=listen_max,
                  listen_splits=splits, n_examples=0,
                  progress=lambda m: print(f"[listen] {m}", flush=True))
    fmt = {k: f for k, _, f, _ in MEASURES}
    out: dict = {"cache": str(cache), "recogniser": qa["recogniser"], "dnsmos_model": qa["dnsmos_model"],
                 "speaker_encoder": qa["speaker_encoder"], "cohort": qa["cohort"], "notes": qa["notes"],
                 "timings": qa["timings"], "cpu_seconds": qa["cpu_seconds"], "splits": {}}
    for split in splits:
        sp = qa["splits"][split]
        S = sp["systems"]
        int8_view = {"splits": {split: {"systems": {**S, **{n: S[n + INT8] for n in names}}}}}
        bars = {"f32": check_listener_bars(qa, names, split), "int8": check_listener_bars(int8_view, names, split)}
        tiers: dict = {}
        print(f"\n[listen {split}] {sp['utterances']} utterances ({sp['seconds']} s), WER on "
              f"{sp['wer_scored']}, DNSMOS on {sp['dnsmos_windows']} windows per system")
        print(f"{'tier':8} {'measure':16} {'float':>26} {'int8':>26}  int8 vs float's interval")
        for s in ("input", "master"):
            print(f"{s:8} " + "; ".join(f"{m} {format_interval(S[s].get(m), fmt[m])}"
                                         for m in LISTEN_MEASURES if S[s].get(m)))
        for n in names:
            f, q = S[n], S[n + INT8]
            rows = {}
            for m in LISTEN_MEASURES:
                if m not in f or m not in q:
                    continue
                # one DNSMOS window: no interval to be beyond (None)
                b = beyond_interval(f[m], q[m], ORDER_MEASURES[m]) if f[m]["n"] > 1 else None
                rows[m] = {"f32": f[m], "int8": q[m], "beyond": b}
                print(f"{n:8} {m:16} {format_interval(f[m], fmt[m]):>26} {format_interval(q[m], fmt[m]):>26}  "
                      + {0: "inside", 1: "BETTER beyond", -1: "WORSE beyond", None: "no interval"}[b])
            worse = [m for m, r in rows.items() if (r["beyond"] or 0) < 0]
            met = {k: bars[k]["tiers_met"][n] for k in bars}
            tiers[n] = {"measures": rows, "int8_worse_beyond": worse,
                        "int8_better_beyond": [m for m, r in rows.items() if (r["beyond"] or 0) > 0],
                        "listener_bars_met": met,
                        "listener_bars": {k: bars[k]["tiers"][n] for k in bars}}
            print(f"{n:8} int8 worse beyond float's interval on: {', '.join(worse) or 'none'}; "
                  f"listener bars met float / int8: {met['f32']} / {met['int8']}")
        out["splits"][split] = {k: sp[k] for k in ("utterances", "seconds", "wer_scored", "dnsmos_windows",
                                                    "listen_utterances", "speakers_list")}
        out["splits"][split].update(systems=S, tiers=tiers, master_bars=bars["f32"]["master"],
                                    order={k: bars[k]["order_violations"] for k in bars})
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
    ap.add_argument("--listen", action="store_true",
                    help="with --cache: the QA's listener measures of the float and int8 tiers")
    ap.add_argument("--listen-max", type=int, default=None,
                    help="--listen: WER and DNSMOS on at most this many utterances per split (default all)")
    ap.add_argument("--jobs", type=int, default=2, help="--listen: QA worker processes")
    a = ap.parse_args()
    if a.listen and a.cache is None:
        ap.error("--listen needs --cache (the master's output and the cohort)")
    from voiceskin.format import load_bundle, write_bundle
    from voiceskin_tooling.quantise import quantise_bundle

    spec = load_bundle(a.bundle)
    q = quantise_bundle(spec, [t.name for t in spec.tiers])
    blobs = {"f32": a.bundle.read_bytes(), "int8": write_bundle(q)}
    res: dict = {"bundle": str(a.bundle)}
    if not a.no_speed:
        with tempfile.TemporaryDirectory() as d:
            qpath = Path(d) / "int8.vskin"
            qpath.write_bytes(blobs["int8"])
            res["speed"] = speed({"f32": a.bundle, "int8": qpath}, a.rounds, a.seconds)
    if not a.no_quality:
        res["quality"] = {sp: quality(blobs, a.cache, sp) for sp in a.splits.split(",")}
    if a.listen:
        t0 = time.time()
        res["listen"] = listen(blobs, a.cache, a.splits.split(","), a.jobs, a.listen_max)
        res["listen"]["wall_seconds"] = round(time.time() - t0, 1)
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
