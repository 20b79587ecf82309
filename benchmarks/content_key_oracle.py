"""How much would a perfect content key buy the content-key `world2` master?

For each English utterance of ``diagnose_master``'s fixed set (train and
validation voices only, never the test split), slt (the corpus's festival
HTS voice, the target) reads the same sentence; the rendering is aligned to
the input by DTW (librosa, on 19 MFCCs and the phone posteriors), and the
master converts the input with its picks keyed three ways:

* ``own``: as shipped, the input frame's own key (its normalised envelope
  shape and the phone classifier's content key);
* ``oracle key``: the key of slt's aligned frame, computed as the master
  computes any query (the picks still come from the fitted pool of slt's
  16 corpus files, so this is what a perfect key could reach);
* ``slt input``: the rendering itself as the input (slt's own timing and
  F0 too: the ceiling of picks from that pool).

Each at ``knn_blend`` 0.65 (the content-key master's setting) and 1.0 (kNN
only). Measures as ``diagnose_master`` (pocketsphinx WER over the English
utterances, resemblyzer similarity and margin over the demo cohort, DNSMOS
OVRL per utterance). Needs festival with ``festvox-us-slt-hts`` (the corpus's
synthesizers, ``scripts/setup.sh``). About 8 minutes on 2 cores.

    .venv/bin/python benchmarks/content_key_oracle.py --json out.json

Measured results: docs/experiments.md, "How good could a content key be?".
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import diagnose_master as dm  # noqa: E402

from voiceskin_tooling import corpus_gen  # noqa: E402
from voiceskin_tooling.corpus import trim_silence  # noqa: E402
from voiceskin_tooling.masters import phones  # noqa: E402
from voiceskin_tooling.masters.world2 import World2Master  # noqa: E402

#: the content-key master (voices/demo.toml's comment, docs/experiments.md)
SETTINGS = dict(knn_content=3.0, knn_smooth=1.0)


class KeyedMaster(World2Master):
    """``world2`` whose search keys can be recorded or replaced."""

    replace: np.ndarray | None = None
    recorded: np.ndarray | None = None

    def _query(self, x, lsp, voiced, alphas, means, info):  # type: ignore[no-untyped-def]
        q = super()._query(x, lsp, voiced, alphas, means, info)
        self.recorded = q
        if self.replace is None:
            return q
        if len(self.replace) != len(q):
            raise ValueError("the replacement keys do not match the input's frames")
        return self.replace


def slt_reading(text: str, work: Path) -> np.ndarray:
    """slt reading ``text`` (one of the corpus's English sentences), trimmed
    and levelled as the corpus is."""
    voice = next(v for v in corpus_gen.VOICES if v.name == "slt")
    idx = corpus_gen.SENTENCE_SETS[voice.sset][voice.lang].index(text)
    y = corpus_gen._make(voice, idx, work)
    y = trim_silence(y, dm.SR, pad_seconds=0.08, max_pause_seconds=None)
    return corpus_gen._normalize(y).astype(np.float32)


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--blends", default="0.65,1.0")
    a = ap.parse_args(argv)
    utts = [u for u in dm.utterances() if u["text"]]
    refs = dm.target_refs()
    with tempfile.TemporaryDirectory() as work:
        for u in utts:
            u["slt"] = slt_reading(u["text"], Path(work))
    meas = dm.Measures()
    target = meas.speaker(refs)
    cohort = [meas.speaker([dm._read(f) for f in sorted((dm.CORPUS / "speakers" / s).glob("*.flac"))][:8])
              for s in dm.COHORT]
    results: dict[str, Any] = {}
    for blend in (float(b) for b in a.blends.split(",")):
        m = KeyedMaster(knn_blend=blend, **SETTINGS)
        m.fit(refs, dm.SR)
        for mode in ("own", "oracle key", "slt input"):
            rows = []
            for u in utts:
                m.replace = None
                if mode == "oracle key":
                    m.convert(u["slt"], dm.SR)
                    m.replace = m.recorded[alignment(u["audio"], u["slt"], m._phones)]
                y = np.asarray(m.convert(u["slt"] if mode == "slt input" else u["audio"], dm.SR).audio, np.float32)
                e = meas.embed(y)
                sim = float(e @ target)
                err, n = meas.word_errors(u["text"], meas.transcribe(y))
                rows.append({"split": u["split"], "sim": sim, "margin": sim - max(float(e @ c) for c in cohort),
                             "err": err, "words": n, "dnsmos": meas.dnsmos(y)["ovrl_mos"]})
            for split in ("train", "validation"):
                r = [z for z in rows if z["split"] == split]
                s = {"wer": sum(z["err"] for z in r) / sum(z["words"] for z in r),
                     "dnsmos_ovrl": float(np.mean([z["dnsmos"] for z in r])),
                     "similarity": float(np.mean([z["sim"] for z in r])),
                     "margin": float(np.mean([z["margin"] for z in r])), "utterances": len(r)}
                results[f"blend {blend} / {mode} / {split}"] = s
                print(f"blend {blend:4.2f}  {mode:10s}  {split:10s}  WER {s['wer']:.2f}  DNSMOS {s['dnsmos_ovrl']:.2f}"
                      f"  similarity {s['similarity']:.3f}  margin {s['margin']:+.3f}", flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
