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


def make_plots(out: Path, rows: list, head_rows: list, sweep_rows: list) -> list:
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
        e = [(r["design"], r["pj_per_op"], r.get("op", "")) for r in good if r.get("pj_per_op")]
        axes[1].barh([f"{d} [{op}]" for d, _, op in e], [v for _, v, _ in e], color="tab:red")
        axes[1].set_xlabel("energy per operation (pJ)")
        axes[1].set_xscale("log")
        fig.suptitle("Area and energy per block (OSU 0.18 um, 1.8 V)")
        fig.tight_layout()
        path = out / "blocks.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    ok = [r for r in head_rows if "error" not in r]
    if ok:
        fig, axes = plt.subplots(1, 3, figsize=(14, 4))
        for name in dict.fromkeys(r["datapath"] for r in ok):
            pts = sorted((r["n"], r) for r in ok if r["datapath"] == name)
            ns = [n for n, _ in pts]
            axes[0].plot(ns, [r["energy_pj"] for _, r in pts], "o-", label=name)
            axes[1].plot(ns, [r["edp_pj_ns"] for _, r in pts], "o-", label=name)
            axes[2].plot(ns, [r["memory_bits"] for _, r in pts], "o-", label=name)
        for ax, title in zip(axes, ("energy per dot product (pJ)", "EDP (pJ x ns)",
                                    "bits moved per dot product")):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("dot-product length N")
            ax.set_title(title)
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        path = out / "headline.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    if ok:
        # Against bits: area and energy per dot product at each length, per lane count.
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
        for (lanes, n) in sorted({(r.get("lanes", 1), r["n"]) for r in ok}):
            pts = sorted((r["bits"], r) for r in ok if r.get("lanes", 1) == lanes and r["n"] == n
                         and r["datapath"].startswith("DNA"))
            base = [r for r in ok if r.get("lanes", 1) == lanes and r["n"] == n
                    and not r["datapath"].startswith("DNA")]
            tag = f"N={n}" + (f", {lanes} lanes" if lanes != 1 else "")
            line = axes[1].plot([b for b, _ in pts], [r["energy_pj"] for _, r in pts], "o-",
                                label=f"DNA-TEQ {tag}")[0]
            if base:
                axes[1].plot([8], [base[0]["energy_pj"]], "s", color=line.get_color(),
                             label=f"INT8 {tag}")
            if n == max(r["n"] for r in ok):
                axes[0].plot([b for b, _ in pts], [r["area_um2"] for _, r in pts], "o-",
                             label=f"DNA-TEQ, {lanes} lane(s)")
                if base:
                    axes[0].plot([8], [base[0]["area_um2"]], "s",
                                 label=f"INT8 MAC + requant, {lanes} lane(s)")
        axes[0].set_title("area (osu018 um^2)")
        axes[1].set_title("energy per dot product (pJ)")
        for ax in axes:
            ax.set_xlabel("bits per operand (DNA-TEQ n; INT8 at 8)")
            ax.set_yscale("log")
        axes[0].legend(fontsize=6, loc="upper left")
        axes[1].legend(fontsize=6, loc="center left", bbox_to_anchor=(1.02, 0.5))
        fig.tight_layout()
        path = out / "headline-bits.png"
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
