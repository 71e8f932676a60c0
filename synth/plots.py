"""PNG plots of the reports (matplotlib; skipped with a note if it is not installed)."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["make_plots"]


def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def make_plots(out: Path, rows: list, sweep_rows: list) -> list:
    plt = _plt()
    if plt is None:
        print("[synth] matplotlib is not installed: no plots (pip install matplotlib)")
        return []
    out = Path(out)
    written = []
    good = [r for r in rows if r.get("area_um2")]
    if good:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        labels = [r["design"] for r in good]
        axes[0].barh(labels, [r["area_um2"] for r in good], color="tab:blue")
        axes[0].set_xlabel("osu018 area (um^2)")
        axes[0].set_xscale("log")
        e = [(r["design"], r["pj_per_op"], r.get("pj_per_op_icg"), r.get("op", ""))
             for r in good if r.get("pj_per_op")]
        labels_e = [f"{d} [{op}]" for d, _, _, op in e]
        ys = range(len(e))
        axes[1].barh([y + 0.2 for y in ys], [v for _, v, _, _ in e], height=0.4,
                     color="tab:red", label="none")
        axes[1].barh([y - 0.2 for y in ys], [g or 0 for _, _, g, _ in e], height=0.4,
                     color="tab:green", label="icg")
        axes[1].set_yticks(list(ys), labels_e)
        axes[1].legend(fontsize=7)
        axes[1].set_xlabel("energy per operation (pJ)")
        axes[1].set_xscale("log")
        fig.suptitle("Area and energy per block (OSU 0.18 um, 1.8 V)")
        fig.tight_layout()
        path = out / "blocks.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    # Sweeps: one figure per (block, swept parameter).
    by_block = {}
    for r in sweep_rows:
        if r.get("area_um2"):
            by_block.setdefault(r["block"], []).append(r)
    for block, rs in by_block.items():
        params = [json.loads(r["params"]) for r in rs]
        varying = [k for k in params[0] if len({json.dumps(p[k]) for p in params}) > 1
                   and all(isinstance(p[k], (int, float)) and not isinstance(p[k], bool)
                           for p in params)]
        for k in varying:
            fig, ax1 = plt.subplots(figsize=(5.5, 4))
            others = [o for o in varying if o != k]
            groups = {}
            for p, r in zip(params, rs):
                groups.setdefault(tuple((o, p[o]) for o in others), []).append((p[k], r))
            for g, pts in groups.items():
                pts.sort(key=lambda t: t[0])
                tag = ",".join(f"{o}={v}" for o, v in g)
                ax1.plot([x for x, _ in pts], [r["area_um2"] for _, r in pts], "o-",
                         label=f"area {tag}".strip(), color="tab:blue")
            ax1.set_xlabel(k)
            ax1.set_ylabel("osu018 area (um^2)")
            handles = ax1.get_lines()
            if any(r.get("pj_per_op") for r in rs):
                ax2 = ax1.twinx()
                for g, pts in groups.items():
                    tag = ",".join(f"{o}={v}" for o, v in g)
                    ax2.plot([x for x, _ in pts], [r.get("pj_per_op") or float("nan")
                                                   for _, r in pts], "s--", color="tab:red",
                             label=f"energy/op {tag}".strip())
                ax2.set_ylabel("pJ per operation (dashed)")
                handles = handles + ax2.get_lines()
                ax2.legend(handles, [h.get_label() for h in handles], fontsize=7)
            else:
                ax1.legend(fontsize=7)
            ax1.set_title(f"{block}: area and energy against {k}")
            fig.tight_layout()
            path = out / f"sweep-{block}-{k}.png"
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
    return written
