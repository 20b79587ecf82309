"""Two sources the content-key `world2` master has not drawn on yet.

1. **The recogniser's own acoustic model as the content key.** pocketsphinx's
   US-English model (in the wheel the QA already installs) was trained on
   many real speakers, unlike ``masters/phones.py``'s classifier (11
   synthetic training voices). Its phonetically-tied Gaussian mixtures are
   read here with numpy (``SphinxAcousticModel``: the model's own files and
   front end, 13 cepstra + deltas, causal running CMN), every frame's 5126
   senones are scored and each base phone takes its best senone; the
   square-root softmax over the 42 phones replaces (``sphinx``) or joins
   (``both``) the classifier's key. ``--check-frontend`` decodes a few
   utterances from this front end's cepstra and from pocketsphinx's own;
   ``--accuracy`` scores both keys' best phone against forced alignments.
2. **More target speech.** slt (the corpus's festival voice) reads 86 more
   sentences (262 s, five times the 52 s of its 16 corpus files): the six
   English training sentences that neither slt nor a validation voice
   reads, and ``data/extra_target_sentences.txt`` (80 written for this, none
   a test or validation sentence). The master is fitted on all 102 files;
   the identity anchor stays the 16.

Scored by ``diagnose_master.evaluate`` on its fixed 14 train / validation
utterances (never the test split). Needs festival with
``festvox-us-slt-hts`` (``scripts/setup.sh``). About 8 minutes on 2 cores.

    .venv/bin/python benchmarks/content_key_sources.py --json out.json

Measured results: docs/experiments.md, "Two more sources for the content
key".
"""
from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import diagnose_master as dm  # noqa: E402

from voiceskin_tooling import corpus_gen  # noqa: E402
from voiceskin_tooling.masters.world2 import World2Master  # noqa: E402

#: the content-key master (voices/demo.toml's comment, docs/experiments.md)
SETTINGS = dict(knn_content=3.0, knn_smooth=1.0)
EXTRA_SENTENCES = Path(__file__).with_name("data") / "extra_target_sentences.txt"
#: English training sentences read by neither slt nor a validation voice
FREE_TRAINING_SENTENCES = (16, 17, 28, 29, 38, 39)


