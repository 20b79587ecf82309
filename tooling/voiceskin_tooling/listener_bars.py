"""Bars on what a listener hears, read on one split of ``qa.json`` (the test
split: new people and sentences, never used for a design choice).

* **The master against the input** (a master worth distilling): ``wer`` at
  most the input's + 0.08; ``dnsmos_ovrl`` at least the input's − 0.3;
  ``identity_margin`` at least +0.05; ``similarity`` at least 0.75.
* **Each tier against the master** (a tier that copies it well): for the
  highest / lowest tier, ``wer`` ≤ master + 0.03 / + 0.08, ``dnsmos_ovrl``
  ≥ master − 0.15 / − 0.3, ``identity_margin`` ≥ master − 0.02 / − 0.05;
  and, faithfulness to the master (this project's choice), ``envelope_error``
  ≤ 4.0 / 5.0 dB and ``logmel_ratio`` ≤ 0.50 / 0.60. Highest and lowest go
  by rank on the quality ladder (:func:`.tiers.ladder_rank`: the preset's
  rank, a pruned tier's that of the preset it is pruned to), not by place
  in the voice's list; ranks in between get bars interpolated, and tiers of
  equal rank (a tier and its pruned twin) the same bars. A tier *better*
  than the master on a measure is flagged as such (``better_than_master``).
* **Ordering**: a tier is "worse beyond the interval" than one of the next
  rank below on a measure when its value lies outside that tier's 95 %
  interval on the worse side. Tiers of equal rank are not ordered: they are
  compared as twins (``twins``: which one is better beyond both intervals).
* **With and without the post-filter**: where the QA also scored the tiers
  without their formant post-filters (``<tier>-nopf``), the ordering is
  checked again on those (``without_postfilter``: the fitted β differs per
  tier and the speaker encoder rewards sharpening, so this is the order of
  the networks themselves), and each post-filter's effect is stated
  (``postfilter``: the measures on which the tier is better / worse than
  without it, beyond the interval of the tier without it). Reported, not
  acted on: the test split makes no choice.

These bars are reported (qa.json ``listener_bars``, the console, the
report); the distillation's pass/fail still rests on the per-tier bars of
:mod:`.qa` (``check_thresholds``).
"""
from __future__ import annotations

from itertools import combinations
from typing import Any, Mapping, Sequence

from .tiers import ladder, ladder_fraction, ladder_steps

__all__ = ["MASTER_BARS", "TIER_BARS", "tier_bars", "check_listener_bars", "bar_rows", "order_summary", "ORDER_MEASURES",
           "beyond_interval", "beyond_both"]

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


def beyond_both(a: dict[str, Any], b: dict[str, Any], higher: bool) -> int:
    """+1 when ``b`` is better than ``a`` beyond both intervals (each value
    outside the other's 95 % interval), −1 when worse, 0 otherwise: two
    systems of equal standing (twins) compared with each other."""
    step = beyond_interval(a, b, higher)
    return step if step and beyond_interval(b, a, higher) == -step else 0


def tier_bars(tier: str, tier_names: Sequence[str] | Mapping[str, float]) -> dict[str, tuple[str, float]]:
    """The tier's bars: the lowest-ranked tier gets the loose numbers, the
    highest-ranked the tight ones, ranks between interpolated. ``tier_names``:
    name -> rank (the voice's ``TierSpec.rank``), or a plain list ranked by
    position (lowest first)."""
    f = ladder_fraction(tier, tier_names)
    return {m: (kind, lo + f * (hi - lo)) for m, (kind, hi, lo) in TIER_BARS.items()}


def _value(systems: dict[str, Any], system: str, measure: str) -> float | None:
    v = (systems.get(system) or {}).get(measure)
    return None if v is None else float(v["value"])


