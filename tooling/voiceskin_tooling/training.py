"""One training loop per tier (:func:`train_tier`): random short segments
of the cache's training utterances, the student's audio against the
master's (multi-resolution STFT loss), plus optional layer-to-layer losses
through prediction heads (:mod:`.kd`). Pitch is exact by construction, so it
is not a loss. Every value comes from one :class:`~.trainplan.TrainPlan`;
the loop stops at its ``steps`` or its wall-clock budget (counted from the
call, set-up included), whichever comes first, and the learning-rate schedule (:func:`~.trainplan.get_lr`) follows
the same progress."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from .distill_common import DistillConfig, DistillInputError, _atomic_torch_save, _resolve_device, tier_checkpoint
from .master_cache import load_cache

__all__ = ["train_tier", "load_student"]

def _teacher_frames(start: int, n: int, hop: int, lookahead: int, thop: float, frames: int) -> Any:
    """Teacher frame index for student steps start..start+n−1: teacher frame i
    is centred on sample i·thop; student step t ends at (t+1)·hop and speaks
    for the master ``lookahead`` samples earlier."""
    import torch

    ends = (torch.arange(start, start + n) + 1) * hop - lookahead
    return torch.clamp(torch.round(ends / thop).long(), 0, frames - 1)


class _Segments:
    """Random fixed-length segments of (features, f0, voicing, master audio,
    teacher features) from the cache's training utterances."""

    def __init__(self, utts: list[dict[str, Any]], scfg: Any, seg_frames: int,
                 device: str, rng: np.random.Generator) -> None:
        from .student import frontend

        leak = sorted({str(u.get("split")) for u in utts} - {"train"})
        if leak:  # validation and test speech is QA only: never a training batch
            raise DistillInputError(f"training segments must come from split 'train' only, got {leak}")
        self.hop = scfg.hop
        self.lookahead = scfg.lookahead  # the student outputs the master this many samples late
        self.vthreshold = scfg.pitch.vthreshold
        self.rmeans: list[Any] | None = None
        self.L = seg_frames
        self.device = device
        self.rng = rng
        self.items = []
        # a black box's teacher features are WORLD's reading of its audio (master_cache)
        self.features_read_from_audio = any("_read_from_audio" in u["features"] for u in utts)
        for u in utts:
            if u["input"].numel() < (seg_frames + 1 + scfg.lookahead_steps) * scfg.hop:
                continue
            fe = frontend(u["input"].numpy(), scfg, (u["f0"], u["voicing"]))
            feats = {k: v for k, v in u["features"].items() if not k.startswith("_")}
            thop = float(u["features"].get("_hop", np.array([scfg.hop]))[0])
            self.items.append((fe, u["master"], feats, thop))
        if not self.items:
            raise DistillInputError(f"no training chunk is longer than a segment ({seg_frames} frames)")
        self.weights = np.array([it[0].f0.numel() for it in self.items], np.float64)
        self.weights /= self.weights.sum()

    def feature_stats(self) -> tuple[Any, Any, Any]:
        """(mean, std, voiced mean) of the log-mel features over the corpus;
        the voiced mean is the RUNNING_MEAN prior."""
        import torch

        allm = torch.cat([it[0].logmel for it in self.items], 0)
        voiced = torch.cat([it[0].voicing for it in self.items], 0) >= self.vthreshold
        prior = allm[voiced].mean(0) if bool(voiced.any()) else allm.mean(0)
        return allm.mean(0), allm.std(0).clamp(min=1e-3), prior

    def set_running_means(self, model: Any) -> None:
        """Precomputes each utterance's RUNNING_MEAN from its first step (as
        the master's own running statistics start there); segments slice it."""
        self.rmeans = [model.running_mean(fe.logmel, fe.voicing) for fe, *_ in self.items]

    def teacher_dims(self) -> dict[str, int]:
        return {k: int(v.shape[-1]) for k, v in self.items[0][2].items()}

    def batch(self, n: int) -> dict[str, Any]:
        import torch

        idx = self.rng.choice(len(self.items), size=n, p=self.weights)
        lm, rm, f0, vo, y, tf, ct = [], [], [], [], [], {}, []
        D = self.lookahead
        for i in idx:
            fe, m, feats, thop = self.items[i]
            T = fe.f0.numel()
            s = int(self.rng.integers(D // self.hop, T - self.L))
            lm.append(fe.logmel[s:s + self.L])
            if self.rmeans is not None:
                rm.append(self.rmeans[i][s:s + self.L])
            f0.append(fe.f0[s:s + self.L])
            vo.append(fe.voicing[s:s + self.L])
            if fe.content is not None:
                ct.append(fe.content[s:s + self.L])
            y.append(m[s * self.hop - D:(s + self.L) * self.hop - D])
            for k, v in feats.items():
                tf.setdefault(k, []).append(v[_teacher_frames(s, self.L, self.hop, D, thop, v.shape[0])])
        d = self.device
        return {"logmel": torch.stack(lm).to(d), "f0": torch.stack(f0).to(d),
                "rmean": torch.stack(rm).to(d) if rm else None,
                "voicing": torch.stack(vo).to(d), "target": torch.stack(y).to(d),
                "content": torch.stack(ct).to(d) if ct else None,
                "teacher": {k: torch.stack(v).to(d) for k, v in tf.items()}}


def _pick_sources(cache: dict[str, Any], scfg: Any, rng: np.random.Generator) -> list[Any]:
    """What a picking student's table is built from: per reference file of
    the target, its front end (with the content key), the steps kept (at
    most ``pick_frames`` in all, a random subset) and their envelopes
    (WORLD's reading of the target's own audio on the ``log_env`` grid, each
    frame less its mean: the level is the network's), aligned as the teacher
    features are. Lowers ``scfg.pick_frames`` to the steps there are."""
    import torch

    from .audio_features import audio_log_env
    from .student import PICK_BINS, frontend

    refs = [r.numpy() for r in cache.get("reference", [])]
    if not refs:
        raise DistillInputError("pick_k needs the target's reference audio in the cache")
    fes, envs = [], []
    for r in refs:
        fe = frontend(r, scfg)
        T = fe.f0.numel()
        env = audio_log_env(r, int(cache["sample_rate"]), scfg.hop, PICK_BINS)
        e = torch.from_numpy(env[_teacher_frames(0, T, scfg.hop, scfg.lookahead, float(scfg.hop),
                                                 env.shape[0]).numpy()]).float()
        fes.append(fe)
        envs.append(e - e.mean(-1, keepdim=True))
    total = sum(len(e) for e in envs)
    n = min(int(scfg.pick_frames), total)
    if n < max(scfg.pick_k, 1):
        raise DistillInputError(f"the target's reference audio has {total} steps; pick_k {scfg.pick_k} needs more")
    keep = np.sort(rng.choice(total, size=n, replace=False))
    scfg.pick_frames = n
    out, start = [], 0
    for fe, e in zip(fes, envs):
        k = keep[(keep >= start) & (keep < start + len(e))] - start
        if len(k):
            idx = torch.from_numpy(k).long()
            out.append((fe, idx, e[idx]))
        start += len(e)
    return out


def follow_master(scfg: Any, master: dict[str, Any]) -> None:
    """What a student takes from its master's config: the warp factors it
    picks α from (``warp_range``) and how far ahead the master reads its F0
    and voicing (``yin_offset``: world2)."""
    if master.get("warp_range") is not None:
        scfg.warp_range = (float(master["warp_range"][0]), float(master["warp_range"][1]))
    scfg.pitch_advance = int(master.get("yin_offset", 0))
    try:
        scfg.pitch_delay_steps
    except ValueError as e:
        raise DistillInputError(f"master {master.get('name')!r} cannot be followed: {e}") from None


def _kd_config(cfg: Any, teacher_dims: dict[str, int]) -> Any:
    from .kd import DistillationConfig, L1CosineLoss, StaticLossBalancer

    crit = {}
    for s, t in cfg.kd_pairs:
        for name in (sorted(teacher_dims) if t == "*" else [t]):
            if name in teacher_dims:
                crit[(s, name)] = L1CosineLoss()
    if not crit or cfg.kd_weight <= 0:
        return None
    return DistillationConfig(criterion=crit,
                              loss_balancer=StaticLossBalancer(kd_loss_weight=cfg.kd_weight))


def _target_logmel_mean(cache: dict[str, Any], scfg: Any) -> Any:
    """Mean log-mel of the target's reference audio over voiced steps."""
    import torch

    from .student import frontend

    fes = [frontend(r.numpy(), scfg) for r in cache.get("reference", [])]
    if not fes:
        raise DistillInputError("warp_grid needs the target's reference audio in the cache")
    lm = torch.cat([f.logmel for f in fes], 0)
    v = torch.cat([f.voicing for f in fes], 0) >= scfg.pitch.vthreshold
    return lm[v].mean(0) if bool(v.any()) else lm.mean(0)


def train_tier(cfg: DistillConfig, cache_path: str | Path, voice: Any, tier_name: str,
               report: Any = None) -> dict[str, Any]:
    """Trains one tier's student on the cache; saves its checkpoint and
    returns {"checkpoint", "steps", "seconds", "curve", ...}."""
    import torch

    from .kd import LayerDistiller, MultiResolutionSTFTLoss
    from .student import PitchSpec, Student, config_from_tier

    from .trainplan import get_lr, resolve

    t_entry = time.time()  # the budget covers this tier's set-up (cache load, statistics) too
    plan = resolve(cfg, voice, tier_name)
    steps, bs, seg_s, seed, budget = plan.steps, plan.batch_size, plan.segment_seconds, plan.seed, \
        plan.time_budget_s
    device = _resolve_device(plan.device)
    torch.manual_seed(seed)
    torch.set_flush_denormal(True)
    rng = np.random.default_rng(seed)

    cache = load_cache(cache_path)
    tier = voice.tier(tier_name)
    scfg = config_from_tier(tier.preset, PitchSpec.from_mapping(cache["pitch"]))
    scfg.sample_rate = int(cache["sample_rate"])
    follow_master(scfg, cache.get("master") or {})
    seg_frames = max(plan.warmup_frames + 8, int(round(seg_s * scfg.sample_rate / scfg.hop)))
    data = _Segments([u for u in cache["utts"] if u["split"] == "train"], scfg, seg_frames,
                     device, rng)
    picks = _pick_sources(cache, scfg, rng) if scfg.pick_k else None
    model = Student(scfg).to(device)
    mean, std, prior = data.feature_stats()
    model.feat_mean.copy_(mean)
    model.feat_std.copy_(std)
    model.norm_prior.copy_(prior)
    if scfg.norm_tau > 0:
        data.set_running_means(model)
    if scfg.warp_grid:
        model.set_warp_target(_target_logmel_mean(cache, scfg))
    if picks is not None:
        model.set_pick_table(picks)
    stft_loss = MultiResolutionSTFTLoss(plan.fft_sizes).to(device)
    kd_cfg = _kd_config(plan, data.teacher_dims())
    distiller = None
    params = list(model.parameters())
    if kd_cfg is not None:
        b = data.batch(2)
        _, hid = model(b["logmel"], b["f0"], b["voicing"], return_hidden=True, rmean=b["rmean"],
                       content=b["content"])
        distiller = LayerDistiller(kd_cfg).build(hid, b["teacher"]).to(device)
        params += list(distiller.parameters())
    opt = torch.optim.AdamW(params, lr=plan.learning_rate, weight_decay=plan.weight_decay)
    pruner = _pruner(model, tier.preset, cache) if getattr(tier.preset, "prune_target", "") else None

    w0 = plan.warmup_frames * scfg.hop
    curve: list[tuple[int, float, float]] = []
    t0 = time.time()
    if budget is not None:
        budget = max(budget - (t0 - t_entry), 1e-3)
    step, ema = 0, None
    while step < steps:
        elapsed = time.time() - t0
        if budget is not None and elapsed >= budget:
            break
        progress = max(step / steps, elapsed / budget if budget else 0.0)
        if pruner is not None and pruner.active and progress >= plan.prune_fraction:
            model, params, opt, distiller = _prune_now(pruner, model, distiller, plan)
        for g in opt.param_groups:
            g["lr"] = get_lr(plan, step, progress)
        b = data.batch(bs)
        masks = pruner.masks() if pruner is not None and pruner.active else None
        y, hid = model(b["logmel"], b["f0"], b["voicing"], return_hidden=True,
                       rmean=b["rmean"], masks=masks, content=b["content"])
        loss_main = stft_loss(y[:, w0:], b["target"][:, w0:])
        if distiller is not None:
            w = plan.warmup_frames
            loss, _ = distiller.compute_kd_loss({k: v[:, w:] for k, v in hid.items()},
                                                {k: v[:, w:] for k, v in b["teacher"].items()},
                                                student_loss=loss_main)
        else:
            loss = loss_main
        if masks is not None:
            loss = loss + pruner.penalty(progress / plan.prune_fraction)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, plan.grad_clip)
        opt.step()
        if masks is not None:
            pruner.step()
        step += 1
        lm = float(loss_main.detach())
        ema = lm if ema is None else 0.95 * ema + 0.05 * lm
        if step % 10 == 0 or step == 1:
            curve.append((step, round(time.time() - t0, 2), round(lm, 4)))
            if report is not None:
                report(step, steps, time.time() - t0, budget, ema)
    if pruner is not None and pruner.active:  # stopped (steps or budget) inside the gate phase
        model, params, opt, distiller = _prune_now(pruner, model, distiller, plan)
    seconds = time.time() - t0
    model = model.cpu().eval()
    audio_s = step * bs * seg_frames * scfg.hop / scfg.sample_rate
    info = {"tier": tier_name, "steps": step, "seconds": round(seconds, 2), "device": device,
            "batch_size": bs, "segment_frames": seg_frames,
            "audio_seconds_trained": round(audio_s, 1),
            "audio_seconds_per_second": round(audio_s / max(seconds, 1e-9), 1),
            "final_loss": round(ema or float("nan"), 4), "curve": curve,
            "kd_pairs": sorted(distiller.heads.keys()) if distiller else [],
            "plan": plan.to_dict()}
    if pruner is not None:
        info["prune"] = {"from": tier_name, "to": tier.preset.prune_target, **pruner.summary}
    if plan.postfilter:
        from .postfilter import fit_postfilter

        info["postfilter"] = fit_postfilter(model, data, plan.postfilter_width_hz,
                                            max_beta=plan.postfilter_max_beta)
    ckpt = tier_checkpoint(cfg, voice.id, tier_name)
    _atomic_torch_save({"config": model.cfg.to_dict(), "state": model.state_dict(), "train": info,
                        "cache": str(cache_path)}, ckpt)
    info["checkpoint"] = str(ckpt)
    return info


def _pruner(model: Any, preset: Any, cache: dict[str, Any]) -> Any:
    """The gate phase of a pruned tier: towards the network cost of the
    preset its ``prune_target`` names (same pitch definition)."""
    from .prune import Pruner, student_network_flops
    from .student import PitchSpec, config_from_tier
    from .tiers import get_tier_preset

    target = config_from_tier(get_tier_preset(preset.prune_target), PitchSpec.from_mapping(cache["pitch"]))
    target.sample_rate = model.cfg.sample_rate
    try:
        return Pruner(model, student_network_flops(target))
    except ValueError as e:
        raise DistillInputError(f"tier preset {preset.name!r}: {e}") from None


def _prune_now(pruner: Any, model: Any, distiller: Any, plan: Any) -> tuple[Any, list[Any], Any, Any]:
    """Ends the gate phase: the pruned student, its distillation heads
    re-pointed at the kept units, and a fresh optimiser for the fine-tune."""
    import torch

    from .prune import slice_consumer_inputs

    model, consumers = pruner.finish(model)
    params = list(model.parameters())
    if distiller is not None:
        for key, head in list(distiller.heads.items()):
            layer = key.split("__to__")[0]
            if layer in consumers:
                distiller.heads[key] = slice_consumer_inputs(head, consumers[layer]).to(head.weight.device)
        params += list(distiller.parameters())
    opt = torch.optim.AdamW(params, lr=plan.learning_rate, weight_decay=plan.weight_decay)
    return model, params, opt, distiller


def load_student(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """(Student in eval mode, checkpoint dict) from a tier checkpoint."""
    import torch

    from .student import Student, StudentConfig

    ck = torch.load(path, weights_only=False, map_location="cpu")
    model = Student(StudentConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["state"])
    return model.eval(), ck
