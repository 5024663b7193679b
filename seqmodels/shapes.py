"""Drawn scenes for the image-captioning part of the Week 3 chapter: two coloured shapes and a sentence.

Every image shows two shapes (circle, square or triangle) of two different colours (red, green, blue,
yellow), either side by side or one above the other, and its caption says what is where:
"a red circle left of a blue square", "a green triangle above a yellow triangle". The images are
small RGB arrays drawn with numpy, with a little jitter in position and size and a little pixel
noise, so that no two are identical; everything is seeded and nothing is downloaded.

The *first* object of a caption is the left one (relation "left of") or the top one ("above"). A few
(colour, shape) combinations never appear as the first object in the training scenes
(:data:`HELD_OUT_FIRST`), although they do appear as the second object. Scenes that use them form a
separate test split, which asks whether a captioner has learnt colour and shape as separate words
or only the pairs it has seen in that slot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqmodels.number_words import Vocab

SHAPES = ("circle", "square", "triangle")
COLOURS = {  # RGB in [0, 1], far apart from each other and from the background
    "red": (0.9, 0.1, 0.1),
    "green": (0.1, 0.7, 0.15),
    "blue": (0.15, 0.3, 0.95),
    "yellow": (0.95, 0.85, 0.1),
}
RELATIONS = {"left of": ("left", "of"), "above": ("above",)}
BACKGROUND = (0.97, 0.97, 0.97)
SIZE = 32              # images are SIZE x SIZE pixels
CENTRES = (8.5, 23.5)  # the two slots along the relation's axis; the other axis is centred at 16
RADIUS = (4.0, 6.0)    # a shape's radius (half the side of its bounding box) is uniform in this range
JITTER_ALONG, JITTER_ACROSS = 1.5, 3.5  # uniform shifts (pixels) along and across the relation's axis
NOISE = 0.02           # standard deviation of the pixel noise

# (colour, shape) pairs that never come first in a training caption (they may come second).
HELD_OUT_FIRST = frozenset({("red", "triangle"), ("blue", "circle"), ("yellow", "square")})

CAPTION_VOCAB = Vocab.of(["a", *COLOURS, *SHAPES, "left", "of", "above"])


@dataclass(frozen=True)
class Scene:
    """What an image shows: shape1 in colour1, related by ``relation`` to shape2 in colour2."""

    shape1: str
    colour1: str
    shape2: str
    colour2: str
    relation: str

    def __post_init__(self) -> None:
        if self.shape1 not in SHAPES or self.shape2 not in SHAPES:
            raise ValueError(f"shapes must be among {SHAPES}")
        if self.colour1 not in COLOURS or self.colour2 not in COLOURS or self.colour1 == self.colour2:
            raise ValueError(f"colours must be two different ones among {tuple(COLOURS)}")
        if self.relation not in RELATIONS:
            raise ValueError(f"relation must be one of {tuple(RELATIONS)}")

    @property
    def held_out(self) -> bool:
        """True if the first object is one of the combinations kept out of training."""
        return (self.colour1, self.shape1) in HELD_OUT_FIRST


def caption(scene: Scene) -> list[str]:
    """The caption's tokens: ['a', 'red', 'circle', 'left', 'of', 'a', 'blue', 'square']."""
    return ["a", scene.colour1, scene.shape1, *RELATIONS[scene.relation], "a", scene.colour2, scene.shape2]


def shape_mask(shape: str, cy: float, cx: float, radius: float, size: int = SIZE) -> np.ndarray:
    """Boolean (size, size) mask of a shape centred at pixel (cy, cx), fitting in a box of side 2 * radius."""
    y, x = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    dy, dx = y - cy, x - cx
    if shape == "circle":
        return dx ** 2 + dy ** 2 <= radius ** 2
    if shape == "square":
        half = 0.85 * radius  # a square looks bigger than a circle of the same width
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    if shape == "triangle":  # pointing up: apex at the top, base at the bottom, as wide as it is high
        return (dy <= radius) & (np.abs(dx) <= (dy + radius) / 2)
    raise ValueError(f"unknown shape {shape!r}")


def draw_scene(scene: Scene, rng: np.random.Generator | None = None) -> np.ndarray:
    """The image of ``scene``, float32 (3, SIZE, SIZE) in [0, 1].

    Without ``rng`` the shapes sit exactly in their slots, with radius 5 and no noise; with it, the
    positions, sizes and pixels are jittered.
    """
    image = np.empty((3, SIZE, SIZE), dtype=np.float32)
    image[:] = np.asarray(BACKGROUND, dtype=np.float32)[:, None, None]
    for slot, (shape, colour) in enumerate(((scene.shape1, scene.colour1), (scene.shape2, scene.colour2))):
        along, across = CENTRES[slot], SIZE / 2
        radius = float(np.mean(RADIUS))
        if rng is not None:
            along += rng.uniform(-JITTER_ALONG, JITTER_ALONG)
            across += rng.uniform(-JITTER_ACROSS, JITTER_ACROSS)
            radius = rng.uniform(*RADIUS)
        cy, cx = (across, along) if scene.relation == "left of" else (along, across)
        mask = shape_mask(shape, cy, cx, radius)
        image[:, mask] = np.asarray(COLOURS[colour], dtype=np.float32)[:, None]
    if rng is not None:
        image += rng.normal(0.0, NOISE, size=image.shape).astype(np.float32)
        np.clip(image, 0.0, 1.0, out=image)
    return image


def all_scenes() -> list[Scene]:
    """Every possible scene: 3 * 4 first objects, 3 * 3 second objects of another colour, 2 relations (216)."""
    return [Scene(s1, c1, s2, c2, relation)
            for relation in RELATIONS for c1 in COLOURS for s1 in SHAPES for c2 in COLOURS for s2 in SHAPES
            if c1 != c2]


def make_scenes(count: int, rng: np.random.Generator,
                split: str = "train") -> tuple[np.ndarray, list[list[str]], list[Scene]]:
    """``count`` random scenes of one split, drawn with jitter.

    ``split`` is "train" (no held-out first object; uniform over the 162 such scenes) or "held_out"
    (only the 54 scenes whose first object is held out). Returns the images (count, 3, SIZE, SIZE)
    float32, their captions (lists of tokens) and the scenes themselves.
    """
    if split not in ("train", "held_out"):
        raise ValueError("split must be 'train' or 'held_out'")
    pool = [s for s in all_scenes() if s.held_out == (split == "held_out")]
    scenes = [pool[i] for i in rng.integers(0, len(pool), size=count)]
    images = np.stack([draw_scene(s, rng) for s in scenes]) if scenes else np.zeros((0, 3, SIZE, SIZE), np.float32)
    return images, [caption(s) for s in scenes], scenes