class SphinxAcousticModel:
    """pocketsphinx's en-us PTM model (means, variances, sendump, mdef) as a
    frame scorer. Front end as its feat.params: 16 kHz, 25.6 ms Hamming
    windows every 10 ms, pre-emphasis 0.97, 25 mel filters 130-6800 Hz,
    13 cepstra (orthonormal DCT, lifter 22), then deltas (±2 frames) and
    double deltas (±1 of ±2): each frame reads 3 frames (30 ms) ahead."""

    SR, SHIFT, WLEN, NFFT, NFILT, NCEP = 16000, 160, 410, 512, 25, 13

    def __init__(self, model_dir: Path | None = None) -> None:
        if model_dir is None:
            from pocketsphinx import get_model_path

            model_dir = Path(get_model_path()) / "en-us" / "en-us"
        self.means = self._s3(model_dir / "means")  # [phone codebook, stream, density, 13]
        self.vars = np.maximum(self._s3(model_dir / "variances"), 1e-4)  # pocketsphinx's floor
        mixw = self._sendump(model_dir / "sendump", self.means.shape[1])  # [stream, density, senone]
        # stored as -log(w) in units of 1024 log(1.0001)
        self.w = np.exp(-1024 * np.log(1.0001) * mixw.astype(np.float64))
        self.phones, self.senone_phone = self._mdef(model_dir / "mdef")
        # per-density constants of the Gaussians' log-likelihood, and each
        # base phone's senones: computed once, used on every frame
        self.logdet = -0.5 * np.sum(np.log(2 * np.pi * self.vars), axis=-1)
        self.iv = 1.0 / self.vars
        self.mean_iv = self.means * self.iv
        self.mean_sq_iv = np.sum(self.means ** 2 * self.iv, -1)
        self.senones_of = [np.nonzero(self.senone_phone == p)[0] for p in range(len(self.phones))]
        self.fb = self._mel_bank()
        k = np.arange(self.NCEP)[:, None]
        self.dct = np.cos(np.pi * k * (np.arange(self.NFILT)[None, :] + 0.5) / self.NFILT) * np.sqrt(2.0 / self.NFILT)
        self.dct[0] = np.sqrt(1.0 / self.NFILT)
        self.lifter = 1 + 11.0 * np.sin(np.pi * np.arange(self.NCEP) / 22)

    # -------------------------------------------------------------- files
    @staticmethod
    def _s3(path: Path) -> np.ndarray:
        b = path.read_bytes()
        i = b.index(b"endhdr\n") + 7 + 4  # header, then the byte-order magic
        n_cb, n_stream, n_den = struct.unpack("<3i", b[i:i + 12])
        dims = struct.unpack(f"<{n_stream}i", b[i + 12:i + 12 + 4 * n_stream])
        i += 12 + 4 * n_stream + 4  # and the value count
        if len(set(dims)) != 1:
            raise ValueError(f"{path}: streams of unequal width {dims}")
        return np.frombuffer(b[i:i + 4 * n_cb * n_stream * n_den * dims[0]], "<f4").reshape(
            n_cb, n_stream, n_den, dims[0]).astype(np.float64)

    @staticmethod
    def _sendump(path: Path, n_stream: int) -> np.ndarray:
        b, i = path.read_bytes(), 0
        while (n := struct.unpack("<i", b[i:i + 4])[0]) != 0:  # length-prefixed header lines
            i += 4 + n
        n_den, n_sen = struct.unpack("<2i", b[i + 4:i + 12])
        return np.frombuffer(b[i + 12:i + 12 + n_stream * n_den * n_sen], np.uint8).reshape(n_stream, n_den, n_sen)

    @staticmethod
    def _mdef(path: Path) -> tuple[list[str], np.ndarray]:
        """The CI phone names and each senone's base phone (a triphone's
        transition matrix is its base phone's)."""
        b = path.read_bytes()
        i = 12 + struct.unpack("<i", b[8:12])[0]  # "BMDF", version, format text
        n_ci, n_phone, n_emit, _, n_sen, _, n_sseq, _, n_tree, _ = struct.unpack("<10i", b[i:i + 40])
        i += 40
        names = [s.decode() for s in b[i:].split(b"\0")[:n_ci]]
        i += sum(len(s) + 1 for s in names)
        i += (-i) % 4 + 8 * n_tree  # padding, the context tree
        ph = np.frombuffer(b[i:i + 12 * n_phone], np.dtype([("ssid", "<i4"), ("tmat", "<i4"), ("attr", "i1", 4)]))
        i += 12 * n_phone + 4  # and the sequence table's count
        sseq = np.frombuffer(b[i:i + 2 * n_sseq * n_emit], "<i2").reshape(n_sseq, n_emit)
        base = np.full(n_sen, -1)
        base[sseq[ph["ssid"]].reshape(-1)] = np.repeat(ph["tmat"], n_emit)
        if (base < 0).any():
            raise ValueError(f"{path}: senones without a phone")
        return names, base

    def _mel_bank(self) -> np.ndarray:
        """sphinx's own bank, not ``evaluate.mel_triangles``: edges rounded
        to FFT bins and unit-area triangles, as the model was trained on."""
        def mel(f: float) -> float:
            return 2595.0 * np.log10(1.0 + f / 700.0)

        lo, hi = mel(130.0), mel(6800.0)
        bw, ff = (hi - lo) / (self.NFILT + 1), self.SR / self.NFFT
        hz = np.arange(self.NFFT // 2 + 1) * ff
        fb = np.zeros((self.NFILT, len(hz)))
        for k in range(self.NFILT):  # unit-area triangles on edges rounded to bins
            f = [round(700.0 * (10 ** (((j + k) * bw + lo) / 2595.0) - 1.0) / ff) * ff for j in range(3)]
            tri = np.minimum((hz - f[0]) / (f[1] - f[0]), (f[2] - hz) / (f[2] - f[1]))
            fb[k] = np.clip(tri, 0, None) * 2.0 / (f[2] - f[0])
        return fb

    # -------------------------------------------------------------- scoring
    def cepstra(self, x: np.ndarray) -> np.ndarray:
        """[frames, 13] cepstra of 16 kHz audio in [-1, 1], frame t on
        samples t·160 .. t·160 + 409."""
        s = np.asarray(x, np.float64) * 32768.0
        s = np.concatenate([s[:1], s[1:] - 0.97 * s[:-1]])
        n = 1 + max(0, (len(s) - self.WLEN) // self.SHIFT)
        idx = np.arange(n)[:, None] * self.SHIFT + np.arange(self.WLEN)[None, :]
        p = np.abs(np.fft.rfft(s[np.minimum(idx, len(s) - 1)] * np.hamming(self.WLEN), self.NFFT, axis=1)) ** 2
        return (np.log(np.maximum(p @ self.fb.T, 1e-30)) @ self.dct.T) * self.lifter

    @staticmethod
    def streams(c: np.ndarray, tau: float = 300.0) -> np.ndarray:
        """[frames, 3, 13]: cepstra less a causal running mean, deltas, double deltas."""
        c = c.copy()
        mean = c[0].copy()
        for i in range(len(c)):
            mean += (c[i] - mean) / min(i + 1.0, tau)
            c[i] -= mean
        n = len(c)

        def at(o: int) -> np.ndarray:
            return c[np.clip(np.arange(n) + o, 0, n - 1)]
        return np.stack([c, at(2) - at(-2), (at(3) - at(-1)) - (at(1) - at(-3))], axis=1)

    def senone_scores(self, f: np.ndarray) -> np.ndarray:
        """[frames, senones] log-likelihoods (full mixtures, no top-N)."""
        out = np.zeros((len(f), self.w.shape[2]))
        for s in range(f.shape[1]):
            x = f[:, s]
            d = (np.einsum("td,cnd->tcn", x * x, self.iv[:, s]) - 2 * np.einsum("td,cnd->tcn", x, self.mean_iv[:, s])
                 + self.mean_sq_iv[None, :, s])
            ll = self.logdet[None, :, s] - 0.5 * d  # [T, codebook, density]
            for cb, sen in enumerate(self.senones_of):  # a PTM codebook is its base phone's
                mx = ll[:, cb].max(1, keepdims=True)
                out[:, sen] += mx + np.log(np.exp(ll[:, cb] - mx) @ self.w[s][:, sen] + 1e-300)
        return out

    def phone_posteriors(self, x: np.ndarray) -> np.ndarray:
        """[frames, 42] softmax over the base phones of each one's best senone."""
        sc = self.senone_scores(self.streams(self.cepstra(x)))
        z = np.stack([sc[:, sen].max(1) for sen in self.senones_of], 1)
        z = np.exp(z - z.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def content(self, x: np.ndarray, hop: int = 64) -> np.ndarray:
        """The square-root posteriors on a master's frames (frame i centred
        on sample i·hop reads the 10 ms frame centred nearest)."""
        p = self.phone_posteriors(np.round(np.clip(x, -1, 1) * 32767) / 32768.0)
        n = len(x) // hop + 1
        t = np.clip(np.round((np.arange(n) * hop - self.WLEN / 2) / self.SHIFT).astype(int), 0, len(p) - 1)
        return np.sqrt(p[t])


def check_frontend(utts: list[dict[str, Any]], am: SphinxAcousticModel) -> None:
    """Decodes a few utterances from pocketsphinx's own front end and from
    these cepstra (noise removal off in both)."""
    from pocketsphinx import Decoder

    d = Decoder(samprate=16000, loglevel="FATAL", remove_noise=False)
    for u in utts[:4]:
        pcm = (np.clip(u["audio"], -1, 1) * 32767).astype(np.int16)
        said = []
        for feed, data in ((d.process_raw, pcm.tobytes()),
                           (d.process_cep, am.cepstra(pcm / 32768.0).astype(np.float32).tobytes())):
            d.start_utt(); feed(data, full_utt=True); d.end_utt()
            said.append(h.hypstr if (h := d.hyp()) else "")
        print(f"pocketsphinx: {said[0]}\nthese cepstra: {said[1]}\n")


def frame_accuracy(utts: list[dict[str, Any]], am: SphinxAcousticModel) -> None:
    """Per split, the share of master frames whose most likely phone is the
    forced alignment's (``phones.align``, itself made with this acoustic
    model: that favours it), for the classifier and the acoustic model."""
    from voiceskin_tooling.masters import phones

    model = phones.PhoneModel.load(phones.MODEL_FILE)
    to40 = np.array([phones.PHONES.index(p) if p in phones.PHONES else 0 for p in am.phones])  # noise: SIL
    for split in ("train", "validation"):
        hits = {"classifier": 0, "acoustic model": 0}
        n = 0
        for u in (u for u in utts if u["split"] == split and u["text"]):
            truth = phones.align(u["audio"], u["text"])
            if truth is None:
                continue
            hits["classifier"] += int(np.sum(model.posteriors(phones.features(u["audio"])).argmax(1) == truth))
            hits["acoustic model"] += int(np.sum(to40[am.content(u["audio"]).argmax(1)] == truth))
            n += len(truth)
        print(split, ", ".join(f"{k} {v / n:.3f}" for k, v in hits.items()), f"({n} frames)")


class SourcedMaster(World2Master):
    """``world2`` whose content key is the classifier's (``phones``), the
    acoustic model's (``sphinx``) or both side by side (``both``)."""

    key = "phones"
    am: SphinxAcousticModel | None = None

    def _content(self, x: np.ndarray) -> np.ndarray:
        if self.key == "phones":
            return super()._content(x)
        s = self.am.content(x, self.hop)
        return s if self.key == "sphinx" else np.concatenate([super()._content(x), s], axis=1)


def extra_target_speech() -> list[np.ndarray]:
    english = corpus_gen.SENTENCE_SETS["main"]["en"]
    sentences = [english[i] for i in FREE_TRAINING_SENTENCES]
    sentences += [s.strip() for s in EXTRA_SENTENCES.read_text(encoding="utf-8").splitlines() if s.strip()]
    test = {s.lower() for lang in corpus_gen.SENTENCE_SETS["test"].values() for s in lang}
    if any(s.lower() in test for s in sentences):
        raise ValueError("an extra target sentence is a test sentence")
    with tempfile.TemporaryDirectory() as work:
        return [corpus_gen.speak("slt", s, Path(work)) for s in sentences]


def register_systems(extra: list[np.ndarray], am: SphinxAcousticModel) -> list[str]:
    rows = [("phones key, 16 files", "phones", 0.65, False), ("sphinx key", "sphinx", 0.65, False),
            ("both keys", "both", 0.65, False), ("phones key, 102 files", "phones", 0.65, True),
            ("phones key, 102 files, kNN 0.75", "phones", 0.75, True),
            ("phones key, 102 files, kNN 1.0", "phones", 1.0, True)]
    for name, key, blend, more in rows:
        def make(refs: list[np.ndarray], key: str = key, blend: float = blend, more: bool = more
                 ) -> Callable[[np.ndarray], np.ndarray]:
            m = SourcedMaster(knn_blend=blend, **SETTINGS)
            m.key, m.am = key, am
            m.fit(list(refs) + (extra if more else []), dm.SR)
            return lambda x: m.convert(x, dm.SR).audio
        dm.register(name, f"content-key world2, kNN {blend}, key {key}, {'102' if more else '16'} target files",
                    make)
    return [r[0] for r in rows]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, help="write the summaries here")
    ap.add_argument("--check-frontend", action="store_true", help="only compare decodes of the two front ends")
    ap.add_argument("--accuracy", action="store_true", help="only score both keys' frame accuracy")
    a = ap.parse_args(argv)
    utts, am = dm.utterances(), SphinxAcousticModel()
    if a.check_frontend:
        check_frontend([u for u in utts if u["text"]], am)
        return 0
    if a.accuracy:
        frame_accuracy(utts, am)
        return 0
    extra = extra_target_speech()
    print(f"extra target speech: {len(extra)} files, {sum(map(len, extra)) / dm.SR:.1f} s")
    names = register_systems(extra, am)
    print(dm.HEADER)
    res = dm.evaluate(names, utts, dm.target_refs(), dm.Measures(), log=print)
    if a.json:
        a.json.write_text(json.dumps({n: res[n]["summary"] for n in names}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
