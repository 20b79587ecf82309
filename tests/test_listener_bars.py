"""Bars on what a listener hears (listener_bars.py), read from a qa dict:
the master against the input, each tier against the master, the ordering."""
from __future__ import annotations

import pytest

from voiceskin_tooling.listener_bars import check_listener_bars, order_summary, tier_bars


def _m(v: float, lo: float | None = None, hi: float | None = None) -> dict:
    return {"value": v, "ci95": [v - 0.01 if lo is None else lo, v + 0.01 if hi is None else hi], "n": 10}


def _qa(**systems: dict) -> dict:
    return {"splits": {"test": {"systems": systems}}}


TIERS = ["low", "medium", "high"]


def test_lowest_tier_gets_the_loose_bars_and_the_highest_the_tight_ones() -> None:
    assert tier_bars("low", TIERS)["wer"] == ("max_over_master", pytest.approx(0.08))
    assert tier_bars("high", TIERS)["wer"] == ("max_over_master", pytest.approx(0.03))
    assert tier_bars("medium", TIERS)["dnsmos_ovrl"][1] == pytest.approx(0.225)
    assert tier_bars("medium", TIERS)["envelope_error"][1] == pytest.approx(4.5)
    assert tier_bars("only", ["only"])["identity_margin"][1] == pytest.approx(0.02)


def test_master_is_judged_against_the_input_and_tiers_against_the_master() -> None:
    qa = _qa(input={"wer": _m(0.40), "dnsmos_ovrl": _m(2.9), "similarity": _m(0.5), "identity_margin": _m(-0.2)},
             master={"wer": _m(0.60), "dnsmos_ovrl": _m(2.7), "similarity": _m(0.76), "identity_margin": _m(0.06)},
             low={"wer": _m(0.66), "dnsmos_ovrl": _m(2.3), "identity_margin": _m(0.07),
                  "envelope_error": _m(4.8), "logmel_ratio": _m(0.55)},
             medium={"wer": _m(0.64), "dnsmos_ovrl": _m(2.5), "identity_margin": _m(0.07),
                     "envelope_error": _m(4.2), "logmel_ratio": _m(0.52)},
             high={"wer": _m(0.62), "dnsmos_ovrl": _m(2.6), "identity_margin": _m(0.075),
                   "envelope_error": _m(3.9), "logmel_ratio": _m(0.49)})
    b = check_listener_bars(qa, TIERS)
    assert b["master"]["wer"]["met"] is False and b["master"]["wer"]["limit"] == pytest.approx(0.48)
    assert b["master"]["dnsmos_ovrl"]["met"] is True
    assert b["master"]["identity_margin"]["met"] and b["master"]["similarity"]["met"]
    assert b["master_met"] is False
    low = b["tiers"]["low"]
    assert low["wer"]["met"] and low["wer"]["limit"] == pytest.approx(0.68)
    assert not low["dnsmos_ovrl"]["met"]  # 2.3 < 2.7 − 0.3
    assert low["identity_margin"]["better_than_master"] and not low["wer"]["better_than_master"]
    assert b["tiers_met"] == {"low": False, "medium": True, "high": True}
    assert b["ordered"] is True


def test_a_higher_tier_worse_than_a_lower_one_beyond_its_interval_breaks_the_order() -> None:
    qa = _qa(master={"wer": _m(0.5)},
             low={"wer": _m(0.55, 0.50, 0.60), "similarity": _m(0.70, 0.68, 0.72)},
             medium={"wer": _m(0.59, 0.52, 0.66), "similarity": _m(0.69, 0.67, 0.71)},  # within low's
             high={"wer": _m(0.70, 0.60, 0.80), "similarity": _m(0.72, 0.70, 0.74)})    # beyond medium's
    b = check_listener_bars(qa, TIERS)
    assert b["ordered"] is False
    assert b["order"]["wer"] is False and b["order"]["similarity"] is True
    assert len(b["order_violations"]) == 1 and "high worse than medium on wer" in b["order_violations"][0]


def test_a_missing_split_or_measure_is_left_out_not_failed() -> None:
    assert check_listener_bars({"splits": {}}, TIERS) is None
    b = check_listener_bars(_qa(input={}, master={"similarity": _m(0.8)}, low={}, medium={}, high={}), TIERS)
    assert list(b["master"]) == ["similarity"] and b["tiers"]["low"] == {}


# ----------------------------------------------- bars and order by rank, not by place in the list

def _ranks(names: list[str]) -> dict[str, int]:
    """name -> rank on the ladder, as distill passes them (TierSpec.rank)."""
    from voiceskin_tooling.tiers import get_tier_preset, ladder_rank

    return {n: ladder_rank(get_tier_preset(n)) for n in names}


def test_a_pruned_twin_gets_its_tiers_bars_not_the_next_rungs() -> None:
    from voiceskin_tooling.qa import bars_for_tier

    ranks = _ranks(["low", "low-pruned", "high"])
    assert ranks == {"low": 0, "low-pruned": 0, "high": 2}  # the twin ranks with the preset it is pruned to
    for bars in (tier_bars, bars_for_tier):
        assert bars("low-pruned", ranks) == bars("low", ranks) != bars("high", ranks)
    assert tier_bars("low-pruned", ranks)["wer"][1] == pytest.approx(0.08)
    assert tier_bars("high", ranks)["wer"][1] == pytest.approx(0.03)
    assert bars_for_tier("low-pruned", ranks)["max_logmel_ratio"] == pytest.approx(0.75)
    # a plain low / medium / high voice: the same numbers by rank as by position
    assert all(tier_bars(t, _ranks(TIERS)) == tier_bars(t, TIERS) for t in TIERS)
    assert all(bars_for_tier(t, _ranks(TIERS)) == bars_for_tier(t, TIERS) for t in TIERS)


