"""``world2``: the WORLD master with the stages that lost words replaced, and
target-frame envelopes (kNN) for identity. The old ``world`` master is kept
unchanged for comparison (``docs/experiments.md`` has the stage-by-stage
measurements that motivated each change).

Everything :class:`~voiceskin_tooling.masters.world.WorldMaster` documents
holds, with ``warp_range`` defaulting to (0.8, 1.2) instead of (0.7, 1.45)
(the wide range let the running warp reach 1.3–1.45 on men and lose their
words) and these settings added (defaults = the shipped ``world2``):

* ``yin_offset`` (frames, default 2; 0 = the old alignment): master frame ``i`` takes
  its F0 and voicing from the PITCH_YIN frame that ends at sample
  ``(i + yin_offset)·hop`` instead of ``i·hop``, i.e. the 512-sample YIN
  window is centred ``256 − yin_offset·hop`` samples before the frame rather
  than 256. PITCH_MAP runs on the unshifted YIN track (exactly the student's
  stream) and its output is shifted, so the mapping statistics are the
  student's. A student whose lookahead is ``L`` steps follows this master by
  delaying its f0/voicing by ``L − yin_offset`` steps instead of ``L``
  (``yin_offset ≤ L``; the tier presets' L = 2), at no extra latency:
  ``StudentConfig.pitch_advance``, copied from this config at training.
* ``envelope``: ``"warp"`` (the old warp + EQ of the source envelope) or
  ``"knn"``: each frame's envelope is the mean of the ``knn_k`` target
  frames (from :meth:`fit`'s reference audio; voiced frames for voiced
  source frames, unvoiced for unvoiced) nearest to it in a
  speaker-normalised space: ``knn_bands`` mel bands of the log envelope,
  minus the running mean (the source's: the master's running ``M̂``, warped
  by ``α``; the target's: its own mean), so a frame is matched by what it
  says, not by who says it (each row without its band average: the shape
  is matched, the level is set per frame afterwards). ``knn_blend`` mixes the kNN log envelope with the
  warp+EQ one (1 = kNN only). ``knn_smooth`` (frames, 0 = off) is a causal
  one-pole smoother of the chosen log envelopes (kNN picks can jump).
  ``knn_split_hz`` (0 = off) with ``knn_blend_low``: the kNN weight is
  ``knn_blend_low`` below the split and ``knn_blend`` above (a raised-cosine
  step over the octave around it). ``knn_continuity`` (0 = off): causal
  unit selection — candidates that continue the previous frame's picks
  along the target's own run of frames are preferred by that many median
  nearest-neighbour distances. Both measured in docs/experiments.md ("Where
  in frequency identity lives"); neither is on by default.
  ``knn_content`` (0 = off): the match key gains a *content* part, the
  square-root phone posteriors of a causal phone classifier
  (``masters/phones.py``, trained on the corpus's training speakers) read
  from the input and from each target frame, weighted so that its spread
  over the target's frames is ``knn_content`` times the envelope part's:
  frames are then matched by the phone they carry as well as by their
  envelope shape (docs/experiments.md, "A content key for the picks").
* ``ap_mode``: ``"mix"`` (old: the warped source aperiodicity mixed with the
  target's mean by ``ap_mix``), ``"source"`` (the warped source's own), or
  ``"knn"`` (the neighbours' mean, then ``ap_mix`` with the warped source's).

All source statistics stay causal (running means with warm-up, no look at
the future beyond ``yin_offset`` frames), so a streaming student can follow.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..pitchmap import pitch_map_np
from . import phones
from .base import MasterError, as_mono_float32, resample
from .evaluate import mel_triangles
from .world import WorldMaster, _runs, _warp_rows, analyze, yin_track

__all__ = ["World2Master"]

# per kNN pool of target frames: its aperiodicities, and whether each frame's
# successor in the pool is the next frame in time
_AP = {"frames_v": "ap_v", "frames_u": "ap_u"}
_CONTENT = {"frames_v": "content_v", "frames_u": "content_u"}  # knn_content
_ADJ = {"frames_v": "adj_v", "frames_u": "adj_u"}


def _mel_matrix(freqs: np.ndarray, n_bands: int, fmin: float = 80.0, fmax: float = 7600.0) -> np.ndarray:
    """Triangular mel averaging matrix [n_bands, K] (rows sum to 1)."""
    fb = mel_triangles(freqs, n_bands, fmin, fmax)
    return fb / fb.sum(axis=1, keepdims=True)


class World2Master(WorldMaster):
    name = "world2"

    def __init__(
        self,
        yin_offset: int = 2,
        envelope: str = "knn",
        knn_k: int = 4,
        knn_bands: int = 24,
        knn_blend: float = 0.5,
        knn_smooth: float = 0.0,
        knn_max_frames: int = 20000,
        ap_mode: str = "mix",
        knn_split_hz: float = 0.0,
        knn_blend_low: float | None = None,
        knn_continuity: float = 0.0,
        knn_content: float = 0.0,
        **settings: Any,
    ) -> None:
        # the old range (0.7, 1.45) let men's running warp reach 1.3-1.45,
        # which moved vowels into other vowels (docs/experiments.md)
        settings.setdefault("warp_range", (0.8, 1.2))
        super().__init__(**settings)
        if self.f0_method != "yin" and int(yin_offset) != 0:
            raise MasterError("yin_offset needs f0_method='yin'")
        if not 0 <= int(yin_offset) <= 8:
            raise MasterError(f"yin_offset {yin_offset} must be 0..8 frames")
        if envelope not in ("warp", "knn"):
            raise MasterError(f"envelope must be 'warp' or 'knn', not {envelope!r}")
        if ap_mode not in ("mix", "source", "knn"):
            raise MasterError(f"ap_mode must be 'mix', 'source' or 'knn', not {ap_mode!r}")
        if envelope == "knn" and self.warp_mode != "running":
            raise MasterError("envelope='knn' needs warp_mode='running' (the source's running mean)")
        if ap_mode == "knn" and envelope != "knn":
            raise MasterError("ap_mode='knn' needs envelope='knn'")
        self.yin_offset, self.envelope = int(yin_offset), envelope
        self.knn_k, self.knn_bands = max(1, int(knn_k)), int(knn_bands)
        self.knn_blend, self.knn_smooth = float(knn_blend), float(knn_smooth)
        self.knn_max_frames, self.ap_mode = int(knn_max_frames), ap_mode
        if knn_split_hz < 0:
            raise MasterError(f"knn_split_hz {knn_split_hz} must be >= 0 (0 = one blend at every frequency)")
        self.knn_split_hz = float(knn_split_hz)
        if knn_continuity < 0:
            raise MasterError(f"knn_continuity {knn_continuity} must be >= 0 (0 = independent picks)")
        self.knn_continuity = float(knn_continuity)
        if knn_content < 0:
            raise MasterError(f"knn_content {knn_content} must be >= 0 (0 = envelope key only)")
        self.knn_content = float(knn_content)
        if self.knn_content > 0:
            if (self.sample_rate, self.hop) != (phones.SR, phones.HOP):
                raise MasterError(f"knn_content needs the master at {phones.SR} Hz with hop {phones.HOP} "
                                  "(the phone classifier's frames)")
        # the content key's classifier (its digest is part of config(): the cache key)
        self._phones = phones.PhoneModel.load(phones.MODEL_FILE) if self.knn_content > 0 else None
        self._content_scale: dict[str, float] = {}  # per pool: the content columns' weight
        self.knn_blend_low = self.knn_blend if knn_blend_low is None else float(knn_blend_low)
        if not (0.0 <= self.knn_blend <= 1.0 and 0.0 <= self.knn_blend_low <= 1.0):
            raise MasterError("knn_blend and knn_blend_low must lie in 0..1")

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        cfg.update({"name": self.name, "yin_offset": self.yin_offset, "envelope": self.envelope,
                    "knn_k": self.knn_k, "knn_bands": self.knn_bands, "knn_blend": self.knn_blend,
                    "knn_smooth": self.knn_smooth, "knn_max_frames": self.knn_max_frames,
                    "ap_mode": self.ap_mode, "knn_split_hz": self.knn_split_hz,
                    "knn_blend_low": self.knn_blend_low, "knn_continuity": self.knn_continuity,
                    "knn_content": self.knn_content})
        if self.knn_content > 0:  # the content key's model is part of what the master computes
            cfg["phones_model"] = self._phones.digest
            cfg["teacher_features"] = ["content"]  # and its key is a feature the student learns
        if self._target is not None and "frames_v" in self._target:
            cfg.setdefault("target", {})["knn_frames"] = [len(self._target["frames_v"]),
                                                          len(self._target["frames_u"])]
        return cfg

    # ---------------------------------------------------------------- pitch
    def _yin(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(raw yin f0, raw voicing, mapped f0), all shifted by yin_offset
        (PITCH_MAP runs on the unshifted stream, as in the student)."""
        yf, yv = yin_track(x, self.sample_rate, self.hop, self.yin_frame, self.f0_floor, self.f0_ceil,
                           self.yin_threshold)
        mapped = pitch_map_np(yf, yv, self.pitch_params()) if self._target is not None else None
        o = self.yin_offset
        if o:
            def sh(a: np.ndarray) -> np.ndarray:
                return np.concatenate([a[o:], np.repeat(a[-1:], o)])

            yf, yv = sh(yf), sh(yv)
            mapped = sh(mapped) if mapped is not None else None
        return yf, yv, mapped

    def _analyze(self, x: np.ndarray, with_yin: bool = False) -> Any:
        if self.f0_method != "yin":
            return super()._analyze(x, with_yin)
        yf, yv, _ = self._yin(x)
        f0, sp, ap = analyze(x, self.sample_rate, self.hop,
                             f0=np.where((yv >= self.vthreshold) & (yf > 0), yf, 0.0))
        return (f0, sp, ap, (yf, yv)) if with_yin else (f0, sp, ap)

    # ---------------------------------------------------------------- fit
    def fit(self, reference_audio: Sequence[np.ndarray], sample_rate: int) -> None:
        if len(reference_audio) == 0:
            raise MasterError("fit needs at least one reference recording of the target speaker")
        lf0, lsp_v, lsp_u, ap_v, ap_u = [], [], [], [], []
        adj_v, adj_u = [], []  # per pool frame: is the pool's next frame the next in time?
        c_v, c_u = [], []  # per pool frame: its content key (knn_content)
        for i, a in enumerate(reference_audio):
            x = resample(as_mono_float32(a), int(sample_rate), self.sample_rate)
            if len(x) < 4 * self.hop:
                raise MasterError(f"reference recording {i} is too short ({len(x)} samples)")
            f0, sp, ap = self._analyze(x)
            lsp = np.log(sp + 1e-16)
            v = f0 > 0
            lf0.append(np.log(f0[v]))
            # active frames only (within 50 dB of the loudest): no silence in the unvoiced pool
            e = np.log(sp.sum(axis=1) + 1e-30)
            act = e > e.max() - 50 * math.log(10) / 10
            lsp_v.append(lsp[v]), ap_v.append(ap[v])
            lsp_u.append(lsp[~v & act]), ap_u.append(ap[~v & act])
            if self.knn_content > 0:
                c = self._content(x)
                c_v.append(c[v]), c_u.append(c[~v & act])
            for adj, m in ((adj_v, v), (adj_u, ~v & act)):
                pos = np.flatnonzero(m)
                adj.append(np.append(pos[1:] == pos[:-1] + 1, False))
        l = np.concatenate(lf0)
        if len(l) < 50:
            raise MasterError(f"the reference audio has only {len(l)} voiced frames; give more target speech")
        fv, av = np.concatenate(lsp_v), np.concatenate(ap_v)
        env = fv.mean(axis=0)
        freqs = np.linspace(0, self.sample_rate / 2, len(env))
        self._target = t = {"target_mu": float(l.mean()), "target_sigma": float(l.std()), "env": env,
                            "ap": av.mean(axis=0), "freqs": freqs, "voiced_frames": int(len(l))}
        self._warp_cache_key = None
        t["formant_scale"] = float(self._best_warp(self._pop_env(freqs), freqs))
        if self.envelope != "knn":
            return
        t["frames_v"], t["frames_u"] = fv, np.concatenate(lsp_u)
        t["ap_v"], t["ap_u"] = av, np.concatenate(ap_u)
        t["adj_v"], t["adj_u"] = np.concatenate(adj_v), np.concatenate(adj_u)
        if self.knn_content > 0:
            t["content_v"], t["content_u"] = np.concatenate(c_v), np.concatenate(c_u)
        rng = np.random.default_rng(0)
        for k, ka, kj in (("frames_v", "ap_v", "adj_v"), ("frames_u", "ap_u", "adj_u")):
            if len(t[k]) > self.knn_max_frames:
                sel = np.sort(rng.choice(len(t[k]), self.knn_max_frames, replace=False))
                adj = t[kj][sel] & np.append(sel[1:] == sel[:-1] + 1, False)
                t[k], t[ka], t[kj] = t[k][sel], t[ka][sel], adj
                if _CONTENT[k] in t:
                    t[_CONTENT[k]] = t[_CONTENT[k]][sel]
        if len(t["frames_v"]) < 50 or len(t["frames_u"]) < 10:
            raise MasterError("too few target frames for envelope='knn'; give more target speech")
        self._knn_prepare(freqs)

    def _knn_prepare(self, freqs: np.ndarray) -> None:
        t = self._target
        assert t is not None
        self._mel = _mel_matrix(freqs, self.knn_bands)
        self._tmean = self._mel @ t["env"]  # target's mean (voiced) log envelope in bands
        self._keys = {}
        for k in ("frames_v", "frames_u"):
            b = t[k] @ self._mel.T - self._tmean
            b = b - b.mean(axis=1, keepdims=True)  # shape only: per-frame level is set later
            if self.knn_content > 0:
                if _CONTENT[k] not in t:
                    raise MasterError("this fitted state has no content keys; fit again with knn_content > 0")
                c = np.asarray(t[_CONTENT[k]], np.float64)
                # the content columns weigh knn_content times the envelope's spread
                scale = math.sqrt(self.knn_content * np.mean(np.sum((b - b.mean(0)) ** 2, axis=1))
                                  / max(np.mean(np.sum((c - c.mean(0)) ** 2, axis=1)), 1e-12))
                self._content_scale[k] = scale
                b = np.concatenate([b, scale * c], axis=1)
            self._keys[k] = (b, np.sum(b * b, axis=1))

    def state_dict(self) -> dict[str, Any]:
        return super().state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        t = self._target
        if "frames_v" in t:
            for k in ("frames_v", "frames_u", "ap_v", "ap_u", "content_v", "content_u"):
                if k in t:
                    t[k] = np.asarray(t[k], dtype=np.float64)
            for k, f in (("adj_v", "frames_v"), ("adj_u", "frames_u")):
                t[k] = np.asarray(t.get(k, np.zeros(len(t[f]), bool)), dtype=bool)
            self._knn_prepare(t["freqs"])

    def _content(self, x: np.ndarray) -> np.ndarray:
        """Per WORLD frame of ``x`` (at the master's rate), the phone
        classifier's content key (``masters/phones.py``)."""
        # square-root posteriors: squared distances between them are
        # Hellinger distances (2 at most, whatever the class count)
        return np.sqrt(self._phones.posteriors(phones.features(x))).astype(np.float64)

    def _distances(self, q: np.ndarray, pool: str, keys_at: np.ndarray | None = None) -> np.ndarray:
        """Squared distances [n, pool frames] from each query row ``q`` [n,
        bands] (already normalised) to the pool's keys, less the rows'
        own ‖q‖² (the same for every key of a row); ``keys_at`` limits the
        keys to those indices (one row)."""
        keys, k2 = self._keys[pool]
        if keys_at is not None:
            keys, k2 = keys[keys_at], k2[keys_at]
        return k2[None, :] - 2.0 * q @ keys.T

    def _pool_chunks(self, voiced: np.ndarray) -> Any:
        """(pool, frame indices) in chunks of 512: voiced frames search the
        voiced pool, the rest the unvoiced one."""
        for pool, sel in (("frames_v", voiced), ("frames_u", ~voiced)):
            idx = np.flatnonzero(sel)
            for c0 in range(0, len(idx), 512):
                yield pool, idx[c0:c0 + 512]

    def _knn(self, q: np.ndarray, pool: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean log envelope and aperiodicity of the k nearest target frames
        for each query row ``q`` [n, bands] (already normalised), and the
        nearest one's index in the pool."""
        t = self._target
        d = self._distances(q, pool)
        k = min(self.knn_k, d.shape[1])
        idx = np.argpartition(d, k - 1, axis=1)[:, :k]
        nearest = idx[np.arange(len(idx)), np.argmin(np.take_along_axis(d, idx, axis=1), axis=1)]
        return t[pool][idx].mean(axis=1), t[_AP[pool]][idx].mean(axis=1), nearest

    def _knn_runs(self, q: np.ndarray, voiced: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """kNN picks that prefer to continue the target's own runs of
        frames (unit selection, causal): frame i's candidates are its
        nearest target frames plus the successors of frame i−1's picks; a
        candidate that is not a successor costs ``knn_continuity`` times the
        utterance's median nearest-neighbour distance more. The k cheapest
        are averaged as before. Returns the envelopes, the aperiodicities,
        each frame's cheapest pick and the fraction of picks that continue a
        run."""
        t = self._target
        k = self.knn_k
        near: dict[int, np.ndarray] = {}
        first = np.empty(len(voiced))
        for pool, ii in self._pool_chunks(voiced):
            d = self._distances(q[ii], pool)
            m = min(4 * k, d.shape[1])
            nn = np.argpartition(d, m - 1, axis=1)[:, :m]
            first[ii] = d.min(axis=1) + np.sum(q[ii] * q[ii], axis=1)
            near.update(zip(ii.tolist(), nn))
        penalty = self.knn_continuity * float(np.median(np.maximum(first, 0.0))) if len(first) else 0.0
        env_k = np.empty((len(voiced), t["frames_v"].shape[1]))
        knn_ap = np.empty((len(voiced), t["ap_v"].shape[1]))
        nearest = np.empty(len(voiced), dtype=np.int64)
        prev, prev_pool, continued = np.empty(0, dtype=np.int64), "", 0
        for i in range(len(voiced)):
            pool = "frames_v" if voiced[i] else "frames_u"
            succ = np.empty(0, dtype=np.int64)
            cand = near[i]
            if pool == prev_pool:
                succ = prev[t[_ADJ[pool]][prev]] + 1
                cand = np.union1d(cand, succ)
            cost = self._distances(q[i:i + 1], pool, cand)[0] + penalty * ~np.isin(cand, succ)
            pick = cand[np.argsort(cost, kind="stable")[:k]]
            continued += int(np.isin(pick, succ).sum())
            nearest[i] = pick[0]
            env_k[i] = t[pool][pick].mean(axis=0)
            knn_ap[i] = t[_AP[pool]][pick].mean(axis=0)
            prev, prev_pool = pick, pool
        return env_k, knn_ap, nearest, continued / max(k * len(voiced), 1)

    # ---------------------------------------------------------------- conversion
    @property
    def _uses_means(self) -> bool:  # type: ignore[override]
        return self.envelope == "knn"

    def _source(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self.f0_method != "yin":
            return super()._source(x)
        yf, yv, mapped = self._yin(x)
        f0, sp, ap = analyze(x, self.sample_rate, self.hop,
                             f0=np.where((yv >= self.vthreshold) & (yf > 0), yf, 0.0))
        return f0, sp, ap, mapped

    def _blend_weights(self, bins: int) -> np.ndarray:
        """Per envelope bin, the kNN envelope's weight: ``knn_blend_low``
        below ``knn_split_hz``, ``knn_blend`` above, a raised-cosine step
        over the octave around the split (one weight when the split is 0)."""
        if self.knn_split_hz <= 0:
            return np.full(bins, self.knn_blend)
        f = np.linspace(0.0, self.sample_rate / 2, bins)
        x = np.clip((np.log2(np.maximum(f, 1.0) / self.knn_split_hz) + 0.5), 0.0, 1.0)
        up = 0.5 - 0.5 * np.cos(np.pi * x)
        return self.knn_blend_low + (self.knn_blend - self.knn_blend_low) * up

    def _query(self, x: np.ndarray, lsp: np.ndarray, voiced: np.ndarray, alphas: np.ndarray,
               means: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        """Each frame's search key [frames, bands (+ content)]: the
        speaker-normalised envelope shape and, with ``knn_content``, the
        scaled content key (whose unscaled value goes to ``info``)."""
        n_frames = len(lsp)
        # query: the frame minus the running mean, both warped by α (the
        # speaker-normalised frame), in mel bands
        q = np.empty((n_frames, self.knn_bands))
        for lo, hi in _runs(alphas):
            s_ = alphas[lo]
            q[lo:hi] = _warp_rows(lsp[lo:hi] - means[lo:hi], s_) @ self._mel.T
        q -= q.mean(axis=1, keepdims=True)
        if self.knn_content > 0:
            c = self._content(x)
            # the key the picks used, a layer-to-layer target for the
            # student (training.kd_pairs): it must learn the same
            # content from its own features to pick as the master does
            info["features"] = {"content": c.astype(np.float32)}
            qc = np.empty((n_frames, q.shape[1] + c.shape[1]))
            qc[:, :q.shape[1]] = q
            qc[voiced, q.shape[1]:] = self._content_scale["frames_v"] * c[voiced]
            qc[~voiced, q.shape[1]:] = self._content_scale["frames_u"] * c[~voiced]
            q = qc
        return q

    def _target_envelope(self, x: np.ndarray, lsp: np.ndarray, out_lsp: np.ndarray, wap: np.ndarray,
                         ap: np.ndarray, voiced: np.ndarray, alphas: np.ndarray,
                         means: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        t = self._need_target()
        n_frames = len(lsp)
        knn_ap = None
        info: dict[str, Any] = {"yin_offset": self.yin_offset}
        if self.envelope == "knn":
            q = self._query(x, lsp, voiced, alphas, means, info)
            # knn_nearest: per frame, its nearest target frame's index in the
            # pool it searched (voiced or unvoiced; diagnostics and tests)
            if self.knn_continuity > 0:
                env_k, knn_ap, info["knn_nearest"], info["knn_continued"] = self._knn_runs(q, voiced)
            else:
                env_k, knn_ap = np.empty_like(lsp), np.empty_like(ap)
                info["knn_nearest"] = np.empty(n_frames, dtype=np.int64)
                for pool, ii in self._pool_chunks(voiced):
                    env_k[ii], knn_ap[ii], info["knn_nearest"][ii] = self._knn(q[ii], pool)
            if self.knn_smooth > 0:
                a = 1.0 / (1.0 + self.knn_smooth)
                for i in range(1, n_frames):
                    if voiced[i] == voiced[i - 1]:
                        env_k[i] = env_k[i - 1] + a * (env_k[i] - env_k[i - 1])
            w = self._blend_weights(lsp.shape[1])
            out_lsp = w * env_k + (1.0 - w) * out_lsp
        if self.ap_mode == "mix":
            out_ap = np.where(voiced[:, None], (1 - self.ap_mix) * wap + self.ap_mix * t["ap"][None, :], wap)
        elif self.ap_mode == "source":
            out_ap = wap
        else:
            out_ap = (1 - self.ap_mix) * wap + self.ap_mix * knn_ap
        return out_lsp, out_ap, info
