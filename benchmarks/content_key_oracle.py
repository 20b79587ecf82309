"""How much would a perfect content key buy the content-key `world2` master?

For each English utterance of ``diagnose_master``'s fixed set (train and
validation voices only, never the test split), slt (the corpus's festival
HTS voice, the target) reads the same sentence; the rendering is aligned to
the input by DTW (librosa, on 19 MFCCs and the phone posteriors), and the
master converts the input with its picks keyed five ways:

* ``own``: as shipped, the input frame's own key (its normalised envelope
  shape and the phone classifier's content key);
* ``oracle key``: the key of slt's aligned frame, computed as the master
  computes any query (the picks still come from the fitted pool of slt's
  16 corpus files, so this is what a perfect key could reach);
* ``oracle envelope half`` / ``oracle content half``: one half of the
  oracle key (slt's aligned envelope shape, or its aligned content key),
  the other half the input's own;
* ``slt input``: the rendering itself as the input (slt's own timing and
  F0 too: the ceiling of picks from that pool).

Each at ``knn_blend`` 0.65 (the content-key master's setting) and 1.0 (kNN
only). Scored by ``diagnose_master.evaluate`` (pocketsphinx WER, resemblyzer
similarity and margin over the demo cohort, DNSMOS OVRL on runs of
utterances joined to 9 s). Needs festival with ``festvox-us-slt-hts`` (the corpus's
synthesizers, ``scripts/setup.sh``). About 10 minutes on 2 cores.

    .venv/bin/python benchmarks/content_key_oracle.py --json out.json

Measured results: docs/experiments.md, "How good could a content key be?".
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import diagnose_master as dm  # noqa: E402

from voiceskin_tooling import corpus_gen  # noqa: E402
from voiceskin_tooling.masters import phones  # noqa: E402
from voiceskin_tooling.masters.world2 import World2Master  # noqa: E402

#: the content-key master (voices/demo.toml's comment, docs/experiments.md)
SETTINGS = dict(knn_content=3.0, knn_smooth=1.0)
MODES = ("own", "oracle key", "oracle envelope half", "oracle content half", "slt input")


def _digest(x: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(x, np.float32).tobytes()).hexdigest()


class KeyedMaster(World2Master):
    """``world2`` whose search keys go through ``keys_for(audio, own keys)``."""

    keys_for: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    def _query(self, x, lsp, voiced, alphas, means, info):  # type: ignore[no-untyped-def]
        q = super()._query(x, lsp, voiced, alphas, means, info)
        return q if self.keys_for is None else self.keys_for(x, q)


def alignment(x: np.ndarray, y: np.ndarray, model: phones.PhoneModel) -> np.ndarray:
    """For each master frame of ``x``, the DTW-aligned master frame of ``y``."""
    import librosa

    def feats(z: np.ndarray) -> np.ndarray:
        c = librosa.feature.mfcc(S=phones.log_mel(z).T, n_mfcc=20)[1:].T
        c = (c - c.mean(0)) / (c.std(0) + 1e-6)
        return np.concatenate([c, 4.0 * np.sqrt(model.posteriors(phones.features(z)))], axis=1)

    fx = feats(x)
    _, path = librosa.sequence.dtw(X=fx.T, Y=feats(y).T, metric="euclidean")
    out = np.zeros(len(fx), dtype=np.int64)
    for i, j in path[::-1]:
        out[i] = j
    return out


def register_systems(utts: list[dict[str, Any]], refs: list[np.ndarray], blends: list[float]) -> list[str]:
    """Registers one ``diagnose_master`` system per (blend, mode). slt's
    readings, their keys and the alignments are computed once per utterance."""
    master = KeyedMaster(**SETTINGS)
    master.fit(refs, dm.SR)
    state, nb = master.state_dict(), master.knn_bands
    recorded: list[np.ndarray] = []

    def record(x: np.ndarray, q: np.ndarray) -> np.ndarray:
        recorded.append(q)
        return q
    master.keys_for = record
    slt, oracle = {}, {}  # by the input's digest: slt's reading, its aligned keys
    with tempfile.TemporaryDirectory() as work:
        for u in utts:
            y = corpus_gen.speak("slt", u["text"], Path(work))
            master.convert(y, dm.SR)
            d = _digest(u["audio"])
            slt[d], oracle[d] = y, recorded.pop()[alignment(u["audio"], y, master._phones)]

    def keys(mode: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
        if mode not in ("oracle key", "oracle envelope half", "oracle content half"):
            return None
        cols = {"oracle key": slice(None), "oracle envelope half": slice(0, nb),
                "oracle content half": slice(nb, None)}[mode]

        def swap(x: np.ndarray, q: np.ndarray) -> np.ndarray:
            o = oracle[_digest(x)]
            if len(o) != len(q):
                raise ValueError("the aligned keys do not match the input's frames")
            q = q.copy()
            q[:, cols] = o[:, cols]
            return q
        return swap

    names = []
    for blend in blends:
        for mode in MODES:
            def make(_refs: list[np.ndarray], blend: float = blend, mode: str = mode) -> Callable[..., np.ndarray]:
                m = KeyedMaster(knn_blend=blend, **SETTINGS)
                m.load_state_dict(state)
                m.keys_for = keys(mode)
                if mode == "slt input":
                    return lambda x: m.convert(slt[_digest(x)], dm.SR).audio
                return lambda x: m.convert(x, dm.SR).audio
            name = f"blend {blend} / {mode}"
            dm.register(name, f"content-key world2, kNN {blend}, picks keyed by: {mode}", make)
            names.append(name)
    return names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, help="write the summaries here")
    ap.add_argument("--blends", default="0.65,1.0")
    a = ap.parse_args(argv)
    utts = [u for u in dm.utterances() if u["text"]]
    refs = dm.target_refs()
    names = register_systems(utts, refs, [float(b) for b in a.blends.split(",")])
    print(dm.HEADER)
    res = dm.evaluate(names, utts, refs, dm.Measures(), log=print)
    if a.json:
        out = {n: res[n]["summary"] for n in names}
        a.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
