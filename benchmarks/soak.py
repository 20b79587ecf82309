"""Soak test: hours of audio per tier through libvoiceskin, as fast as the CPU
allows, on several threads sharing one bundle.

    python benchmarks/soak.py [--hours-per-tier 24] [--threads 4]
                              [--rates 48000,44100,16000,96000]
                              [--max-wall-s S] [--bundle FILE.vskin] [--json OUT]

Without --bundle it packs the student family at every built-in tier preset
with random weights (exactly as benchmarks/bench_runtime.py does). One
``Bundle`` is shared by every thread; each thread owns one ``Voice`` (its
host rate from --rates in turn, 1 or 2 channels, max_block 1024) and streams
a looped speech-like signal with stretches of silence through it in random
block sizes 1..4096 (so blocks above max_block are split inside the library),
with random tier switches, mix changes and bypass toggles. The native call
runs without the GIL (cffi releases it), so threads really run in parallel.

Audio is credited to the voice's requested tier; the run stops when every
tier has --hours-per-tier of audio (or at --max-wall-s, reported as such).

Checks and figures:

* every output block is finite and within |y| <= 8 (the library's bound);
* resident memory (VmRSS) after warm-up vs at the end, and its maximum;
* no slowdown: CPU time (the calling thread's, around the library call)
  and wall time per second of audio, first tenth vs last tenth of each
  thread's audio (a tenth = a tenth of its expected share): the median over
  sampled calls of >= 256 frames (the first 256 per hundredth), each call's
  rate divided by its tier's median over the run, so a change of tier mix
  is not counted as slowing down and one preempted call does not count.

Exit status 1 when a check fails (non-finite or out-of-bound output, a
library error, RSS growth over --max-rss-growth-kib, or last/first tenth
CPU time per audio-second over --max-slowdown).
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "sdk", ROOT / "tooling", ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import numpy as np  # noqa: E402

LIMIT = 8.0     # the library's output bound (VSK_SAFE_LIMIT, +18 dBFS)
BINS = 100      # progress bins per thread (tenths = 10 bins)
MAX_BLOCK = 4096
SAMPLES = 256             # calls sampled per progress bin for the slowdown check
MIN_SAMPLE_FRAMES = 256   # smaller blocks are dominated by the per-call overhead


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _source(rate: int, channels: int, seed: int, seconds: float = 12.0) -> np.ndarray:
    """Looped input: a gliding harmonic voice with syllable-rate amplitude
    and noise, with 0.5-s stretches of silence; interleaved float32."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 110.0 + 90.0 * (0.5 + 0.5 * np.sin(2 * np.pi * 0.23 * t + seed))
    ph = 2 * np.pi * np.cumsum(f0) / rate
    kmax = max(1, min(24, int(0.45 * rate / 200.0)))
    x = sum(np.sin(k * ph) / k for k in range(1, kmax + 1))
    x = 0.12 * x * (0.55 + 0.45 * np.sin(2 * np.pi * 3.1 * t)) + 0.01 * rng.standard_normal(n)
    for s in range(int(rate * 2.0), n, int(rate * 4.0)):
        x[s:s + rate // 2] = 0.0
    x = x.astype(np.float32)
    if channels == 1:
        return x
    return np.ascontiguousarray(np.stack([x, np.roll(x, 17)], axis=1))


@dataclass
class Worker:
    index: int
    rate: int
    channels: int
    share_s: float                      # expected audio seconds of this thread
    audio_s: float = 0.0
    per_tier_s: list[float] = field(default_factory=list)
    # per progress bin and tier (the tier requested; bypass and mix do not
    # change what a call computes): audio seconds
    bin_audio_s: np.ndarray = field(default_factory=lambda: np.zeros((BINS, 1)))
    # per progress bin, the first SAMPLES calls of >= MIN_SAMPLE_FRAMES
    # frames: their tier and CPU / wall ns per audio-second (bounded memory
    # however long the soak)
    rate_tier: np.ndarray = field(default_factory=lambda: np.full((BINS, SAMPLES), -1))
    rate_cpu: np.ndarray = field(default_factory=lambda: np.zeros((BINS, SAMPLES)))
    rate_wall: np.ndarray = field(default_factory=lambda: np.zeros((BINS, SAMPLES)))
    rate_n: np.ndarray = field(default_factory=lambda: np.zeros(BINS, np.int64))
    calls: int = 0
    switches: int = 0
    bad_blocks: int = 0
    errors: int = 0
    peak: float = 0.0
    first_bad: str = ""


def _run_worker(w: Worker, bundle: Any, stop: threading.Event, seed: int,
                switch_prob: float, totals: Any) -> None:
    import voiceskin
    from voiceskin._ffi import ffi, get_lib

    lib = get_lib()
    rng = np.random.default_rng(seed)
    ntier = len(bundle.tiers)
    v = voiceskin.Voice(bundle, sample_rate=w.rate, channels=w.channels, max_block=1024,
                        tier=int(rng.integers(0, ntier)))
    src = _source(w.rate, w.channels, seed)
    frames_src = src.shape[0]
    # the source twice in a row, so any block up to MAX_BLOCK is contiguous
    src2 = np.ascontiguousarray(np.concatenate([src, src[:MAX_BLOCK]]))
    out = np.empty((MAX_BLOCK, w.channels) if w.channels > 1 else MAX_BLOCK, np.float32)
    p_in = ffi.cast("float *", ffi.from_buffer("float[]", src2))
    p_out = ffi.cast("float *", ffi.from_buffer("float[]", out))
    handle = v._live
    ch = w.channels
    pos = 0
    tier = v.tier
    cpu = time.thread_time_ns
    wall = time.perf_counter_ns
    w.per_tier_s = [0.0] * ntier
    w.bin_audio_s = np.zeros((BINS, ntier))
    while not stop.is_set():
        n = int(rng.integers(1, MAX_BLOCK + 1))
        r = float(rng.random())
        if r < switch_prob:
            # half the time to the tier with the least audio so far (so every
            # tier gets its share), else to any tier
            tot = totals()
            tier = int(np.argmin(tot)) if rng.random() < 0.5 else int(rng.integers(0, ntier))
            v.tier = tier
            w.switches += 1
        elif r < switch_prob + 0.004:
            v.mix = float(rng.choice([0.0, 0.3, 0.7, 1.0, float(rng.random())]))
        elif r < switch_prob + 0.006:
            v.bypass = not v.bypass
        c0, t0 = cpu(), wall()
        st = lib.vsk_voice_process(handle, p_in + pos * ch, p_out, n)
        t1, c1 = wall(), cpu()
        w.calls += 1
        if st != 0:
            w.errors += 1
            if not w.first_bad:
                w.first_bad = f"status {st} at call {w.calls}"
        y = out[:n]
        m = float(np.max(np.abs(y)))
        if not (m <= LIMIT):            # NaN-aware
            w.bad_blocks += 1
            if not w.first_bad:
                w.first_bad = f"block max {m} at call {w.calls}"
        elif m > w.peak:
            w.peak = m
        sec = n / w.rate
        b = min(BINS - 1, int(BINS * w.audio_s / w.share_s))
        w.bin_audio_s[b, tier] += sec
        j = w.rate_n[b]
        if n >= MIN_SAMPLE_FRAMES and j < SAMPLES:
            w.rate_tier[b, j], w.rate_cpu[b, j], w.rate_wall[b, j] = tier, (c1 - c0) / sec, (t1 - t0) / sec
            w.rate_n[b] = j + 1
        w.audio_s += sec
        w.per_tier_s[tier] += sec
        pos += n
        if pos >= frames_src:
            pos -= frames_src
    v.close()


def build_family_bundle() -> bytes:
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import bench_runtime
    return bench_runtime.build_bundle()


def soak(hours_per_tier: float, threads: int = 4, rates: list[int] | None = None,
         max_wall_s: float | None = None, bundle_bytes: bytes | None = None,
         seed: int = 0, report_every_s: float = 60.0, verbose: bool = True,
         switch_prob: float = 0.002) -> dict[str, Any]:
    """Runs the soak; returns the results as a dict (see module docstring)."""
    import voiceskin

    rates = rates or [48000, 44100, 16000, 96000]
    data = bundle_bytes if bundle_bytes is not None else build_family_bundle()
    bundle = voiceskin.Bundle.from_bytes(data)
    ntier = len(bundle.tiers)
    target_s = hours_per_tier * 3600.0
    share = target_s * ntier / threads
    workers = [Worker(i, rates[i % len(rates)], 1 + (i % 2), share) for i in range(threads)]
    stop = threading.Event()

    def tier_totals() -> list[float]:
        tot = [0.0] * ntier
        for w in workers:
            for k, s in enumerate(list(w.per_tier_s)):
                tot[k] += s
        return tot

    ths = [threading.Thread(target=_run_worker, args=(w, bundle, stop, seed * 1000 + w.index,
                                                      switch_prob, tier_totals),
                            daemon=True) for w in workers]
    t_start = time.monotonic()
    for t in ths:
        t.start()

    def log(msg: str) -> None:
        if verbose:
            print(msg, flush=True)

    # warm-up: the first 1 % of the audio (at least 10 s per thread)
    warm_s = max(10.0, 0.01 * share)
    while min(w.audio_s for w in workers) < warm_s and not stop.is_set():
        time.sleep(0.05)
        if max_wall_s is not None and time.monotonic() - t_start > max_wall_s:
            break
    rss_start = _rss_kib()
    rss_max = rss_start
    rss_trace = [(round(time.monotonic() - t_start, 1), rss_start)]
    log(f"soak: {ntier} tiers x {hours_per_tier:g} h, {threads} threads at "
        f"{[w.rate for w in workers]} Hz; RSS after warm-up {rss_start} KiB")
    last_report = time.monotonic()
    stopped_by = "target"
    while True:
        time.sleep(0.2)
        rss = _rss_kib()
        rss_max = max(rss_max, rss)
        tot = tier_totals()
        now = time.monotonic()
        if min(tot) >= target_s:
            break
        if max_wall_s is not None and now - t_start >= max_wall_s:
            stopped_by = "max_wall_s"
            break
        if any(w.bad_blocks or w.errors for w in workers):
            stopped_by = "failure"
            break
        if now - last_report >= report_every_s:
            last_report = now
            rss_trace.append((round(now - t_start, 1), rss))
            log(f"  {now - t_start:8.0f} s wall: audio per tier (h) "
                f"{[round(s / 3600, 3) for s in tot]}, RSS {rss} KiB")
    rss_end = _rss_kib()            # voices still open and streaming
    wall_s = time.monotonic() - t_start
    rss_trace.append((round(wall_s, 1), rss_end))
    stop.set()
    for t in ths:
        t.join()
    tot = tier_totals()

    def last_over_first(w: Worker, rates: np.ndarray, k: int, filled: int) -> tuple[float, float, float]:
        """(first, last, last / first) in us per audio-second of the first and
        last tenth: the median over each tenth's sampled calls (robust to a
        preempted or page-faulting call), every call's rate first divided by
        its tier's median over the whole run, so a change of tier mix (a
        tenth sees one or two tiers) is not a slowdown; first and last are
        those relative medians times the run's overall median rate."""
        used = w.rate_tier[:filled] >= 0
        tiers, r = w.rate_tier[:filled][used], rates[:filled][used]
        if len(r) == 0:
            return float("nan"), float("nan"), float("nan")
        rel = np.empty_like(r)
        for t in np.unique(tiers):
            rel[tiers == t] = r[tiers == t] / np.median(r[tiers == t])
        bins = np.nonzero(used)[0]
        first, last = rel[bins < k], rel[bins >= filled - k]
        if len(first) < 5 or len(last) < 5:
            return float("nan"), float("nan"), float("nan")
        scale = float(np.median(r)) / 1e3
        f, l_ = float(np.median(first)), float(np.median(last))
        return f * scale, l_ * scale, l_ / f

    # tenths over the audio each thread actually streamed
    per_thread = []
    for w in workers:
        filled = max(1, min(BINS, int(np.ceil(BINS * w.audio_s / w.share_s))))
        k = max(1, filled // 10)
        first_cpu, last_cpu, cpu_ratio = last_over_first(w, w.rate_cpu, k, filled)
        first_wall, last_wall, wall_ratio = last_over_first(w, w.rate_wall, k, filled)
        per_thread.append({
            "rate": w.rate, "channels": w.channels, "audio_h": round(w.audio_s / 3600, 4),
            "calls": w.calls, "tier_switches": w.switches, "peak": round(w.peak, 4),
            "bad_blocks": w.bad_blocks, "errors": w.errors, "first_bad": w.first_bad,
            "cpu_us_per_audio_s_first_tenth": round(first_cpu, 2),
            "cpu_us_per_audio_s_last_tenth": round(last_cpu, 2),
            "cpu_last_over_first": round(cpu_ratio, 3),
            "wall_us_per_audio_s_first_tenth": round(first_wall, 2),
            "wall_us_per_audio_s_last_tenth": round(last_wall, 2),
            "wall_last_over_first": round(wall_ratio, 3),
        })
    res = {
        "library": voiceskin.library_version(),
        "tiers": [t.name for t in bundle.tiers],
        "hours_per_tier_target": hours_per_tier,
        "audio_h_per_tier": [round(s / 3600, 4) for s in tot],
        "audio_h_total": round(sum(tot) / 3600, 4),
        "stopped_by": stopped_by,
        "wall_s": round(wall_s, 1),
        "audio_x_realtime": round(sum(tot) / wall_s, 1),
        "rss_kib_after_warmup": rss_start,
        "rss_kib_end": rss_end,
        "rss_kib_after_close": _rss_kib(),
        "rss_kib_max": rss_max,
        "rss_trace": rss_trace,
        "bad_blocks": sum(w.bad_blocks for w in workers),
        "errors": sum(w.errors for w in workers),
        "threads": per_thread,
        "cpu_last_over_first_max": max(t["cpu_last_over_first"] for t in per_thread),
    }
    bundle.close()
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours-per-tier", type=float, default=24.0)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--rates", default="48000,44100,16000,96000",
                    help="host rates, one per thread in turn")
    ap.add_argument("--max-wall-s", type=float, default=None,
                    help="stop after this many seconds even if the target is not reached")
    ap.add_argument("--bundle", type=Path, help="a .vskin (default: random-weight family)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--switch-prob", type=float, default=0.002,
                    help="probability of a tier switch request per block")
    ap.add_argument("--report-every-s", type=float, default=60.0)
    ap.add_argument("--max-rss-growth-kib", type=int, default=1024)
    ap.add_argument("--max-slowdown", type=float, default=1.25,
                    help="fail if last/first tenth CPU time per audio-second exceeds this")
    ap.add_argument("--json", type=Path, help="write the results here")
    a = ap.parse_args()
    res = soak(a.hours_per_tier, a.threads, [int(r) for r in a.rates.split(",")],
               a.max_wall_s, a.bundle.read_bytes() if a.bundle else None, a.seed,
               a.report_every_s, switch_prob=a.switch_prob)
    text = json.dumps(res, indent=1)
    print(text)
    if a.json:
        a.json.write_text(text + "\n")
    growth = res["rss_kib_end"] - res["rss_kib_after_warmup"]
    ok = (res["bad_blocks"] == 0 and res["errors"] == 0 and growth <= a.max_rss_growth_kib
          and res["cpu_last_over_first_max"] <= a.max_slowdown)
    print(f"soak: {res['audio_h_total']} h of audio in {res['wall_s']} s "
          f"({res['audio_x_realtime']}x real time), per tier {res['audio_h_per_tier']} h "
          f"({res['stopped_by']}); RSS {res['rss_kib_after_warmup']} -> {res['rss_kib_end']} KiB "
          f"(max {res['rss_kib_max']}); CPU per audio-second last/first tenth <= "
          f"{res['cpu_last_over_first_max']}; bad blocks {res['bad_blocks']}, errors "
          f"{res['errors']}: {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
