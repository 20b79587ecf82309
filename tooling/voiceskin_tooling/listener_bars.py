"""Bars on what a listener hears, read on one split of ``qa.json`` (the test
split: new people and sentences, never used for a design choice).

* **The master against the input** (a master worth distilling): ``wer`` at
  most the input's + 0.08; ``dnsmos_ovrl`` at least the input's − 0.3;
  ``identity_margin`` at least +0.05; ``similarity`` at least 0.75.
* **Each tier against the master** (a tier that copies it well): for the
  highest / lowest tier, ``wer`` ≤ master + 0.03 / + 0.08, ``dnsmos_ovrl``
  ≥ master − 0.15 / − 0.3, ``identity_margin`` ≥ master − 0.02 / − 0.05;
  and, faithfulness to the master (this project's choice), ``envelope_error``
  ≤ 4.0 / 5.0 dB and ``logmel_ratio`` ≤ 0.50 / 0.60. Tiers in between get
  bars interpolated by rank. A tier *better* than the master on a measure is
  flagged as such (``better_than_master``).
* **Ordering**: a higher tier is "worse beyond the interval" on a measure
  when its value lies outside the lower tier's 95 % interval on the worse
  side.

These bars are reported (qa.json ``listener_bars``, the console, the
report); the distillation's pass/fail still rests on the per-tier bars of
:mod:`.qa` (``check_thresholds``).
"""
from __future__ import annotations

from typing import Any, Sequence

__all__ = ["MASTER_BARS", "TIER_BARS", "tier_bars", "check_listener_bars", "bar_rows", "order_summary", "ORDER_MEASURES",
           "beyond_interval"]

#: measure -> (kind, number): "max_over_input" (value ≤ input + n),
#: "min_under_input" (value ≥ input − n), "min" (value ≥ n)
MASTER_BARS: dict[str, tuple[str, float]] = {
    "wer": ("max_over_input", 0.08),
    "dnsmos_ovrl": ("min_under_input", 0.3),
    "identity_margin": ("min", 0.05),
    "similarity": ("min", 0.75),
}

#: measure -> (kind, highest tier, lowest tier): "max_over_master" (value ≤
#: master + n), "min_under_master" (value ≥ master − n), "max" (value ≤ n)
TIER_BARS: dict[str, tuple[str, float, float]] = {
    "wer": ("max_over_master", 0.03, 0.08),
    "dnsmos_ovrl": ("min_under_master", 0.15, 0.3),
    "identity_margin": ("min_under_master", 0.02, 0.05),
    "envelope_error": ("max", 4.0, 5.0),
    "logmel_ratio": ("max", 0.50, 0.60),
}

#: measure -> True when higher is better (the ordering check)
ORDER_MEASURES: dict[str, bool] = {"wer": False, "dnsmos_ovrl": True, "similarity": True,
                                   "identity_margin": True, "envelope_error": False, "logmel_ratio": False}


def beyond_interval(ref: dict[str, Any], other: dict[str, Any], higher: bool) -> int:
    """+1 when ``other``'s value is better than ``ref``'s beyond ``ref``'s 95 %
    interval, −1 when worse beyond it, 0 inside it (``{"value", "ci95"}``
    scores; ``higher``: higher is better)."""
    v, (lo, hi) = other["value"], ref["ci95"]
    if lo <= v <= hi:
        return 0
    return 1 if (v > hi) == higher else -1


def tier_bars(tier: str, tier_names: Sequence[str]) -> dict[str, tuple[str, float]]:
    """The tier's bars: the lowest tier (first) gets the loose numbers, the
    highest (last) the tight ones, tiers between interpolated by rank."""
    n = len(tier_names)
    f = tier_names.index(tier) / (n - 1) if n > 1 else 1.0
    return {m: (kind, lo + f * (hi - lo)) for m, (kind, hi, lo) in TIER_BARS.items()}


def _value(systems: dict[str, Any], system: str, measure: str) -> float | None:
    v = (systems.get(system) or {}).get(measure)
    return None if v is None else float(v["value"])


def check_listener_bars(qa: dict[str, Any], tier_names: Sequence[str],
                        split: str = "test") -> dict[str, Any] | None:
    """The bars above on ``split`` of a qa dict (None when the split is
    missing). Each check: {"value", "limit", "met"} (+ "master" and
    "better_than_master" for tiers); a measure the QA lacks is left out."""
    sp = (qa.get("splits") or {}).get(split)
    if not sp:
        return None
    S = sp["systems"]
    out: dict[str, Any] = {"split": split, "master": {}, "tiers": {}, "order": {}}
    for m, (kind, n) in MASTER_BARS.items():
        v, ref = _value(S, "master", m), _value(S, "input", m)
        if v is None or (kind != "min" and ref is None):
            continue
        limit = ref + n if kind == "max_over_input" else ref - n if kind == "min_under_input" else n
        met = v <= limit if kind == "max_over_input" else v >= limit
        out["master"][m] = {"value": v, "input": ref, "limit": limit, "met": bool(met)}
    for t in tier_names:
        checks: dict[str, Any] = {}
        for m, (kind, n) in tier_bars(t, tier_names).items():
            v, ms = _value(S, t, m), _value(S, "master", m)
            if v is None or (kind != "max" and ms is None):
                continue
            if kind == "max":
                limit, met = n, v <= n
            elif kind == "max_over_master":
                limit, met = ms + n, v <= ms + n
            else:
                limit, met = ms - n, v >= ms - n
            c: dict[str, Any] = {"value": v, "limit": limit, "met": bool(met)}
            if ms is not None:
                c["master"] = ms
                higher = ORDER_MEASURES.get(m, True)
                c["better_than_master"] = bool(v > ms if higher else v < ms)
            checks[m] = c
        out["tiers"][t] = checks
    violations = []
    for m, higher in ORDER_MEASURES.items():
        ok = True
        for lo_t, hi_t in zip(tier_names, tier_names[1:]):
            lo, hi = (S.get(lo_t) or {}).get(m), (S.get(hi_t) or {}).get(m)
            if lo is None or hi is None:
                continue
            if beyond_interval(lo, hi, higher) < 0:
                ok = False
                violations.append(f"{hi_t} worse than {lo_t} on {m}: {hi['value']:.3f} outside "
                                  f"[{lo['ci95'][0]:.3f}, {lo['ci95'][1]:.3f}]")
        out["order"][m] = ok
    out["ordered"] = not violations
    out["order_violations"] = violations
    out["master_met"] = all(c["met"] for c in out["master"].values()) if out["master"] else None
    out["tiers_met"] = {t: all(c["met"] for c in cs.values()) for t, cs in out["tiers"].items()}
    return out


def bar_rows(lb: dict[str, Any]) -> list[tuple[str, str, float, str, bool, bool]]:
    """(system, measure, value, "≤ limit" / "≥ limit", met, better than
    master) per check of a :func:`check_listener_bars` result, master
    first: the rows the console and the HTML report show."""
    rows = []
    for system, checks in [("master", lb["master"]), *lb["tiers"].items()]:
        for m, c in checks.items():
            sign = "≥" if ORDER_MEASURES[m] else "≤"  # every bar is on the better side
            rows.append((system, m, c["value"], f"{sign} {c['limit']:.3f}", c["met"],
                         bool(c.get("better_than_master"))))
    return rows


def order_summary(lb: dict[str, Any]) -> str:
    """One line on the tiers' order, for the console and the report."""
    return ("tiers ordered (no higher tier worse than a lower one beyond its 95 % interval): "
            + ("yes" if lb["ordered"] else "no — " + "; ".join(lb["order_violations"])))
