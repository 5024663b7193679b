"""The RNN diagrams draw the cells, arrows and labels their structure calls for."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from seqmodels.plotting import draw_rnn_types, draw_unrolled_rnn


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def count(ax, kind) -> int:
    return sum(isinstance(p, kind) for p in ax.patches)


def ends(arrow: FancyArrowPatch) -> tuple[np.ndarray, np.ndarray]:
    """Tail and tip of an arrow in data coordinates (the tip is the vertex farthest away)."""
    v = arrow.get_path().vertices[:-1]      # the last vertex only closes the head
    tip = v[np.argmax(np.linalg.norm(v - v[0], axis=1))]
    return v[0], tip


def render(ax) -> None:
    # Mathtext is parsed only when the figure is drawn, so a bad label fails here.
    ax.get_figure(root=True).canvas.draw()


@pytest.mark.parametrize("T, layers", [(1, 1), (4, 1), (5, 3)])
def test_unidirectional_counts(ax, T, layers):
    d = draw_unrolled_rnn(ax, T, layers=layers)
    render(ax)
    recurrent = layers * T                  # T - 1 links per layer plus the a<0> arrow
    vertical = T * (layers + 1)             # x -> layer 1 -> ... -> layer L -> y-hat
    assert count(ax, FancyBboxPatch) == len(d.cells) == T * layers
    assert count(ax, FancyArrowPatch) == len(d.arrows) == recurrent + vertical
    assert count(ax, Circle) == 0
    assert len(ax.texts) == len(d.labels) == 2 * T + layers * T   # x, y-hat, one state per arrow


@pytest.mark.parametrize("T, layers", [(3, 1), (4, 2)])
def test_bidirectional_counts(ax, T, layers):
    d = draw_unrolled_rnn(ax, T, layers=layers, bidirectional=True)
    render(ax)
    assert count(ax, FancyBboxPatch) == 2 * T * layers
    # Each cell has one incoming recurrent arrow, one input arrow and one output arrow.
    assert count(ax, FancyArrowPatch) == 3 * (2 * T * layers)
    assert count(ax, Circle) == len(d.junctions) == T * (layers - 1)
    assert len(ax.texts) == 2 * T + 2 * T * layers
    # Half of the horizontal arrows point right to left.
    tails_tips = [ends(a) for a in d.arrows]
    horizontal = [(tail, tip) for tail, tip in tails_tips if np.isclose(tail[1], tip[1])]
    leftwards = [(tail, tip) for tail, tip in horizontal if tip[0] < tail[0]]
    assert len(horizontal) == 2 * T * layers and len(leftwards) == T * layers


def test_labels_use_the_notes_notation(ax):
    draw_unrolled_rnn(ax, 3, layers=2)
    texts = [t.get_text() for t in ax.texts]
    assert r"$x^{\langle 1\rangle}$" in texts
    assert r"$\hat{y}^{\langle 3\rangle}$" in texts
    assert r"$a^{[1]\langle 0\rangle}$" in texts and r"$a^{[2]\langle 2\rangle}$" in texts


def test_optional_parts_can_be_left_out(ax):
    d = draw_unrolled_rnn(ax, 4, x_steps=[0], y_steps=[3], state_labels=False, show_a0=False,
                          cell_label="RNN")
    render(ax)
    assert len(d.arrows) == 3 + 1 + 1      # three links, one input, one output
    assert [t.get_text() for t in ax.texts].count("RNN") == 4
    assert len(ax.texts) == 4 + 1 + 1


@pytest.mark.parametrize("kwargs", [dict(), dict(layers=3), dict(bidirectional=True, layers=2)])
def test_drawing_fits_inside_the_axes_and_cells_do_not_overlap(ax, kwargs):
    d = draw_unrolled_rnn(ax, 4, **kwargs)
    render(ax)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for t in d.labels:
        x, y = t.get_position()
        assert x0 < x < x1 and y0 < y < y1
    boxes = [c.get_bbox() for c in d.cells]
    for b in boxes:
        assert x0 < b.x0 and b.x1 < x1 and y0 < b.y0 and b.y1 < y1
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


def test_bad_arguments_raise(ax):
    with pytest.raises(ValueError):
        draw_unrolled_rnn(ax, 0)
    with pytest.raises(ValueError):
        draw_unrolled_rnn(ax, 3, x_steps=[0, 1], x_labels=["$x$"])
    with pytest.raises(ValueError):
        draw_unrolled_rnn(ax, 3, cell_colors=["red"])


def test_rnn_types_draws_five_panels():
    axes = draw_rnn_types()
    fig = axes[0].get_figure(root=True)
    fig.canvas.draw()
    cells = [count(ax, FancyBboxPatch) for ax in axes]
    arrows = [count(ax, FancyArrowPatch) for ax in axes]
    assert cells == [1, 4, 4, 4, 7]
    # one-to-one: in and out; one-to-many: 4 links + 1 input + 4 outputs; many-to-one:
    # 4 + 4 + 1; many-to-many: 4 + 4 + 4; encoder-decoder: 7 links + 4 inputs + 3 outputs.
    assert arrows == [2, 9, 9, 12, 14]
    assert "one-to-many" in axes[1].get_title() and "music" in axes[1].get_title()
    texts = [t.get_text() for t in axes[4].texts]
    assert "encoder" in texts and "decoder" in texts
    plt.close(fig)


def test_rnn_types_into_given_axes():
    fig, axes = plt.subplots(1, 5)
    assert draw_rnn_types(axes) == list(axes)
    with pytest.raises(ValueError):
        draw_rnn_types(axes[:3])
    plt.close(fig)
