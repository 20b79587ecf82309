"""HTML report of a distillation: QA table against the bars, spectrograms of
the master and every tier on a held-out utterance, quality against cost, and
training curves. Plots are matplotlib PNGs embedded as data URIs (one
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

__all__ = ["write_report", "format_table", "TABLE_COLUMNS"]

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
        fig.suptitle("log-mel spectrograms, held-out utterance")
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
    ref = qa.get("reference", {})
    for split, title in (("heldout", "Held-out speakers"), ("seen", "Seen (training) speakers")):
        r = ref.get(split, {})
        if not r:
            continue
        parts.append(f"<h2>{title}</h2><p>{r.get('utterances')} utterances, {r.get('seconds')} s, "
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
    if ex.is_dir():
        parts.append("<h2>Audio</h2><ul>" + "".join(
            f"<li>{html.escape(p.stem)}: <audio controls src=\"examples/{html.escape(p.name)}\"></audio></li>"
            for p in sorted(ex.glob("*.wav"))) + "</ul>")
    css = ("body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px}.bad{background:#fdd}"
           ".ok{background:#dfd}")
    doc = f"<!doctype html><meta charset=utf-8><title>voiceskin report</title><style>{css}</style>" \
          + "\n".join(parts)
    path = folder / "report.html"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".report.html.tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
    return path
