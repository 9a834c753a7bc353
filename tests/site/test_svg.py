from xml.etree import ElementTree

from harness.site.svg import Point, scatter

NS = "{http://www.w3.org/2000/svg}"


def test_scatter_is_valid_svg_with_one_mark_per_point():
    points = [Point("A & B", 85.5, 87.9, href="models/a.html"), Point("C", 60.2, 90.5, partial_x=True),
              Point("D [A]", 85.8, 87.8, reported=True)]
    tree = ElementTree.fromstring(scatter(points, "Korean", "English", "title"))
    assert tree.tag == f"{NS}svg"
    marks = tree.findall(f".//{NS}g")
    assert len(marks) == 3
    assert marks[0].find(f"{NS}title").text.startswith("A & B: 85.50, 87.90")
    assert marks[1].find(f"{NS}circle").get("fill") == "white"  # partial: hollow
    assert marks[2].find(f"{NS}rect") is not None  # reported: a square
    assert tree.find(f".//{NS}a").get("href") == "models/a.html"


def test_points_lie_inside_the_plot_area():
    points = [Point(str(i), 60 + i, 80 + i / 2) for i in range(30)]
    tree = ElementTree.fromstring(scatter(points, "x", "y", "t"))
    for circle in tree.findall(f".//{NS}g/{NS}circle"):
        assert 60 <= float(circle.get("cx")) <= 620 and 20 <= float(circle.get("cy")) <= 404
    assert not tree.findall(f".//{NS}g/{NS}text")  # too many points for labels: names only on hover


def test_no_points_says_so():
    assert "no model has scores" in scatter([], "x", "y", "t")
