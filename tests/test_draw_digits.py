"""Small text helpers of the My digits panel (the panel itself is covered in test_draw_page.py)."""

from __future__ import annotations

import numpy as np

from ui.draw.digits import count_phrase, entry_caption


def test_count_phrase_gives_the_total_and_each_class_present():
    counts = np.zeros(10, np.int64)
    assert count_phrase(counts) == "0 digits"
    counts[7] = 1
    assert count_phrase(counts) == "1 digit (7 ×1)"
    counts[1] = 2
    assert count_phrase(counts) == "3 digits (1 ×2, 7 ×1)"


def test_entry_caption_adds_the_models_answer_only_when_it_differs():
    assert entry_caption(12, 7, None) == "#12: 7"
    assert entry_caption(12, 7, 7) == "#12: 7"
    assert entry_caption(3, 4, 9) == "#3: 4 (model: 9)"


def test_the_suggested_label_moves_on_and_wraps_round():
    from ui.draw.digits import next_label

    assert [next_label(d) for d in range(10)] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