def test_list_order_that_is_not_ladder_order_still_gives_the_lowest_tier_the_loose_bars() -> None:
    from voiceskin_tooling.qa import bars_for_tier

    ranks = _ranks(["high", "low"])
    assert tier_bars("low", ranks)["envelope_error"][1] == pytest.approx(5.0)
    assert tier_bars("high", ranks)["envelope_error"][1] == pytest.approx(4.0)
    assert bars_for_tier("low", ranks)["min_identity_recovery"] == pytest.approx(0.60)
    assert bars_for_tier("high", ranks)["min_identity_recovery"] == pytest.approx(0.80)
    qa = _qa(master={"wer": _m(0.5)}, high={"wer": _m(0.70, 0.65, 0.75)}, low={"wer": _m(0.55, 0.50, 0.60)})
    b = check_listener_bars(qa, ranks)
    assert b["order_violations"] == ["high worse than low on wer: 0.700 outside [0.500, 0.600]"]


def test_twins_are_compared_as_twins_and_each_is_ordered_against_the_rung_above() -> None:
    ranks = _ranks(["low", "low-pruned", "high"])
    # low-pruned worse than low beyond both intervals: not an ordering violation (twins)
    qa = _qa(master={"wer": _m(0.5)},
             low={"wer": _m(0.55, 0.52, 0.66)},
             **{"low-pruned": {"wer": _m(0.70, 0.68, 0.72)}},
             high={"wer": _m(0.64, 0.60, 0.68)})
    b = check_listener_bars(qa, ranks)
    assert b["order_violations"] == []  # high (0.64) within low's [0.52, 0.66]; better than low-pruned
    qa["splits"]["test"]["systems"]["high"]["wer"] = _m(0.74, 0.73, 0.75)
    b = check_listener_bars(qa, ranks)
    assert b["order"]["wer"] is False
    assert sorted(b["order_violations"]) == ["high worse than low on wer: 0.740 outside [0.520, 0.660]",
                                             "high worse than low-pruned on wer: 0.740 outside [0.680, 0.720]"]
    (tw,) = b["twins"]
    assert tw["tiers"] == ["low", "low-pruned"] and tw["rank"] == 0
    # the twins differ beyond both intervals: said, not counted against the order
    assert tw["differences"] == ["low better than low-pruned on wer: 0.550 vs 0.700, beyond both intervals"]
    assert "low and low-pruned are twins (equal rank): compared as twins, not ordered" in order_summary(b)


def test_the_order_is_checked_again_without_the_post_filters_and_each_post_filter_effect_is_stated() -> None:
    # with their post-filters medium out-sharpens high (similarity); without
    # them high is above medium, and high has no post-filter (no -nopf row)
    qa = _qa(master={"wer": _m(0.5)},
             low={"similarity": _m(0.70), "wer": _m(0.60, 0.55, 0.65)},
             medium={"similarity": _m(0.76), "wer": _m(0.62, 0.57, 0.67)},
             high={"similarity": _m(0.72), "wer": _m(0.60, 0.55, 0.65)},
             **{"low-nopf": {"similarity": _m(0.68), "wer": _m(0.61, 0.56, 0.66)},
                "medium-nopf": {"similarity": _m(0.70), "wer": _m(0.70, 0.66, 0.74)}})
    b = check_listener_bars(qa, TIERS)
    assert b["ordered"] is False
    assert b["order_violations"] == ["high worse than medium on similarity: 0.720 outside [0.750, 0.770]"]
    wp = b["without_postfilter"]
    # low-nopf -> medium-nopf: WER 0.70 outside [0.56, 0.66]; medium-nopf -> high: fine
    assert wp["ordered"] is False and wp["order"]["similarity"] is True and wp["order"]["wer"] is False
    assert wp["order_violations"] == ["medium-nopf worse than low-nopf on wer: 0.700 outside [0.560, 0.660]"]
    assert b["postfilter"] == {"low": {"better": ["similarity"], "worse": []},
                               "medium": {"better": ["wer", "similarity"], "worse": []}}
    s = order_summary(b)
    assert "Without their post-filters: not ordered — medium-nopf worse than low-nopf on wer" in s
    assert "medium's post-filter: better on wer, similarity (against medium-nopf)" in s
    # a post-filter that costs words is said so
    qa["splits"]["test"]["systems"]["low"]["wer"] = _m(0.75)
    assert check_listener_bars(qa, TIERS)["postfilter"]["low"] == {"better": ["similarity"], "worse": ["wer"]}


def test_without_any_nopf_scores_there_is_no_second_order() -> None:
    qa = _qa(master={"wer": _m(0.5)}, low={"wer": _m(0.6)}, medium={"wer": _m(0.6)}, high={"wer": _m(0.6)})
    b = check_listener_bars(qa, TIERS)
    assert "without_postfilter" not in b and "postfilter" not in b
    assert "Without their post-filters" not in order_summary(b)
