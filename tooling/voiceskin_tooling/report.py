"""HTML report of a distillation: what a listener hears (input, master and
every tier per split, with 95 % intervals, and per speaker), side-by-side
players of input, master and each tier on several test utterances next to
their scores, the QA table against today's bars, spectrograms, quality
against cost, and training curves. Plots are matplotlib PNGs embedded as data URIs (one
self-contained file); without matplotlib the report has the tables only.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ["write_report", "format_table", "TABLE_COLUMNS", "listening_html", "players_html"]

#: (key, header, format, bar key, "min"/"max")
TABLE_COLUMNS: list[tuple[str, str, str, str | None, str]] = [
    ("identity_recovery", "identity", "{:.2f}", "min_identity_recovery", "min"),
    ("f0_median_cents", "F0 med ¢", "{:.1f}", "max_f0_median_cents", "max"),
    ("f0_gross_fraction", ">1 st", "{:.1%}", "max_f0_gross_fraction", "max"),
    ("voicing_error", "voicing err", "{:.1%}", "max_voicing_error", "max"),
    ("logmel_ratio", "log-mel ratio", "{:.2f}", "max_logmel_ratio", "max"),
]


def _fmt(v: Any, f: str) -> str:
    if v is None:
        return "—"
    try:
        return f.format(v)
    except (ValueError, TypeError):
        return str(v)


def _ok(v: Any, bar: Any, kind: str) -> bool | None:
    if v is None or bar is None:
        return None
    return v >= bar if kind == "min" else v <= bar


def format_table(qa: dict[str, Any], split: str = "heldout") -> list[list[str]]:
    """Rows of strings (header first): tier, each metric as "value (bar ✓/✗)",
    params, MFLOP/s, native % core."""
    head = ["tier"] + [c[1] for c in TABLE_COLUMNS] + ["params", "MFLOP/s", "% core @48k"]
    rows = [head]
    for name, r in qa["tiers"].items():
        s = r.get(split, {})
        bars = r.get("bars", {})
        row = [name]
        for key, _, f, bar, kind in TABLE_COLUMNS:
            v = s.get(key)
            b = bars.get(bar) if bar else None
            ok = _ok(v, b, kind)
            mark = "" if ok is None or split != "heldout" else (" ✓" if ok else " ✗")
            bs = f" ({'≥' if kind == 'min' else '≤'}{_fmt(b, f)})" if b is not None and split == "heldout" else ""
            row.append(_fmt(v, f) + mark + bs)
        row += [f"{r.get('parameters', 0):,}", f"{r.get('flops_per_second', 0) / 1e6:.0f}",
                _fmt(r.get("core_percent_48k"), "{:.3f}")]
        rows.append(row)
    return rows


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _plots(vs: dict[str, Any], folder: Path) -> dict[str, str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:  # noqa: BLE001 - optional
        return {}
    import soundfile as sf

    from .qa import _logmel

    out: dict[str, str] = {}
    qa = vs["qa"]
    tiers = list(qa["tiers"])
    ex_dir = folder / "examples"
    names = ["input", "master"] + tiers
    specs = []
    for n in names:
        p = ex_dir / f"{n}.wav"
        if p.is_file():
            a, sr = sf.read(str(p), dtype="float32")
            specs.append((n, _logmel(a, sr)))
    if specs:
        fig, axes = plt.subplots(len(specs), 1, figsize=(9, 1.7 * len(specs)), sharex=True)
        axes = np.atleast_1d(axes)
        lo = min(s.min() for _, s in specs)
        hi = max(s.max() for _, s in specs)
        for ax, (n, s) in zip(axes, specs):
            ax.imshow(s, origin="lower", aspect="auto", vmin=max(lo, hi - 10), vmax=hi, cmap="magma")
            ax.set_ylabel(n, rotation=0, ha="right", va="center")
            ax.set_yticks([])
        axes[-1].set_xlabel("frames (16 ms)")
        fig.suptitle("log-mel spectrograms, first example utterance")
        out["spectrograms"] = _png(fig)
    # quality vs cost
    xs = [qa["tiers"][t].get("flops_per_second", 0) / 1e6 for t in tiers]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3))
    for ax, (key, lab) in zip(axes, [("logmel_ratio", "log-mel ratio (↓)"),
                                     ("f0_median_cents", "F0 median cents (↓)"),
                                     ("identity_recovery", "identity recovery (↑)")]):
        for split, mk in (("heldout", "o-"), ("seen", "s--")):
            ys = [qa["tiers"][t].get(split, {}).get(key) for t in tiers]
            if all(y is not None for y in ys):
                ax.plot(xs, ys, mk, label=split)
        for x, t in zip(xs, tiers):
            ax.annotate(t, (x, ax.get_ylim()[0]), fontsize=7)
        ax.set_xlabel("MFLOP/s")
        ax.set_title(lab, fontsize=9)
        ax.legend(fontsize=7)
    out["cost"] = _png(fig)
    # training curves
    tr = vs.get("training", {})
    if tr:
        fig, ax = plt.subplots(figsize=(7, 3))
        for t, info in tr.items():
            c = np.array(info.get("curve", []), dtype=float)
            if c.size:
                ax.plot(c[:, 1], c[:, 2], label=f"{t} ({info['steps']} steps)")
        ax.set_xlabel("seconds")
        ax.set_ylabel("multi-res STFT loss")
        ax.legend(fontsize=7)
        ax.set_title("training curves", fontsize=9)
        out["curves"] = _png(fig)
    return out


def _table_html(rows: list[list[str]]) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = ""
    for r in rows[1:]:
        cells = ""
        for c in r:
            cls = ' class="bad"' if "✗" in c else (' class="ok"' if "✓" in c else "")
            cells += f"<td{cls}>{html.escape(c)}</td>"
        body += f"<tr>{cells}</tr>"
    return f"<table><tr>{h}</tr>{body}</table>"


_SPLIT_TITLES = {"validation": "validation (tuned on)", "test": "test (never used for a choice)",
                 "seen": "seen (training speakers)"}
#: compact per-speaker table
_SPEAKER_KEYS = ("wer", "dnsmos_ovrl", "similarity", "identity_margin", "envelope_error",
                 "f0_mean_offset_cents")


def listening_html(qa: dict[str, Any]) -> str:
    """Per split: input / master / tiers on every listener-side measure
    with intervals; the causal tracker on the input; per-speaker tables."""
    from .qa import MEASURES, TRACKER_MEASURES, format_interval, listening_rows

    splits = qa.get("splits") or {}
    if not splits:
        return ""
    parts = ["<h2>What a listener hears</h2>",
             "<p>Each cell: value [95 % bootstrap interval over utterances; DNSMOS over 9-s windows]. "
             f"Recogniser: {html.escape(str(qa.get('recogniser')))}; DNSMOS: "
             f"{html.escape(str(qa.get('dnsmos_model')))}; speaker encoder: "
             f"{html.escape(str(qa.get('speaker_encoder')))}; identity cohort: "
             f"{html.escape(', '.join(qa.get('cohort') or []) or 'none')}. "
             "F0 of master and students is shared by construction (one PITCH_YIN + PITCH_MAP track), "
             "so pitch is checked on the input's causal tracker and on each output's F0 register "
             f"against the target's (target log-F0 mean {_fmt((qa.get('target_f0') or {}).get('hz'), '{:.0f}')} Hz). "
             "Envelope error: dB between a tier's and the master's WORLD envelopes on frames voiced in both.</p>"]
    for n in qa.get("notes") or []:
        parts.append(f"<p class=note>{html.escape(n)}</p>")
    lb = qa.get("listener_bars")
    if lb:
        from .listener_bars import bar_rows, order_summary

        rows = [["system", "measure", "value", "bar", "met"]]
        rows += [[system, m, f"{value:.3f}", bar, ("✓" if met else "✗") + (" (better than master)" if better else "")]
                 for system, m, value, bar, met, better in bar_rows(lb)]
        parts.append(f"<h3>Bars on the {html.escape(lb['split'])} split</h3><p>The master against the input, "
                     "each tier against the master (listener_bars.py). " + html.escape(order_summary(lb)) + "</p>")
        parts.append(_table_html(rows))
    for split, sp in splits.items():
        parts.append(f"<h3>{html.escape(_SPLIT_TITLES.get(split, split))}</h3><p>{sp['utterances']} "
                     f"utterances, {sp['seconds']} s, speakers {html.escape(', '.join(sp['speakers_list']))}; "
                     f"WER on {sp['wer_scored']} English utterances with a known sentence; DNSMOS on "
                     f"{sp['dnsmos_windows']} windows of {sp['listen_utterances']} utterances.</p>")
        parts.append(_table_html(listening_rows(qa, split)))
        inp = sp["systems"].get("input", {})
        rows = [["causal tracker (PITCH_YIN) vs Praat on the input", "fraction"]]
        rows += [[lab, format_interval(inp.get(k), "{:.1%}")] for k, lab in TRACKER_MEASURES if inp.get(k)]
        if len(rows) > 1:
            parts.append(_table_html(rows))
        labels = {k: lab for k, lab, _, _ in MEASURES}
        fmts = {k: f for k, _, f, _ in MEASURES}
        srows = [["speaker", "system"] + [labels[k] for k in _SPEAKER_KEYS]]
        for spk, d in sp.get("speakers", {}).items():
            for system in qa.get("systems", []):
                if system in d:
                    srows.append([f"{spk} ({d['utterances']})", system]
                                 + [format_interval(d[system].get(k), fmts[k], ci=False) for k in _SPEAKER_KEYS])
        parts.append(f"<details><summary>per speaker ({len(sp.get('speakers', {}))})</summary>"
                     f"{_table_html(srows)}</details>")
    return "\n".join(parts)


def players_html(qa: dict[str, Any], folder: Path) -> str:
    """Side-by-side players (input, master, each tier) for the example
    utterances, next to their scores; the WAVs lie in ``folder/examples``."""
    exs = qa.get("examples")
    if not isinstance(exs, list) or not exs:
        return ""
    parts = ["<h2>Listen: input, master and every tier side by side</h2>",
             "<p>Scores of that utterance (WER and what the recogniser heard, similarity to the target, "
             "margin over the nearest cohort voice, envelope error vs the master, F0 mean vs the "
             "target's); DNSMOS is the speaker's over the split.</p>"]
    for e in exs:
        head = (f"<h3>{html.escape(e['id'])}: {html.escape(e['speaker'])} ({html.escape(str(e['split']))}, "
                f"{e['seconds']} s)</h3>")
        if e.get("text"):
            head += f"<p>sentence: <i>{html.escape(e['text'])}</i></p>"
        rows = ["<tr><th>system</th><th>listen</th><th>WER</th><th>heard</th><th>sim</th><th>margin</th>"
                "<th>rank</th><th>env. err dB</th><th>F0 ¢ vs target</th><th>DNSMOS (speaker)</th></tr>"]
        for system, f in e.get("files", {}).items():
            sc = e.get("scores", {}).get(system, {})
            ok = (folder / "examples" / f).is_file()
            player = f'<audio controls preload=none src="examples/{html.escape(f)}"></audio>' if ok else "missing"
            rows.append(f"<tr><td>{html.escape(system)}</td><td>{player}</td>"
                        f"<td>{_fmt(sc.get('wer'), '{:.2f}')}</td>"
                        f"<td class=heard>{html.escape(sc.get('heard') or '—')}</td>"
                        f"<td>{_fmt(sc.get('similarity'), '{:.3f}')}</td>"
                        f"<td>{_fmt(sc.get('identity_margin'), '{:+.3f}')}</td>"
                        f"<td>{_fmt(sc.get('target_rank'), '{}')}</td>"
                        f"<td>{_fmt(sc.get('envelope_error'), '{:.2f}')}</td>"
                        f"<td>{_fmt(sc.get('f0_mean_offset_cents'), '{:+.0f}')}</td>"
                        f"<td>{_fmt(sc.get('speaker_dnsmos_ovrl'), '{:.2f}')}</td></tr>")
        parts.append(head + "<table>" + "".join(rows) + "</table>")
    return "\n".join(parts)


def write_report(vs: dict[str, Any], folder: str | Path) -> Path:
    """Writes ``report.html`` (and ``report.json``) into ``folder``."""
    folder = Path(folder)
    qa = vs["qa"]
    plots = _plots(vs, folder)
    parts = [f"<h1>voiceskin distillation report — {html.escape(vs['display_name'])} "
             f"(<code>{html.escape(vs['voice'])}</code> {html.escape(vs['version'])})</h1>",
             f"<p>master <code>{html.escape(vs['master'])}</code>; pitch tracker for QA: "
             f"{html.escape(str(qa.get('tracker')))}; speaker encoder: "
             f"{html.escape(str(qa.get('speaker_encoder')))}.</p>"]
    parts.append(listening_html(qa))
    parts.append(players_html(qa, folder))
    parts.append("<h2>Against the master (today's bars: validation split)</h2>")
    ref = qa.get("reference", {})
    for split, title in (("heldout", "Validation (held-out) speakers"), ("test", "Test speakers"),
                         ("seen", "Seen (training) speakers")):
        r = ref.get(split, {})
        if not r:
            continue
        parts.append(f"<h3>{title}</h3><p>{r.get('utterances')} utterances, {r.get('seconds')} s, "
                     f"speakers {', '.join(r.get('speakers', []))}. Input → master log-mel distance "
                     f"{_fmt(r.get('input_logmel_distance'), '{:.3f}')}; similarity to target: input "
                     f"{_fmt(r.get('sim_input'), '{:.3f}')}, master {_fmt(r.get('sim_master'), '{:.3f}')}.</p>")
        parts.append(_table_html(format_table(qa, split)))
    fails = {t: r.get("failures", []) for t, r in qa["tiers"].items()}
    if any(fails.values()):
        parts.append("<h2>Bars missed</h2><ul>" + "".join(
            f"<li><b>{html.escape(t)}</b>: {html.escape(m)}</li>" for t, ms in fails.items() for m in ms)
            + "</ul>")
    else:
        parts.append("<h2>All tiers meet their bars</h2>")
    tr = vs.get("training", {})
    if tr:
        rows = [["tier", "steps", "seconds", "audio s / s", "final loss", "device", "KD pairs"]]
        for t, i in tr.items():
            rows.append([t, str(i["steps"]), str(i["seconds"]), str(i["audio_seconds_per_second"]),
                         str(i["final_loss"]), i["device"], ", ".join(i.get("kd_pairs", [])) or "—"])
        parts.append("<h2>Training</h2>" + _table_html(rows))
    for key, title in (("spectrograms", "Spectrograms"), ("cost", "Quality against cost"),
                       ("curves", "Training curves")):
        if key in plots:
            parts.append(f"<h2>{title}</h2><img src=\"{plots[key]}\">")
    ex = folder / "examples"
    legacy = [ex / f"{n}.wav" for n in ["input", "master"] + list(qa["tiers"])]
    if any(p.is_file() for p in legacy):
        parts.append("<h2>Audio of the spectrograms' utterance</h2><ul>" + "".join(
            f"<li>{html.escape(p.stem)}: <audio controls src=\"examples/{html.escape(p.name)}\"></audio></li>"
            for p in legacy if p.is_file()) + "</ul>")
    css = ("body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px}.bad{background:#fdd}"
           ".ok{background:#dfd}.note{color:#a40}.heard{font-size:11px;max-width:260px}"
           "audio{height:28px;width:220px}")
    doc = f"<!doctype html><meta charset=utf-8><title>voiceskin report</title><style>{css}</style>" \
          + "\n".join(parts)
    path = folder / "report.html"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".report.html.tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
    return path
