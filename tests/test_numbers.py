"""Number formatting shared by the pages, the CLI and JSON (issue 13: -0.00, p=0, binary noise, ...)."""
from __future__ import annotations

import json
import math

import pytest

from shallowchrome import templates
from shallowchrome.tracks import numbers


@pytest.mark.parametrize("value, digits, signed, text", [
    (-0.0001, 2, False, "0.00"), (-0.004, 2, True, "0.00"), (0.004, 2, True, "0.00"), (0.97, 2, True, "+0.97"),
    (-1.2149, 2, True, "-1.21"), (0.83381, 3, False, "0.834"), (float("nan"), 2, False, "NA"),
    (None, 3, False, "NA"), (float("inf"), 2, False, "NA"), ("0.5", 1, False, "0.5"), ("x", 2, False, "NA"),
])
def test_num(value, digits, signed, text):
    assert numbers.num(value, digits, signed) == text


def test_pvalue_count_sig_strand():
    assert numbers.pvalue(0.0) == "< 1e-300" and numbers.pvalue(2.1e-201) == "2.1e-201"
    assert numbers.pvalue(0.012345) == "0.0123" and numbers.pvalue(None) == "NA"
    assert numbers.count(102156.0) == "102,156" and numbers.count(7) == "7"
    assert numbers.sig(2.3920000000000003) == "2.39" and numbers.sig(-1e-20, 2) == "-1e-20"
    assert numbers.sig(-0.0) == "0"
    assert [numbers.strand(s) for s in ("+", "-", ".", None, "")] == ["+", "-", "", "", ""]


def test_json_number():
    assert numbers.json_number(2.3920000000000003) == 2.392
    assert math.copysign(1, numbers.json_number(-0.0)) == 1.0
    assert numbers.json_number(float("nan")) is None and numbers.json_number("x") is None
    assert json.dumps([numbers.json_number(v) for v in (0.1 + 0.2, -0.0, 1e-300)]) == "[0.3, 0.0, 1e-300]"


def test_filters_are_in_every_jinja_environment(app):
    text = "{{ a|num }} {{ p|pvalue }} {{ n|count }} [{{ s|strand }}]"
    context = {"a": -0.001, "p": 0.0, "n": 102156, "s": "."}
    assert templates.environment().from_string(text).render(**context) == "0.00 &lt; 1e-300 102,156 []"
    with app.app_context():
        assert app.jinja_env.from_string(text).render(**context) == "0.00 &lt; 1e-300 102,156 []"
