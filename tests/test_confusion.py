"""Confusion matrices: counted right, and drawn with one number per cell."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from seqmodels.confusion import confusion_matrix, plot_confusion_matrix  # noqa: E402


def test_counts_rows_are_true_classes_and_columns_predictions():
    counts = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert counts.sum() == 6


def test_plot_writes_every_count_and_the_accuracy():
    fig, ax = plt.subplots()
    plot_confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), ["a", "b"], ax=ax, title="model")
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "1", "1"]
    assert ax.get_title() == "model (accuracy 67%)"
    plt.close(fig)
