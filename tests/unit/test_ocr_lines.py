"""Words the detector boxed one by one are joined into the line a reader sees."""

from heimdex_lab.ingest.ocr import _join_words


def box(left: float, top: float, right: float, bottom: float):
    return ((left, top), (right, top), (right, bottom), (left, bottom))


def texts(found):
    return [text for _box, text, _conf in _join_words(found)]


def test_words_of_one_line_join_left_to_right_with_the_lowest_confidence():
    found = [
        (box(230, 60, 380, 96), "inflation", 0.95),
        (box(34, 60, 215, 98), "Telescope", 1.0),
    ]
    (joined,) = _join_words(found)
    assert joined[1] == "Telescope inflation"
    assert joined[2] == 0.95
    assert joined[0] == box(34, 60, 380, 98)


def test_lines_above_each_other_stay_apart():
    found = [
        (box(34, 60, 300, 96), "Quarterly results", 1.0),
        (box(34, 120, 300, 150), "Revenue", 1.0),
    ]
    assert sorted(texts(found)) == ["Quarterly results", "Revenue"]


def test_columns_far_apart_on_one_baseline_stay_apart():
    found = [(box(20, 60, 120, 80), "Budget", 1.0), (box(400, 60, 500, 80), "Launch", 1.0)]
    assert sorted(texts(found)) == ["Budget", "Launch"]


def test_a_small_caption_beside_a_large_title_is_not_joined_to_it():
    found = [(box(20, 40, 300, 100), "Results", 1.0), (box(310, 80, 400, 96), "draft", 1.0)]
    assert sorted(texts(found)) == ["Results", "draft"]
