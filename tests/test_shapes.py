"""The drawn-shapes captioning data: the pictures show what their captions say, and the split holds."""

from __future__ import annotations

import numpy as np
import pytest

from seqmodels.shapes import (BACKGROUND, CAPTION_VOCAB, CENTRES, COLOURS, HELD_OUT_FIRST, SHAPES, SIZE, Scene,
                              all_scenes, caption, draw_scene, make_scenes)

PALETTE = {"background": BACKGROUND, **COLOURS}


def colour_map(image: np.ndarray) -> np.ndarray:
    """(SIZE, SIZE) array of palette names: the nearest palette colour of every pixel."""
    names = list(PALETTE)
    palette = np.array([PALETTE[n] for n in names])                      # (K, 3)
    distances = ((image.transpose(1, 2, 0)[:, :, None, :] - palette) ** 2).sum(-1)
    return np.array(names)[distances.argmin(-1)]


def recognise(mask: np.ndarray) -> tuple[str, float, float]:
    """The shape of a filled region, judged from how much of its bounding box it fills, and its centroid."""
    ys, xs = np.nonzero(mask)
    box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
    fill = mask.sum() / box  # square ~1, circle ~pi/4, triangle ~1/2
    shape = "square" if fill > 0.9 else "circle" if fill > 0.65 else "triangle"
    return shape, ys.mean(), xs.mean()


def test_images_have_the_right_shape_type_and_range():
    images, captions, scenes = make_scenes(50, np.random.default_rng(0))
    assert images.shape == (50, 3, SIZE, SIZE) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert len(captions) == len(scenes) == 50


def test_generation_is_deterministic_given_the_seed():
    a = make_scenes(20, np.random.default_rng(7))
    b = make_scenes(20, np.random.default_rng(7))
    c = make_scenes(20, np.random.default_rng(8))
    assert np.array_equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2]
    assert not np.array_equal(a[0], c[0])


def test_unjittered_shapes_have_their_colour_at_the_slot_centres():
    for scene in all_scenes():
        image = draw_scene(scene)
        for slot, colour in ((0, scene.colour1), (1, scene.colour2)):
            along, across = CENTRES[slot], SIZE / 2
            cy, cx = (across, along) if scene.relation == "left of" else (along, across)
            np.testing.assert_allclose(image[:, int(cy), int(cx)], COLOURS[colour], atol=1e-6)


@pytest.mark.parametrize("split", ["train", "held_out"])
def test_captions_name_the_colours_shapes_and_layout_actually_drawn(split):
    """Read each jittered picture back with simple image analysis and compare with its caption."""
    images, captions, scenes = make_scenes(200, np.random.default_rng(1), split)
    for image, words, scene in zip(images, captions, scenes):
        assert words == caption(scene)
        names = colour_map(image)
        present = {n for n in np.unique(names) if n != "background" and (names == n).sum() >= 10}
        assert present == {scene.colour1, scene.colour2}
        shape1, y1, x1 = recognise(names == scene.colour1)
        shape2, y2, x2 = recognise(names == scene.colour2)
        assert (shape1, shape2) == (scene.shape1, scene.shape2), (words, shape1, shape2)
        if scene.relation == "left of":
            assert x2 - x1 > 8 and abs(y2 - y1) < 8 and words[3:5] == ["left", "of"]
        else:
            assert y2 - y1 > 8 and abs(x2 - x1) < 8 and words[3] == "above"


def test_captions_follow_the_template_and_encode_in_the_vocabulary():
    scene = Scene("circle", "red", "square", "blue", "left of")
    assert caption(scene) == "a red circle left of a blue square".split()
    other = Scene("triangle", "green", "triangle", "yellow", "above")
    assert caption(other) == "a green triangle above a yellow triangle".split()
    for s in all_scenes():
        words = caption(s)
        ids = CAPTION_VOCAB.encode(words, 10, eos=True)
        assert CAPTION_VOCAB.decode(ids) == words


def test_invalid_scenes_are_refused():
    with pytest.raises(ValueError):
        Scene("circle", "red", "square", "red", "left of")  # the two colours must differ
    with pytest.raises(ValueError):
        Scene("star", "red", "square", "blue", "left of")
    with pytest.raises(ValueError):
        Scene("circle", "red", "square", "blue", "below")


def test_held_out_combinations_never_come_first_in_training_but_do_come_second():
    _, _, train = make_scenes(3000, np.random.default_rng(2), "train")
    _, _, held_out = make_scenes(300, np.random.default_rng(3), "held_out")
    first_in_training = {(s.colour1, s.shape1) for s in train}
    second_in_training = {(s.colour2, s.shape2) for s in train}
    every_object = {(c, s) for c in COLOURS for s in SHAPES}
    assert first_in_training == every_object - HELD_OUT_FIRST
    assert second_in_training == every_object  # so every word and every (colour, shape) pair is seen
    assert all((s.colour1, s.shape1) in HELD_OUT_FIRST for s in held_out)
    assert {(s.colour1, s.shape1) for s in held_out} == HELD_OUT_FIRST
    assert len(all_scenes()) == 216 and sum(s.held_out for s in all_scenes()) == 54
