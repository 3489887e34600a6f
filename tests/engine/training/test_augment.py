import numpy as np

from engine.training.augment import rotate_flip


def test_rotate_flip_keeps_boxes_on_their_pixels():
    rng = np.random.default_rng(0)
    for _ in range(12):
        image = np.zeros((40, 60, 3), np.uint8)
        image[5:15, 20:44] = 255  # box (20, 5, 44, 15)
        out, boxes = rotate_flip(image, np.array([[20.0, 5.0, 44.0, 15.0]], np.float32), rng)
        x0, y0, x1, y1 = boxes[0].astype(int)
        mask = out[..., 0] == 255
        ys, xs = np.nonzero(mask)
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x0, y0, x1, y1)
