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