def check_listener_bars(qa: dict[str, Any], tier_names: Sequence[str] | Mapping[str, float],
                        split: str = "test") -> dict[str, Any] | None:
    """The bars above on ``split`` of a qa dict (None when the split is
    missing). ``tier_names``: name -> rank, or a plain list ranked by
    position. Each check: {"value", "limit", "met"} (+ "master" and
    "better_than_master" for tiers); a measure the QA lacks is left out.
    Tiers of equal rank are listed under "twins" ({"tiers", "differences"}),
    not ordered."""
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
    steps = ladder_steps(tier_names)
    out["order"], out["order_violations"] = _order(S, steps, {t: t for t in tier_names})
    out["ordered"] = not out["order_violations"]
    # the same networks without their post-filters (when the QA scored them:
    # "<tier>-nopf"; a tier with no post-filter is its own), and what each
    # post-filter changes beyond the interval of its tier without it
    raw = {t: f"{t}-nopf" if f"{t}-nopf" in S else t for t in tier_names}
    if any(r != t for t, r in raw.items()):
        order, violations = _order(S, steps, raw)
        out["without_postfilter"] = {"order": order, "ordered": not violations, "order_violations": violations}
        out["postfilter"] = {t: _postfilter_effect(S[t], S[r]) for t, r in raw.items() if r != t and t in S}
    out["twins"] = []
    rank = ladder(tier_names)
    for a_t, b_t in (p for rung in steps for p in combinations(rung, 2)):
        diffs = []
        for m, higher in ORDER_MEASURES.items():
            a, b = (S.get(a_t) or {}).get(m), (S.get(b_t) or {}).get(m)
            step = 0 if a is None or b is None else beyond_both(a, b, higher)
            if step:
                (wt, w), (lt, l_) = ((b_t, b), (a_t, a)) if step > 0 else ((a_t, a), (b_t, b))
                diffs.append(f"{wt} better than {lt} on {m}: {w['value']:.3f} vs {l_['value']:.3f}, "
                             "beyond both intervals")
        out["twins"].append({"tiers": [a_t, b_t], "rank": rank[a_t], "differences": diffs})
    out["master_met"] = all(c["met"] for c in out["master"].values()) if out["master"] else None
    out["tiers_met"] = {t: all(c["met"] for c in cs.values()) for t, cs in out["tiers"].items()}
    return out


def _order(S: dict[str, Any], steps: list[list[str]], system: Mapping[str, str]
           ) -> tuple[dict[str, bool], list[str]]:
    """Per measure, whether no tier is worse beyond its interval than one of
    the rung below, and the violations; each tier scored as ``system[tier]``."""
    pairs = [(lo_t, hi_t) for below, above in zip(steps, steps[1:]) for lo_t in below for hi_t in above]
    order, violations = {}, []
    for m, higher in ORDER_MEASURES.items():
        ok = True
        for lo_t, hi_t in pairs:
            lo, hi = (S.get(system[lo_t]) or {}).get(m), (S.get(system[hi_t]) or {}).get(m)
            if lo is None or hi is None:
                continue
            if beyond_interval(lo, hi, higher) < 0:
                ok = False
                violations.append(f"{system[hi_t]} worse than {system[lo_t]} on {m}: {hi['value']:.3f} outside "
                                  f"[{lo['ci95'][0]:.3f}, {lo['ci95'][1]:.3f}]")
        order[m] = ok
    return order, violations


def _postfilter_effect(with_pf: dict[str, Any], without: dict[str, Any]) -> dict[str, list[str]]:
    """The measures on which a tier with its post-filter is better / worse
    than without it, beyond the interval of the tier without it."""
    out: dict[str, list[str]] = {"better": [], "worse": []}
    for m, higher in ORDER_MEASURES.items():
        if m in with_pf and m in without:
            step = beyond_interval(without[m], with_pf[m], higher)
            if step:
                out["better" if step > 0 else "worse"].append(m)
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
    """One line on the tiers' order, for the console and the report (and
    on twins, tiers of equal rank, when there are any)."""
    s = ("tiers ordered (no higher tier worse than a lower one beyond its 95 % interval): "
         + ("yes" if lb["ordered"] else "no — " + "; ".join(lb["order_violations"])))
    wp = lb.get("without_postfilter")
    if wp is not None:
        s += (". Without their post-filters: " + ("ordered" if wp["ordered"]
                                                   else "not ordered — " + "; ".join(wp["order_violations"])))
    for t, eff in (lb.get("postfilter") or {}).items():
        said = [f"better on {', '.join(eff['better'])}"] if eff["better"] else []
        said += [f"worse on {', '.join(eff['worse'])}"] if eff["worse"] else []
        s += (f". {t}'s post-filter: " + ("; ".join(said) if said else "no change beyond the interval")
              + f" (against {t}-nopf)")
    for tw in lb.get("twins") or []:
        a, b = tw["tiers"]
        s += (f". {a} and {b} are twins (equal rank): compared as twins, not ordered — "
              + ("; ".join(tw["differences"]) if tw["differences"] else "the same within both intervals"))
    return s
