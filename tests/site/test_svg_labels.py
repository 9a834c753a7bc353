"""The Korean-vs-English scatter: labels never overlap each other or another point; error bars only where measured."""

from xml.etree import ElementTree

import numpy as np
import pytest

from harness.site.svg import FONT_PX, Point, scatter, text_width

NS = "{http://www.w3.org/2000/svg}"


def _box(text):
    """The label's box as the layout estimates it (the test's independent check of the placement)."""
    x, y, width = float(text.get("x")), float(text.get("y")), text_width(text.text)
    left = {"start": x, "end": x - width, "middle": x - width / 2}[text.get("text-anchor")]
    return left, y - FONT_PX + 2, left + width, y + 3


def _centre(group):
    circle = group.find(f"{NS}circle")
    if circle is not None:
        return float(circle.get("cx")), float(circle.get("cy"))
    rect = group.find(f"{NS}rect")
    return float(rect.get("x")) + 5, float(rect.get("y")) + 5


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _assert_no_overlaps(svg: str) -> list[str]:
    """No label box overlaps another label or another point's mark; returns the labels shown."""
    groups = list(ElementTree.fromstring(svg).iter(f"{NS}g"))
    labelled = [(g, g.find(f"{NS}text")) for g in groups if g.find(f"{NS}text") is not None]
    for i, (group, text) in enumerate(labelled):
        box = _box(text)
        for _, other in labelled[i + 1:]:
            assert not _overlap(box, _box(other)), f"labels {text.text!r} and {other.text!r} overlap"
        for other in groups:
            if other is not group:
                cx, cy = _centre(other)
                assert not _overlap(box, (cx - 5, cy - 5, cx + 5, cy + 5)), f"label {text.text!r} covers another point"
    return [text.text for _, text in labelled]


def test_reported_points_close_together_get_separate_labels():
    """Three published numbers within half a point of each other, as on the leaderboard near (80, 88)."""
    points = [Point("klue/roberta-base", 80.1, 88.0, reported=True), Point("klue/bert-base", 80.3, 88.2, reported=True),
              Point("koenbert-base", 80.0, 88.3, reported=True), Point("fixture/model-a", 62.0, 90.5),
              Point("fixture/model-b", 75.0, 70.0)]
    svg = scatter(points, "Korean", "English", "t")
    assert sorted(_assert_no_overlaps(svg)) == sorted(p.label for p in points)  # room for every name here


@pytest.mark.parametrize("seed", range(5))
def test_labels_never_overlap_in_a_crowd(seed):
    rng = np.random.default_rng(seed)
    points = [Point(f"org/model-{i}-{'한국어' if i % 3 == 0 else 'base'}", float(rng.normal(80, 1.5)),
                    float(rng.normal(85, 1.5)), reported=bool(i % 2)) for i in range(20)]
    svg = scatter(points, "Korean", "English", "t")
    assert len(_assert_no_overlaps(svg)) >= 8  # most still get a name; the rest keep it in their hover text
    for group in ElementTree.fromstring(svg).iter(f"{NS}g"):
        assert group.find(f"{NS}title").text.split(":")[0].startswith("org/model-")


def test_error_bars_on_measured_points_and_within_the_axes():
    points = [Point("fixture/model-a", 80.0, 85.0, x_interval=(78.5, 81.2), y_interval=(84.0, 86.1)),
              Point("published", 82.0, 86.0, reported=True)]
    svg = scatter(points, "Korean", "English", "t")
    tree = ElementTree.fromstring(svg)
    groups = list(tree.iter(f"{NS}g"))
    assert len(groups[0].findall(f"{NS}path")) == 2  # a horizontal and a vertical bar
    assert not groups[1].findall(f"{NS}path")
    assert "x 95% interval [78.50, 81.20]" in groups[0].find(f"{NS}title").text
    ticks = [float(t.text) for t in tree.iter(f"{NS}text") if t.get("fill") is None and t.text.replace(".", "").isdigit()]
    assert min(ticks) <= 78.5 and max(ticks) >= 86.1  # the axes include the bars' ends


def test_a_reported_number_cannot_have_an_interval():
    with pytest.raises(ValueError, match="reported number has no interval"):
        Point("published", 80.0, 85.0, reported=True, x_interval=(79.0, 81.0))
