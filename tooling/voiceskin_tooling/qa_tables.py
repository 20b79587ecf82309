"""Console tables of the listener-side QA (``voiceskin distill``,
``voiceskin inspect``, the main job): one table per split, one row per
system (input, master, every tier), each measure as ``value [95 % interval]``.
"""
from __future__ import annotations

from typing import Any, Sequence

__all__ = ["listening_table", "bars_table", "print_listening", "CONSOLE_KEYS"]

#: measures shown on the console (the HTML report and qa.json have all)
CONSOLE_KEYS: tuple[str, ...] = ("wer", "dnsmos_ovrl", "similarity", "identity_margin",
                                 "target_nearest", "envelope_error", "logmel_ratio",
                                 "identity_recovery", "f0_mean_offset_cents", "f0_spread_ratio")

_TITLES = {"validation": "validation speakers (tuned on)", "test": "test speakers (never tuned on)",
           "seen": "seen (training) speakers"}


def listening_table(qa: dict[str, Any], split: str, voice: str = "",
                    keys: Sequence[str] = CONSOLE_KEYS) -> Any:
    """A rich Table of one split, or None when the QA has no such split."""
    from rich.table import Table

    from .qa import MEASURES, TRACKER_MEASURES, format_interval

    sp = (qa.get("splits") or {}).get(split)
    if not sp:
        return None
    ms = [m for m in MEASURES if m[0] in keys]
    title = (f"{voice + ' ' if voice else ''}what a listener hears — {_TITLES.get(split, split)}: "
             f"{sp['utterances']} utt., WER on {sp['wer_scored']}, DNSMOS on {sp['dnsmos_windows']} windows")
    t = Table(title=title)
    t.add_column("system")
    for _, label, _, better in ms:
        arrow = {"lower": " ↓", "higher": " ↑", "zero": " →0", "one": " →1"}[better]
        t.add_column(label + arrow, justify="right")
    for system, vals in sp["systems"].items():
        t.add_row(system, *[format_interval(vals.get(k), f) for k, _, f, _ in ms])
    inp = sp["systems"].get("input", {})
    tr = [f"{k.replace('yin_', '').replace('_', ' ')} {format_interval(inp.get(k), '{:.1%}', ci=False)}"
          for k, _ in TRACKER_MEASURES if inp.get(k)]
    if tr:
        t.caption = "causal tracker vs Praat on the input: " + ", ".join(tr)
    return t


def bars_table(qa: dict[str, Any], voice: str = "") -> Any:
    """A rich Table of ``qa["listener_bars"]`` (:mod:`.listener_bars`): the
    master against the input, each tier against the master, the ordering;
    None when the QA has none."""
    from rich.table import Table

    from .listener_bars import bar_rows, order_summary

    lb = qa.get("listener_bars")
    if not lb:
        return None
    t = Table(title=f"{voice + ' ' if voice else ''}bars on the {lb['split']} split "
                    "(master vs input; tiers vs master)")
    for h in ("system", "measure", "value", "bar", "met"):
        t.add_column(h, justify="left" if h in ("system", "measure") else "right")

    for system, m, value, bar, met, better in bar_rows(lb):
        t.add_row(system, m, f"{value:.3f}", bar,
                  ("[green]yes[/]" if met else "[red]no[/]") + (" (better than master)" if better else ""))
    t.caption = order_summary(lb)
    return t


def print_listening(console: Any, qa: dict[str, Any], voice: str = "",
                    splits: Sequence[str] = ("validation", "test")) -> None:
    """Prints the listener-side tables of ``splits`` that the QA has, and
    its notes (e.g. no cohort)."""
    for split in splits:
        t = listening_table(qa, split, voice)
        if t is not None:
            console.print(t)
    t = bars_table(qa, voice)
    if t is not None:
        console.print(t)
    for n in qa.get("notes") or []:
        console.print(f"[yellow]note:[/] {n}")
