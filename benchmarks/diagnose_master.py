"""Diagnose a WORLD master stage by stage: which stage loses the words, the
naturalness, the identity?

On a fixed small set of English utterances of TRAIN and VALIDATION speakers
(plus two non-English validation voices for DNSMOS / similarity only; never
the test split), runs a list of *systems* — the input, plain WORLD
resyntheses (no change, F0 x1.6, envelope warp x1.15, both), and masters
with one stage switched off or replaced — and measures per system:

* ``wer``: pocketsphinx (en-us model inside its wheel) against the known
  sentence, English utterances only (errors / reference words, pooled);
* ``dnsmos_ovrl``: DNSMOS P.835 OVRL (speechmos), mean over utterances;
* ``sim``: resemblyzer cosine similarity to the target's mean embedding
  (all of data/corpus/target/slt), mean over utterances;
* ``margin``: ``sim`` minus the highest similarity to a cohort of other
  women of the corpus (cs_dita, fi_lj, ca_ona, it_lp, esp_gb_f2,
  esp_rp_f4; each their mean embedding), per utterance, then averaged;
* ``rank``: mean rank of the target among target + cohort (1 = best).

Uses ``voiceskin_tooling.intelligibility`` / ``naturalness`` / ``identity``
when they exist, else the private wrappers below (same libraries).

    nice .venv/bin/python benchmarks/diagnose_master.py --systems all --json out.json

``--systems`` takes a comma list of names from ``SYSTEMS`` (or ``all``,
``stages``, ``candidates``). Measured results: ``docs/experiments.md``,
``benchmarks/results/diagnose_master.json``.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
SR = 16000
HOP = 64

# fixed utterance set: (speaker, file index); train + validation only
TRAIN_EN = [("awb", 0), ("awb", 5), ("kal", 2), ("ked", 3), ("esp_us_m3", 1), ("esp_gb_f2", 4)]
VALID_EN = [("rms", 0), ("rms", 3), ("rms", 6), ("rms_hi", 1), ("rms_hi", 4), ("esp_car_f3", 0)]
VALID_OTHER = [("it_lp", 0), ("fi_mv", 2)]
COHORT = ["cs_dita", "fi_lj", "ca_ona", "it_lp", "esp_gb_f2", "esp_rp_f4"]


# ------------------------------------------------------------------ corpus
def _read(path: Path) -> np.ndarray:
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if sr != SR:
        import soxr

        x = soxr.resample(x, sr, SR).astype(np.float32)
    return x


def _sentences() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    lang = None
    for line in (CORPUS / "sentences.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            lang = m.group(1)
            out[lang] = []
        elif lang:
            out[lang].append(line)
    return out


def utterances() -> list[dict[str, Any]]:
    meta = json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))
    sents = _sentences()
    out = []
    for split, items in (("train", TRAIN_EN), ("validation", VALID_EN), ("validation", VALID_OTHER)):
        for spk, i in items:
            info = meta["speakers"][spk]
            files = sorted((CORPUS / meta["inputs"] / spk).glob("*.flac"))
            lang = info["language"]
            text = sents[lang][info["sentences"][i]] if lang == "en" else None
            out.append({"speaker": spk, "split": split, "file": str(files[i].relative_to(ROOT)),
                        "audio": _read(files[i]), "text": text})
    return out


def target_refs() -> list[np.ndarray]:
    return [_read(f) for f in sorted((CORPUS / "target" / "slt").glob("*.flac"))]


# ------------------------------------------------------------------ measures
_words = re.compile(r"[a-z']+")


def _norm(s: str) -> list[str]:
    return _words.findall(s.lower().replace("-", " "))


def word_errors(ref: str, hyp: str) -> tuple[int, int]:
    r, h = _norm(ref), _norm(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)], len(r)


class Measures:
    """H4's QA measures (voiceskin_tooling.intelligibility / naturalness /
    identity) when importable, else private wrappers of the same libraries."""

    def __init__(self) -> None:
        self._dec = None
        self._enc = None
        self._dnsmos = None
        self.backend = {}
        for key, mod in (("wer", "intelligibility"), ("dnsmos", "naturalness"), ("identity", "identity")):
            try:
                __import__(f"voiceskin_tooling.{mod}")
                self.backend[key] = f"voiceskin_tooling.{mod}"
            except Exception:  # noqa: BLE001
                self.backend[key] = "private wrapper"

    # WER
    def transcribe(self, x: np.ndarray) -> str:
        if self.backend["wer"] != "private wrapper":
            from voiceskin_tooling.intelligibility import transcribe

            return transcribe(x, SR)
        if self._dec is None:
            from pocketsphinx import Decoder

            self._dec = Decoder(samprate=SR, loglevel="FATAL")
        pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes()
        self._dec.start_utt()
        self._dec.process_raw(pcm, full_utt=True)
        self._dec.end_utt()
        h = self._dec.hyp()
        return h.hypstr if h is not None else ""

    def word_errors(self, ref: str, hyp: str) -> tuple[int, int]:
        if self.backend["wer"] != "private wrapper":
            from voiceskin_tooling.intelligibility import word_errors as we

            return we(ref, hyp)
        return word_errors(ref, hyp)

    # DNSMOS
    def dnsmos(self, x: np.ndarray) -> dict[str, float]:
        if self.backend["dnsmos"] != "private wrapper":
            from voiceskin_tooling.naturalness import dnsmos

            r = dnsmos(x, SR)
            return {k.replace("dnsmos_", "") + "_mos": v for k, v in r.items()}
        if self._dnsmos is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from speechmos import dnsmos

            self._dnsmos = dnsmos
        y = np.clip(x.astype(np.float64), -1, 1)
        r = self._dnsmos.run(y, sr=SR)
        return {k: float(r[k]) for k in ("ovrl_mos", "sig_mos", "bak_mos", "p808_mos")}

    # identity (resemblyzer; unit-norm embeddings, so cosine = dot)
    def embed(self, x: np.ndarray) -> np.ndarray:
        if self._enc is None:
            if self.backend["identity"] != "private wrapper":
                from voiceskin_tooling.identity import SpeakerEncoder

                enc = SpeakerEncoder()
                self._enc = lambda y: enc.embed(y, SR)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    from resemblyzer import VoiceEncoder, preprocess_wav

                ve = VoiceEncoder("cpu", verbose=False)
                self._enc = lambda y: ve.embed_utterance(preprocess_wav(y, source_sr=SR))
        e = np.asarray(self._enc(x), np.float64)
        return e / np.linalg.norm(e)

    def speaker(self, xs: list[np.ndarray]) -> np.ndarray:
        e = np.mean([self.embed(x) for x in xs], axis=0)
        return e / np.linalg.norm(e)


# ------------------------------------------------------------------ systems
def _pw() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyworld

    return pyworld


def plain_world(f0_scale: float = 1.0, warp: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """Offline WORLD (harvest, CheapTrick, D4C) analysis-resynthesis with F0
    scaled and envelope + aperiodicity warped S(f/warp)."""
    from voiceskin_tooling.masters.world import _warp_rows

    def run(x: np.ndarray) -> np.ndarray:
        pw = _pw()
        xd = x.astype(np.float64)
        fp = 1000.0 * HOP / SR
        f0, t = pw.harvest(xd, SR, f0_floor=50.0, f0_ceil=800.0, frame_period=fp)
        sp = pw.cheaptrick(xd, f0, t, SR)
        ap = pw.d4c(xd, f0, t, SR)
        if warp != 1.0:
            sp = np.exp(_warp_rows(np.log(sp + 1e-16), warp))
            ap = _warp_rows(ap, warp)
        y = pw.synthesize(f0 * f0_scale, np.ascontiguousarray(sp), np.ascontiguousarray(ap), SR, fp)
        y = y[: len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))
        return np.clip(y, -1, 1).astype(np.float32)

    return run


def master_system(name: str, **settings: Any) -> Callable[[list[np.ndarray]], Callable[[np.ndarray], np.ndarray]]:
    """factory(target refs) -> convert(x)"""

    def make(refs: list[np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
        from voiceskin_tooling.masters import get_master

        m = get_master(name, **settings)
        key = (name, json.dumps({k: v for k, v in settings.items() if k in _FIT_KEYS}, sort_keys=True))
        if key in _FIT_CACHE:
            m.load_state_dict(_FIT_CACHE[key])
        else:
            m.fit(refs, SR)
            _FIT_CACHE[key] = m.state_dict()
        return lambda x: m.convert(x, SR).audio

    return make


# settings that change what fit() learns (others only change convert)
_FIT_KEYS = {"f0_method", "f0_floor", "f0_ceil", "yin_frame", "yin_threshold", "vthreshold",
             "yin_offset", "envelope", "knn_max_frames", "knn_content", "warp_range", "sample_rate", "hop"}
_FIT_CACHE: dict[Any, Any] = {}


def _const(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[list[np.ndarray]], Callable[[np.ndarray], np.ndarray]]:
    return lambda refs: fn


SYSTEMS: dict[str, tuple[str, Callable[..., Any]]] = {
    "input": ("the input itself", _const(lambda x: x)),
    "resynth": ("plain WORLD (harvest) analysis-resynthesis, no change", _const(plain_world())),
    "f0x1.6": ("plain WORLD, F0 x1.6 only", _const(plain_world(1.6, 1.0))),
    "warp1.15": ("plain WORLD, envelope warp x1.15 only", _const(plain_world(1.0, 1.15))),
    "f0x1.6+warp1.15": ("plain WORLD, F0 x1.6 and warp x1.15", _const(plain_world(1.6, 1.15))),
    "world": ("the old master, default settings (demo voice)", master_system("world")),
    # one stage off / replaced at a time
    "world:f0=harvest": ("old master, F0 by offline harvest (not followable)",
                         master_system("world", f0_method="harvest")),
    "world:f0=dio": ("old master, F0 by offline dio", master_system("world", f0_method="dio")),
    "world:nowarp": ("old master, no warp/EQ (F0 map + ap only)", master_system("world", warp_mode="none")),
    "world:fixedwarp": ("old master, fixed warp (population prior)", master_system("world", warp_mode="fixed")),
    "world:noeq": ("old master, EQ off", master_system("world", eq_strength=0.0)),
    "world:noap": ("old master, own aperiodicity (ap_mix 0)", master_system("world", ap_mix=0.0)),
    "world:nolevel": ("old master, no per-frame level", master_system("world", level_mode="none")),
    # the new master (masters/world2.py) and its variants
    "world2:warp+off2+wide": ("world2 with the old warp+EQ envelope and range, YIN read 2 frames later",
                         master_system("world2", envelope="warp", yin_offset=2, warp_range=(0.7, 1.45))),
    "world2": ("world2, shipped defaults", master_system("world2")),
    "world2:off0": ("world2, yin_offset 0 (the default before students took the offset)",
                    master_system("world2", yin_offset=0)),
    "world2:knn1": ("world2, kNN envelope only (blend 1)", master_system("world2", knn_blend=1.0)),
    "world2:split2500": ("world2, warp+EQ below 2.5 kHz, kNN only above",
                         master_system("world2", knn_blend=1.0, knn_blend_low=0.0, knn_split_hz=2500.0)),
    "world2:split2500h.5": ("world2, warp+EQ below 2.5 kHz, kNN blend 0.5 above",
                            master_system("world2", knn_blend=0.5, knn_blend_low=0.0, knn_split_hz=2500.0)),
    "world2:split1500": ("world2, warp+EQ below 1.5 kHz, kNN only above",
                         master_system("world2", knn_blend=1.0, knn_blend_low=0.0, knn_split_hz=1500.0)),
    "world2:split1000l.5": ("world2, kNN blend 0.5 below 1 kHz, kNN only above",
                            master_system("world2", knn_blend=1.0, knn_blend_low=0.5, knn_split_hz=1000.0)),
    "world2:cont1": ("world2, kNN picks continue the target's runs (continuity 1)",
                     master_system("world2", knn_continuity=1.0)),
    "world2:knn1+cont1": ("world2, kNN only, picks continue the target's runs (continuity 1)",
                          master_system("world2", knn_blend=1.0, knn_continuity=1.0)),
    "world2:knn1+cont3": ("world2, kNN only, picks continue the target's runs (continuity 3)",
                          master_system("world2", knn_blend=1.0, knn_continuity=3.0)),
    "world2:knn1+cont.3": ("world2, kNN only, picks continue the target's runs (continuity 0.3)",
                           master_system("world2", knn_blend=1.0, knn_continuity=0.3)),
    "world2:inv2500+cont1": ("world2, kNN only below 2.5 kHz (picks continue runs), warp+EQ above",
                             master_system("world2", knn_blend=0.0, knn_blend_low=1.0, knn_split_hz=2500.0,
                                           knn_continuity=1.0)),
    "world2:b.65+cont1": ("world2, kNN blend 0.65, continuity 1",
                          master_system("world2", knn_blend=0.65, knn_continuity=1.0)),
    "world2:bands12+cont1": ("world2, kNN blend 0.5 on 12 bands, continuity 1",
                             master_system("world2", knn_bands=12, knn_continuity=1.0)),
    "world2:b.65+bands12+cont1": ("world2, kNN blend 0.65 on 12 bands, continuity 1",
                                  master_system("world2", knn_blend=0.65, knn_bands=12, knn_continuity=1.0)),
    "world2:knn1+bands12+cont1": ("world2, kNN only on 12 bands, continuity 1",
                                  master_system("world2", knn_blend=1.0, knn_bands=12, knn_continuity=1.0)),
    "world2:cont.6": ("world2, kNN blend 0.5, continuity 0.6",
                      master_system("world2", knn_continuity=0.6)),
    "world2:low.5+cont1": ("world2, kNN blend 0.5 below 2.5 kHz (continuity 1), warp+EQ above",
                           master_system("world2", knn_blend=0.0, knn_blend_low=0.5, knn_split_hz=2500.0,
                                         knn_continuity=1.0)),
    "world2:low.75+cont1": ("world2, kNN blend 0.75 below 2.5 kHz (continuity 1), warp+EQ above",
                            master_system("world2", knn_blend=0.0, knn_blend_low=0.75, knn_split_hz=2500.0,
                                          knn_continuity=1.0)),
    "world2:b.75+cont1": ("world2, kNN blend 0.75, continuity 1",
                          master_system("world2", knn_blend=0.75, knn_continuity=1.0)),
    "world2:inv2500+c3": ("world2, kNN only below 2.5 kHz, content key weight 3",
                          master_system("world2", knn_blend=0.0, knn_blend_low=1.0, knn_split_hz=2500.0, knn_content=3.0)),
    "world2:inv2500": ("world2, kNN only below 2.5 kHz, warp+EQ above",
                       master_system("world2", knn_blend=0.0, knn_blend_low=1.0, knn_split_hz=2500.0)),
    "world2:knn+off2+wide": ("world2 kNN only, yin_offset 2, old warp range",
                             master_system("world2", knn_blend=1.0, yin_offset=2, warp_range=(0.7, 1.45))),
    "world2:knn.5+off2+wide": ("world2 kNN blend 0.5, yin_offset 2, old warp range",
                               master_system("world2", knn_blend=0.5, yin_offset=2, warp_range=(0.7, 1.45))),
    "world:range1.2": ("old master, warp_range (0.8, 1.2)", master_system("world", warp_range=(0.8, 1.2))),
    "world2:r1.2": ("world2 warp+EQ, yin_offset 0, warp_range (0.8, 1.2)",
                    master_system("world2", envelope="warp", yin_offset=0, warp_range=(0.8, 1.2))),
    "world2:knn.5+r1.2": ("world2 kNN blend 0.5, yin_offset 0, warp_range (0.8, 1.2)",
                          master_system("world2", knn_blend=0.5, yin_offset=0, warp_range=(0.8, 1.2))),
}


# world2 with the phone content key (docs/experiments.md, "A content key for the picks"):
# name -> settings; the description is read from the settings
CONTENT_VARIANTS: dict[str, dict[str, float]] = {
    "world2:c1": {"knn_content": 1.0},
    "world2:knn1+c1": {"knn_blend": 1.0, "knn_content": 1.0},
    "world2:knn1+c3": {"knn_blend": 1.0, "knn_content": 3.0},
    "world2:knn1+c10": {"knn_blend": 1.0, "knn_content": 10.0},
    "world2:c3": {"knn_content": 3.0},
    "world2:b.65+c3": {"knn_blend": 0.65, "knn_content": 3.0},
    "world2:b.75+c3": {"knn_blend": 0.75, "knn_content": 3.0},
    "world2:b.75+c3+cont1": {"knn_blend": 0.75, "knn_content": 3.0, "knn_continuity": 1.0},
    "world2:knn1+c3+cont1": {"knn_blend": 1.0, "knn_content": 3.0, "knn_continuity": 1.0},
    "world2:b.65+c3+cont1": {"knn_blend": 0.65, "knn_content": 3.0, "knn_continuity": 1.0},
    "world2:b.65+c3+cont.5": {"knn_blend": 0.65, "knn_content": 3.0, "knn_continuity": 0.5},
    "world2:b.6+c3+cont1": {"knn_blend": 0.6, "knn_content": 3.0, "knn_continuity": 1.0},
    "world2:b.65+c1": {"knn_blend": 0.65, "knn_content": 1.0},
    "world2:b.65+c3+s1": {"knn_blend": 0.65, "knn_content": 3.0, "knn_smooth": 1.0},
    "world2:b.65+c3+k8": {"knn_blend": 0.65, "knn_content": 3.0, "knn_k": 8},
    "world2:b.75+c3+k8+cont1": {"knn_blend": 0.75, "knn_content": 3.0, "knn_k": 8, "knn_continuity": 1.0},
    "world2:b.75+c3+s1": {"knn_blend": 0.75, "knn_content": 3.0, "knn_smooth": 1.0},
    "world2:b.65+c3+s2": {"knn_blend": 0.65, "knn_content": 3.0, "knn_smooth": 2.0},
    "world2:knn1+c3+s1": {"knn_blend": 1.0, "knn_content": 3.0, "knn_smooth": 1.0},
}


def _describe_content_variant(s: dict[str, float]) -> str:
    blend = s.get("knn_blend", 0.5)
    parts = ["world2", "kNN only" if blend == 1.0 else f"kNN {blend:g}", f"content key weight {s['knn_content']:g}"]
    if "knn_k" in s:
        parts.append(f"k {s['knn_k']:g}")
    if "knn_continuity" in s:
        parts.append(f"continuity {s['knn_continuity']:g}")
    if "knn_smooth" in s:
        n = s["knn_smooth"]
        parts.append(f"pick smoothing {n:g} frame{'' if n == 1 else 's'}")
    return ", ".join(parts)


SYSTEMS.update({name: (_describe_content_variant(s), master_system("world2", **s))
                for name, s in CONTENT_VARIANTS.items()})


def register(name: str, desc: str, make: Callable[..., Any]) -> None:
    SYSTEMS[name] = (desc, make)


GROUPS = {
    "stages": ["input", "resynth", "f0x1.6", "warp1.15", "f0x1.6+warp1.15", "world", "world:f0=harvest",
               "world:f0=dio", "world:nowarp", "world:fixedwarp", "world:noeq", "world:noap", "world:nolevel"],
    "candidates": ["world", "world2:r1.2", "world2:knn+off2+wide", "world2:knn.5+off2+wide", "world2",
                   "world2:off0"],
}


# ------------------------------------------------------------------ run
def evaluate(systems: list[str], utts: list[dict[str, Any]], refs: list[np.ndarray], meas: Measures,
             save_dir: Path | None = None, log: Callable[[str], None] = print,
             on_system: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    tgt = meas.speaker(refs)
    cohort = {}
    meta = json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))
    for spk in COHORT:
        files = sorted((CORPUS / meta["inputs"] / spk).glob("*.flac"))
        cohort[spk] = meas.speaker([_read(f) for f in files])
    C = np.stack([cohort[s] for s in COHORT])
    results: dict[str, Any] = {}
    for name in systems:
        desc, make = SYSTEMS[name]
        t0 = time.perf_counter()
        conv = make(refs)
        rows, outs = [], []
        for u in utts:
            y = np.asarray(conv(u["audio"]), dtype=np.float32)
            outs.append(y)
            e = meas.embed(y)
            sim = float(e @ tgt)
            cs = C @ e
            row = {"speaker": u["speaker"], "split": u["split"], "file": u["file"], "sim": sim,
                   "margin": float(sim - cs.max()), "rank": int(1 + np.sum(cs > sim)),
                   "nearest_other": COHORT[int(np.argmax(cs))],
                   "rms_db": float(10 * np.log10(np.mean(y.astype(np.float64) ** 2) + 1e-12))}
            if u["text"]:
                hyp = meas.transcribe(y)
                err, n = meas.word_errors(u["text"], hyp)
                row.update({"hyp": hyp, "errors": err, "words": n})
            rows.append(row)
            if save_dir is not None:
                import soundfile as sf

                d = save_dir / name.replace(":", "_").replace("=", "-")
                d.mkdir(parents=True, exist_ok=True)
                sf.write(str(d / Path(u["file"]).name.replace(".flac", ".wav")), y, SR)
        # DNSMOS scores 9.01 s windows (shorter clips are tiled to 9 s): score
        # runs of consecutive utterances of one split joined to >= 9 s, each
        # utterance gets its run's score (3x fewer model calls on this CPU)
        i = 0
        while i < len(utts):
            j, tot = i, 0
            while j < len(utts) and utts[j]["split"] == utts[i]["split"] and tot < 9.0 * SR:
                tot += len(outs[j])
                j += 1
            gap = np.zeros(int(0.1 * SR), np.float32)
            clip = np.concatenate([np.concatenate([outs[k], gap]) for k in range(i, j)])
            mos = meas.dnsmos(clip)
            for k in range(i, j):
                rows[k].update({f"dnsmos_{key.split('_')[0]}": v for key, v in mos.items()})
                rows[k]["dnsmos_group"] = i
            i = j
        results[name] = {"description": desc, "utterances": rows, "seconds": time.perf_counter() - t0,
                         "summary": summarise(rows)}
        log(fmt_row(name, results[name]["summary"]))
        if on_system is not None:
            on_system(results)
    return results


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split in ("train", "validation", "all"):
        sel = [r for r in rows if split == "all" or r["split"] == split]
        en = [r for r in sel if "errors" in r]
        out[split] = {
            "n": len(sel), "n_wer": len(en),
            "wer": sum(r["errors"] for r in en) / max(1, sum(r["words"] for r in en)) if en else None,
            "dnsmos_ovrl": float(np.mean([r["dnsmos_ovrl"] for r in sel])),
            "dnsmos_sig": float(np.mean([r["dnsmos_sig"] for r in sel])),
            "dnsmos_bak": float(np.mean([r["dnsmos_bak"] for r in sel])),
            "sim": float(np.mean([r["sim"] for r in sel])),
            "margin": float(np.mean([r["margin"] for r in sel])),
            "rank": float(np.mean([r["rank"] for r in sel])),
        }
    return out


HEADER = (f"{'system':26s} | {'WER tr':>6s} {'WER va':>6s} | {'OVRL tr':>7s} {'OVRL va':>7s} | "
          f"{'sim tr':>6s} {'sim va':>6s} | {'marg tr':>7s} {'marg va':>7s} | {'rank va':>7s}")


def fmt_row(name: str, s: dict[str, Any]) -> str:
    tr, va = s["train"], s["validation"]
    return (f"{name:26s} | {tr['wer']:6.3f} {va['wer']:6.3f} | {tr['dnsmos_ovrl']:7.3f} {va['dnsmos_ovrl']:7.3f} | "
            f"{tr['sim']:6.3f} {va['sim']:6.3f} | {tr['margin']:+7.3f} {va['margin']:+7.3f} | {va['rank']:7.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--systems", default="stages")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--save-audio", default=None, help="folder for the converted wavs")
    a = ap.parse_args(argv)
    names: list[str] = []
    for part in a.systems.split(","):
        if part == "all":
            names += list(SYSTEMS)
        elif part in GROUPS:
            names += GROUPS[part]
        else:
            names.append(part)
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        print(f"unknown systems {unknown}; known: {list(SYSTEMS)}", file=sys.stderr)
        return 2
    utts, refs, meas = utterances(), target_refs(), Measures()
    print(f"{len(utts)} utterances ({sum(u['text'] is not None for u in utts)} English); backends {meas.backend}")
    print(HEADER)
    def dump(res: dict[str, Any]) -> None:
        if not a.json:
            return
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"utterances": [{k: u[k] for k in ("speaker", "split", "file", "text")}
                                                           for u in utts], "cohort": COHORT,
                                            "backends": meas.backend, "systems": res}, indent=1))

    evaluate(names, utts, refs, meas, Path(a.save_audio) if a.save_audio else None, on_system=dump)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
