"""Diagrams of recurrent networks, drawn with matplotlib patches.

Each function draws into Axes that the caller owns, so a chapter can place a diagram
wherever its figure needs it, and returns the artists it made so that tests can count
them. Geometry is in data units: step t (0-based) is centred at x = t * STEP (a little
wider when bidirectional), and the rows of cells stack upwards from the x labels at y = 0.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.text import Text

STEP = 1.7          # horizontal distance between the centres of two time steps
CELL_W = 0.9        # width of a cell box
CELL_H = 0.55       # height of a cell box
ROW_GAP = 1.15      # vertical distance between the cells of two stacked layers
BI_RISE = 1.0       # how much higher the backward cells sit than the forward ones
BI_LAYER_GAP = 1.6  # bidirectional: from a layer's backward row to the next forward row
LABEL_GAP = 1.0     # vertical distance from an x/y label to the nearest box centre
FORWARD_COLOR = "#dbe9f6"
BACKWARD_COLOR = "#e3f1dc"


@dataclass
class RNNDiagram:
    """The artists one call to :func:`draw_unrolled_rnn` added to its Axes."""

    cells: list[FancyBboxPatch] = field(default_factory=list)
    arrows: list[FancyArrowPatch] = field(default_factory=list)
    labels: list[Text] = field(default_factory=list)
    junctions: list[Circle] = field(default_factory=list)


def _step_tag(t: int) -> str:
    return r"\langle " + str(t) + r"\rangle"


def draw_unrolled_rnn(
    ax: Axes,
    T: int,
    *,
    layers: int = 1,
    bidirectional: bool = False,
    x_steps: Sequence[int] | None = None,
    y_steps: Sequence[int] | None = None,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    cell_label: str | None = None,
    cell_colors: Sequence[str] | None = None,
    state_labels: bool = True,
    show_a0: bool = True,
    fontsize: float = 12,
) -> RNNDiagram:
    """Draw an RNN unrolled over ``T`` time steps into ``ax``.

    Each cell is a rounded box. Recurrent arrows carry the hidden state from one step to
    the next; inputs enter from below and predictions leave from the top.

    Args:
        ax: Axes to draw into. Its limits are set to fit the diagram, its axis is hidden.
        T: number of time steps (columns).
        layers: number of stacked recurrent layers (a deep RNN when > 1); the state of
            layer l at step t is labelled a^{[l]<t>}.
        bidirectional: if True, every layer has a forward row (states pass left to right)
            and, above it, a backward row (right to left); both rows read the same input
            and both feed the output, which is marked by a small dot between layers.
        x_steps: 0-based steps that receive an input x (default: every step).
        y_steps: 0-based steps that emit a prediction y-hat (default: every step).
        x_labels, y_labels: mathtext for each entry of ``x_steps`` / ``y_steps``
            (default: x^{<t>} and y-hat^{<t>} with t = step + 1).
        cell_label: text written inside every cell, e.g. "GRU" (default: empty boxes).
        cell_colors: one face colour per step (default: blue forward, green backward).
        state_labels: write a^{<t>} above each recurrent arrow.
        show_a0: draw the initial state a^{<0>} entering the first cell (and the backward
            initial state entering the last cell).
        fontsize: size of the labels.

    Returns:
        The cells, arrows, labels and junction dots that were added to ``ax``.
    """
    if T < 1 or layers < 1:
        raise ValueError(f"need T >= 1 and layers >= 1, got T={T}, layers={layers}")
    x_steps = list(range(T)) if x_steps is None else list(x_steps)
    y_steps = list(range(T)) if y_steps is None else list(y_steps)
    if x_labels is None:
        x_labels = [rf"$x^{{{_step_tag(t + 1)}}}$" for t in x_steps]
    if y_labels is None:
        y_labels = [rf"$\hat{{y}}^{{{_step_tag(t + 1)}}}$" for t in y_steps]
    if len(x_labels) != len(x_steps) or len(y_labels) != len(y_steps):
        raise ValueError("need exactly one label per entry of x_steps and of y_steps")
    if cell_colors is not None and len(cell_colors) != T:
        raise ValueError(f"cell_colors needs {T} entries, got {len(cell_colors)}")

    out = RNNDiagram()
    directions = ["forward", "backward"] if bidirectional else ["forward"]
    # A bidirectional column holds two narrower cells side by side, the backward one
    # raised, so that each recurrent arrow passes beside the other row's cell.
    step = STEP * 1.3 if bidirectional else STEP
    w = CELL_W * 0.66 if bidirectional else CELL_W
    shift = {"forward": -0.6 * w, "backward": 0.6 * w} if bidirectional else {"forward": 0.0}
    free = step - w - 2 * abs(shift["forward"])   # length of arrow not beside another cell
    label_pad = 0.28                                # gap between a label's centre and an arrow

    def arrow(start: tuple[float, float], end: tuple[float, float]) -> None:
        patch = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, lw=1.2,
                                color="0.2", shrinkA=0, shrinkB=0)
        ax.add_patch(patch)
        out.arrows.append(patch)

    def label(x: float, y: float, s: str, scale: float = 1.0) -> None:
        out.labels.append(ax.text(x, y, s, ha="center", va="center", fontsize=fontsize * scale))

    def state_name(direction: str, layer: int, t: int) -> str:
        superscript = (f"[{layer + 1}]" if layers > 1 else "") + _step_tag(t)
        if not bidirectional:
            return rf"$a^{{{superscript}}}$"
        # The thin space stops mathtext from tucking the superscript under the arrow.
        a = r"\overrightarrow{a}\," if direction == "forward" else r"\overleftarrow{a}\,"
        return rf"${a}^{{{superscript}}}$"

    # Height of every row of cells (rows[layer][direction]); the x labels sit at y = 0.
    rows: list[dict[str, float]] = []
    y = LABEL_GAP
    for layer in range(layers):
        rows.append({d: y + i * BI_RISE for i, d in enumerate(directions)})
        y = rows[-1][directions[-1]] + (BI_LAYER_GAP if bidirectional else ROW_GAP)
    y_label_y = rows[-1][directions[-1]] + LABEL_GAP

    def cell_x(t: int, direction: str) -> float:
        return t * step + shift[direction]

    for layer in range(layers):
        for direction in directions:
            y = rows[layer][direction]
            for t in range(T):
                if cell_colors is not None:
                    color = cell_colors[t]
                else:
                    color = FORWARD_COLOR if direction == "forward" else BACKWARD_COLOR
                box = FancyBboxPatch((cell_x(t, direction) - w / 2, y - CELL_H / 2), w, CELL_H,
                                     boxstyle="round,pad=0.02,rounding_size=0.08",
                                     fc=color, ec="0.2", lw=1.2)
                ax.add_patch(box)
                out.cells.append(box)
                if cell_label:
                    label(cell_x(t, direction), y, cell_label, scale=0.8)
            # Recurrent arrows: the state computed at step t leaves cell t for the next cell
            # in this direction; the initial state enters from outside the first cell.
            sign = 1 if direction == "forward" else -1
            order = list(range(T)) if sign == 1 else list(range(T - 1, -1, -1))
            senders = [None] * show_a0 + order[:-1]
            for src, dst in zip(senders, order[len(order) - len(senders):]):
                xb = cell_x(dst, direction) - sign * w / 2
                xa = xb - sign * free if src is None else cell_x(src, direction) + sign * w / 2
                arrow((xa, y), (xb, y))
                if state_labels:
                    t_state = (0 if sign == 1 else T + 1) if src is None else src + 1
                    # Centre the label on the part of the arrow not beside another cell.
                    label(xb - sign * free / 2, y + label_pad,
                          state_name(direction, layer, t_state), scale=0.95)

    # Vertical wiring. Every cell of a layer reads from one source point per column: the
    # x label, the top of the cell below, or (bidirectional) a junction dot where both
    # directions of the layer below meet.
    for t in range(T):
        cx = t * step
        source = (cx, label_pad) if t in x_steps else None
        for layer in range(layers):
            if source is not None:
                for direction in directions:
                    arrow(source, (cell_x(t, direction), rows[layer][direction] - CELL_H / 2))
            is_top = layer == layers - 1
            if is_top and t not in y_steps:
                break
            if bidirectional or is_top:
                target_y = y_label_y - label_pad if is_top else rows[layer]["backward"] + BI_LAYER_GAP / 2
                for direction in directions:
                    # Two heads meeting at one point would merge into a blob: keep them apart.
                    arrow((cell_x(t, direction), rows[layer][direction] + CELL_H / 2),
                          (cx + 0.15 * shift[direction], target_y))
                if not is_top:
                    dot = Circle((cx, target_y), 0.05, color="0.2")
                    ax.add_patch(dot)
                    out.junctions.append(dot)
                source = (cx, target_y)
            else:
                source = (cx, rows[layer]["forward"] + CELL_H / 2)

    for t, s in zip(x_steps, x_labels):
        label(t * step, 0.0, s)
    for t, s in zip(y_steps, y_labels):
        label(t * step, y_label_y, s)

    margin = 0.35
    left = cell_x(0, "forward") - w / 2 - (free if show_a0 else 0) - margin
    right = cell_x(T - 1, directions[-1]) + w / 2 + (free if show_a0 and bidirectional else 0)
    ax.set_xlim(left, right + margin)
    ax.set_ylim(-0.45, y_label_y + 0.45)
    ax.set_aspect("equal")
    ax.axis("off")
    return out


# (title, example, keyword arguments for draw_unrolled_rnn) for each architecture.
_RNN_TYPES: list[tuple[str, str, dict]] = [
    ("one-to-one", "standard network",
     dict(T=1, show_a0=False, x_labels=["$x$"], y_labels=[r"$\hat{y}$"])),
    ("one-to-many", "music generation",
     dict(T=4, x_steps=[0], x_labels=["$x$"])),
    ("many-to-one", "sentiment classification",
     dict(T=4, y_steps=[3], y_labels=[r"$\hat{y}$"])),
    (r"many-to-many, $T_x = T_y$", "named-entity recognition",
     dict(T=4)),
    (r"many-to-many, $T_x \neq T_y$", "machine translation",
     dict(T=7, x_steps=range(4), y_steps=range(4, 7),
          y_labels=[rf"$\hat{{y}}^{{{_step_tag(t)}}}$" for t in (1, 2, 3)],
          cell_colors=[FORWARD_COLOR] * 4 + ["#fbe3c8"] * 3)),
]


def draw_rnn_types(axes: Sequence[Axes] | None = None, fontsize: float = 11) -> list[Axes]:
    """Draw the five input/output patterns of an RNN, one per Axes.

    Order: one-to-one, one-to-many, many-to-one, many-to-many with T_x = T_y, and the
    encoder-decoder many-to-many with T_x != T_y (encoder cells blue, decoder orange).
    Each Axes gets a title naming the pattern and an example task.

    Args:
        axes: five Axes to draw into; if None a new figure is made for them.
        fontsize: size of the labels inside the diagrams.

    Returns:
        The five Axes, in the order above.
    """
    make_layout = axes is None
    if make_layout:
        # Two rows; a blank fourth Axes pads the first row so both rows share one scale.
        top, bottom = plt.figure(figsize=(13, 5.2), layout="constrained").subfigures(2, 1)
        *axes, spacer = top.subplots(1, 4)
        axes += list(bottom.subplots(1, 2))
        spacer.axis("off")
    axes = list(axes)
    if len(axes) != len(_RNN_TYPES):
        raise ValueError(f"need {len(_RNN_TYPES)} Axes, got {len(axes)}")
    for ax, (title, example, kwargs) in zip(axes, _RNN_TYPES):
        draw_unrolled_rnn(ax, state_labels=False, fontsize=fontsize, **kwargs)
        ax.set_title(f"{title}\n({example})", fontsize=fontsize)
    # Name the two halves of the encoder-decoder in the space its labels leave free.
    encoder_decoder = axes[-1]
    y_top = encoder_decoder.get_ylim()[1] - 0.45
    encoder_decoder.text(1.5 * STEP, y_top, "encoder", ha="center", va="center",
                         fontsize=fontsize, style="italic")
    encoder_decoder.text(5 * STEP, 0.0, "decoder", ha="center", va="center",
                         fontsize=fontsize, style="italic")
    if make_layout:
        widths = [ax.get_xlim()[1] - ax.get_xlim()[0] for ax in axes]
        axes[0].get_gridspec().set_width_ratios(widths[:3] + [sum(widths[3:]) - sum(widths[:3])])
        axes[3].get_gridspec().set_width_ratios(widths[3:])
    return axes
