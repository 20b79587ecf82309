"""Packing trained students into a ``.vskin`` bundle.

One bundle per voice: the voice's identity (ID, display name, version), one
tier per trained student (lowest quality first, as the voice TOML orders
them), each tier's graph exported from the student
(:func:`voiceskin_tooling.student.export`), and a QA section with the QA
scores and provenance. Files are written atomically (temp file + rename by
:func:`voiceskin.format.save_bundle`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

__all__ = ["make_spec", "bundle_bytes", "save", "qa_summary"]


def qa_summary(qa: Mapping[str, Any] | None, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON stored in the bundle: per-tier scores (no audio), bars,
    failures, the listener-side scores per split and system (without the
    per-speaker breakdown), plus provenance in ``extra``."""
    out: dict[str, Any] = {"format": "voiceskin-qa/1"}
    if qa:
        out["tracker"] = qa.get("tracker")
        out["speaker_encoder"] = qa.get("speaker_encoder")
        out["reference"] = qa.get("reference")
        out["tiers"] = qa.get("tiers")
        if qa.get("splits"):  # listener-side QA (qa.py, schema voiceskin-qa/2), per speaker left out
            for k in ("schema", "recogniser", "dnsmos_model", "cohort", "target_f0", "systems", "notes"):
                out[k] = qa.get(k)
            out["splits"] = {s: {k: v for k, v in d.items() if k != "speakers"}
                             for s, d in qa["splits"].items()}
    if extra:
        out.update(extra)
    # round-trip through JSON to drop numpy types and NaN
    return json.loads(json.dumps(out, default=_jd).replace("NaN", "null"))


def _jd(o: Any) -> Any:
    try:
        return o.item()
    except AttributeError:
        return str(o)


def tier_spec(name: str, student: Any, weights: str = "f32") -> Any:
    """One bundle tier from a Student: its exported graph, cost, and the
    latency it declares (hop + the lookahead it was trained with).
    ``weights = "int8"`` (the tier setting of that name) quantises its
    LINEAR and GRU weights (:mod:`voiceskin_tooling.quantise`)."""
    from voiceskin.format import TierSpec

    from .quantise import WEIGHT_KINDS, quantise_tier
    from .student import export, tier_cost

    if weights not in WEIGHT_KINDS:
        raise ValueError(f"tier {name!r}: weights = {weights!r}, expected one of {WEIGHT_KINDS}")
    graph, tensors = export(student)
    cost = tier_cost(student)
    c = student.cfg
    spec = TierSpec(name=name, model_sample_rate=int(c.sample_rate), hop_samples=int(c.hop),
                    latency_samples=int(c.hop + c.lookahead), parameter_count=cost["parameter_count"],
                    flops_per_second=cost["flops_per_second"], graph=graph, tensors=tensors)
    return quantise_tier(spec) if weights == "int8" else spec


def make_spec(voice: Any, students: Mapping[str, Any], qa: Mapping[str, Any] | None = None) -> Any:
    """BundleSpec for ``voice`` (a VoiceDef) from ``students`` (tier name →
    Student), tiers in the voice's order."""
    from voiceskin.format import BundleSpec

    names = [t.name for t in voice.tiers if t.name in students]
    missing = [n for n in students if n not in names]
    if missing:
        raise ValueError(f"students for tiers {missing} that voice {voice.id!r} does not define")
    if not names:
        raise ValueError(f"no trained tier for voice {voice.id!r}")
    weights = {t.name: getattr(getattr(t, "preset", None), "weights", "f32") for t in voice.tiers}
    return BundleSpec(voice_id=voice.id, display_name=voice.display_name,
                      version=voice.version,
                      tiers=[tier_spec(n, students[n], weights[n]) for n in names],
                      qa=dict(qa) if qa is not None else None)


def bundle_bytes(voice: Any, students: Mapping[str, Any], qa: Mapping[str, Any] | None = None) -> bytes:
    from voiceskin.format import write_bundle

    return write_bundle(make_spec(voice, students, qa))


def save(voice: Any, students: Mapping[str, Any], path: str | Path,
         qa: Mapping[str, Any] | None = None) -> Path:
    """Writes the bundle atomically; returns its path."""
    from voiceskin.format import save_bundle

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    save_bundle(make_spec(voice, students, qa), p)
    return p
