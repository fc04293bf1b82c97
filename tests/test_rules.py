"""The rules baseline on the convention's own examples (docs/labeling.md)."""

import pytest

from extractor.tasks.cantos.rules import extract


def cantos(text):
    return [(r.canto, list(r.lines)) for r in extract(text)]


@pytest.mark.parametrize("text,expected", [
    ("Cantos XVII–XIX", [17, 18, 19]),
    ("Cantos XVII-XIX", [17, 18, 19]),
    ("as cantos 40–42 show", [40, 41, 42]),
    ("Cantos LXXX to LXXXII", [80, 81, 82]),
    ("Cantos 17 through 19", [17, 18, 19]),
    ("cantos 40–42, 45", [40, 41, 42, 45]),
    ("Cantos XIV and XVII–XIX", [14, 17, 18, 19]),
    ("Cantos XIV, XV and XVI", [14, 15, 16]),
    ("Cantos 21, 24 and 36", [21, 24, 36]),
])
def test_canto_ranges_and_lists_expand_in_text_order(text, expected):
    assert cantos(text) == [(c, []) for c in expected]


def test_lines_and_pages_are_not_read_as_canto_ranges():
    assert cantos("XX:1-20") == [(20, list(range(1, 21)))]
    assert cantos("Canto XX/1-20 is cited") == [(20, [])]
    assert cantos("Cantos 200-210 do not exist") == []
    assert cantos("Dante's Inferno, Canto 5") == []


@pytest.mark.parametrize("text,expected", [
    # docs/labeling.md, "Sections": every name and spelling, ordinals inside a section
    ("the first Pisan Canto", [74]),
    ("the third of the Adams Cantos", [64]),
    ("the last canto of Thrones", [109]),
    ("the first canto of Thrones", [96]),
    ("the opening canto of Rock-Drill", [85]),
    ("the second canto of the Pisan sequence", [75]),
    ("the final canto of Drafts and Fragments", [117]),
    ("the penultimate canto of Thrones", [108]),
    ("the Pisans", list(range(74, 85))),
    ("the Chinese History Cantos", list(range(52, 62))),
    ("Rock Drill", list(range(85, 96))),
    ("the Fifth Decad", list(range(42, 52))),
])
def test_sections_under_every_documented_name(text, expected):
    assert cantos(text) == [(c, []) for c in expected]


def test_line_positions_and_bare_numerals_with_lines():
    assert cantos("the fifth line of Canto XLV") == [(45, [5])]
    assert cantos("the first three lines of Canto IV") == [(4, [1, 2, 3])]
    assert cantos("the penultimate line of Canto IV") == [(4, [-2])]
    assert cantos("IX, lines 1 to 15") == [(9, list(range(1, 16)))]
    assert cantos("XXI, p. 98") == [(21, [])]
