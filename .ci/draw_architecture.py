"""Draw the architecture diagram of MiniLiquidGPT for the docs: nbs/images/architecture.svg.

The labels name the modules and attributes of liquid_nbdev.model and liquid_nbdev.cell, so rerun
this script and commit the SVG when those names change. With --png PATH it also writes a PNG.
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "nbs" / "images" / "architecture.svg"

# Fill colours: one per kind of component, so the two panels read alike.
EMBED, FAST, DEEP, NORM, STATE, PLAIN = "#dbe9f6", "#d9f0d3", "#fde0c5", "#eeeeee", "#f3e5f5", "#ffffff"


def box(ax, x, y, w, h, text, color=PLAIN, size=9, style="round,pad=0.02,rounding_size=0.08", **kw):
    "Draw a box centred at `(x, y)` with `w` by `h` data units and centred text."
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, fc=color, ec="#333333", lw=1.0, **kw))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, linespacing=1.35)


def arrow(ax, start, end, dashed=False, color="#333333", rad=0.0):
    "Draw an arrow from `start` to `end`; dashed arrows carry the recurrent state."
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, lw=1.1, color=color,
                                 linestyle="--" if dashed else "-", connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=0, shrinkB=0))


def draw_model(ax):
    "Left panel: the stack of MiniLiquidGPT.forward, with the state carried between chunks."
    x, w = 3.2, 4.6
    rows = [  # (y, height, text, colour)
        (13.2, 0.7, "idx: token ids  (B, T)", PLAIN),
        (11.8, 1.2, "tok_emb(idx) * sqrt(d_model)\n+ sinusoidal_positions(state.pos, T, d_model)\n(B, T, d_model)", EMBED),
        (10.0, 1.0, "blocks[0 .. n_fast-1]: LiquidBlock\nfast: Euler, fast_steps=1 per token", FAST),
        (8.3, 1.2, "blocks[n_fast .. n_layer-1]: LiquidBlock\ndeep: RK2, deep_steps=3 per token\nPlasticSynapse: W + alpha * hebb", DEEP),
        (6.7, 0.7, "ln_f: LayerNorm", NORM),
        (5.4, 1.0, "lm_head, weight tied to tok_emb\nlogits  (B, T, vocab_size)", EMBED),
    ]
    for y, h, text, color in rows: box(ax, x, y, w, h, text, color)
    for (y0, h0, *_), (y1, h1, *_) in zip(rows, rows[1:]):
        arrow(ax, (x, y0 - h0 / 2), (x, y1 + h1 / 2))

    # The recurrent state: read at the start of a chunk, returned at its end for the next call.
    sx = 7.1
    box(ax, sx, 12.2, 2.5, 1.3, "LiquidState in\npos, h[i] (B, H)\nhebb[i] (B, heads, d, d)", STATE, size=8.5)
    box(ax, sx, 5.4, 2.5, 1.3, "LiquidState out\npos + T, h[i], hebb[i]\nto the next chunk", STATE, size=8.5)
    for y in (10.0, 8.3):
        arrow(ax, (sx - 0.5, 11.55), (x + w / 2, y + 0.25), dashed=True, color="#7b1fa2")
        arrow(ax, (x + w / 2, y - 0.25), (sx - 0.5, 6.05), dashed=True, color="#7b1fa2")
    arrow(ax, (sx + 1.25, 5.4), (sx + 1.25, 12.2), dashed=True, color="#7b1fa2", rad=0.0)
    ax.text(sx + 1.4, 8.8, "next call:\nmodel(idx, state)", fontsize=8, color="#7b1fa2", rotation=90, va="center")
    ax.text(x, 14.1, "MiniLiquidGPT.forward(idx, state)", ha="center", fontsize=11, weight="bold")


def plus(ax, x, y, color="#1565c0"):
    "Draw a circled plus at `(x, y)`: the addition of a residual connection."
    ax.add_patch(plt.Circle((x, y), 0.2, fc="white", ec=color, lw=1.2))
    ax.text(x, y - 0.02, "+", ha="center", va="center", fontsize=12, color=color, weight="bold")


def draw_block(ax):
    "Right panel: one LiquidBlock and the per-token loop inside its LiquidODE."
    x0, w, blue = 12.3, 3.6, "#1565c0"
    ax.text(x0 + 0.9, 14.1, "LiquidBlock.forward(x, (h, hebb))", ha="center", fontsize=11, weight="bold")
    box(ax, x0, 13.35, w, 0.55, "x  (B, T, d_model)")
    box(ax, x0, 12.35, w, 0.55, "ln_1: LayerNorm", NORM)

    # LiquidODE: one matmul for all tokens, then the sequential loop of the cell.
    ax.add_patch(FancyBboxPatch((x0 - 2.3, 7.75), 6.6, 3.95, boxstyle="round,pad=0.02,rounding_size=0.1",
                                fc="#fafafa", ec="#555555", lw=1.0, ls="--"))
    ax.text(x0 - 2.15, 11.45, "liquid: LiquidODE", fontsize=9, weight="bold", va="center")
    box(ax, x0, 10.9, w, 0.55, "u = cell.input_proj(x)  (B, T, H)")
    box(ax, x0, 9.75, w, 1.05, "for each token t: cell.solve_token\nsteps x (euler | rk2 | fused)\nf = sigmoid(u_t + W_rec h)", FAST)
    box(ax, x0, 8.4, w, 0.75, "recurrent.update_trace\nhebb from tanh(h_new), tanh(h_old)", DEEP, size=8.5)
    box(ax, x0 + 3.05, 9.1, 1.3, 1.9, "(h, hebb)\ncarried\ntoken to\ntoken", STATE, size=8.5)
    arrow(ax, (x0 + 2.4, 9.75), (x0 + 1.8, 9.75), dashed=True, color="#7b1fa2")
    arrow(ax, (x0 + 1.8, 8.4), (x0 + 2.4, 8.4), dashed=True, color="#7b1fa2")

    box(ax, x0, 7.05, w, 0.55, "out_proj: W_o  (B, T, H) -> (B, T, d_model)")
    plus(ax, x0, 6.2)
    box(ax, x0, 5.35, w, 0.55, "ln_2: LayerNorm", NORM)
    box(ax, x0, 4.3, w, 0.75, "mlp: Linear -> GELU -> Linear\n(mlp_ratio * d_model hidden units)")
    plus(ax, x0, 3.4)
    box(ax, x0, 2.65, w, 0.5, "x  (B, T, d_model)")
    for y0, y1 in [(13.075, 12.625), (12.075, 11.175), (10.625, 10.275), (9.225, 8.775), (8.025, 7.325),
                   (6.775, 6.4), (6.0, 5.625), (5.075, 4.675), (3.925, 3.6), (3.2, 2.9)]:
        arrow(ax, (x0, y0), (x0, y1))

    # Pre-norm residual connections: x + W_o LiquidODE(LN(x)), then x + MLP(LN(x)).
    rx = x0 - 2.6
    for y_from, y_plus in [(12.85, 6.2), (5.8, 3.4)]:
        ax.plot([x0, rx, rx], [y_from, y_from, y_plus], color=blue, lw=1.1)
        arrow(ax, (rx, y_plus), (x0 - 0.2, y_plus), color=blue)
    ax.text(rx - 0.12, 9.0, "residual", fontsize=8, color=blue, rotation=90, va="center", ha="right")


def draw(path: Path = OUT, png: Path | None = None):
    "Draw both panels and save them as SVG to `path` (and as PNG to `png` when given)."
    plt.rcParams.update({"font.family": "DejaVu Sans", "svg.hashsalt": "liquid_nbdev", "svg.fonttype": "path"})
    fig, ax = plt.subplots(figsize=(12.6, 8.0))
    ax.set_xlim(0.6, 17.0); ax.set_ylim(2.2, 14.5); ax.axis("off")
    draw_model(ax)
    draw_block(ax)
    ax.plot([9.3, 9.3], [2.4, 14.4], color="#bbbbbb", lw=0.8)
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})
    if png is not None: fig.savefig(png, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", type=Path, default=None, help="also write a PNG to this path, e.g. to look at it")
    args = parser.parse_args()
    draw(OUT, args.png)
    print(f"wrote {OUT}" + (f" and {args.png}" if args.png else ""))


if __name__ == "__main__":
    main()
