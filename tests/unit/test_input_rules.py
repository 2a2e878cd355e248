"""Rules for what a person types, each kept once in the domain: whole numbers and ids in range."""

from __future__ import annotations

import pytest

from iep_followup.domain import MAX_ROW_ID, parse_row_id, parse_whole_number
from iep_followup.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "number"), [("1", 1), (" 42 ", 42), ("007", 7), (str(MAX_ROW_ID), MAX_ROW_ID)]
)
def test_a_row_id_in_range_is_read(text: str, number: int) -> None:
    assert parse_row_id(text, "item") == number


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "-1",
        "+1",
        "1.0",
        "1e3",
        "١٢",  # Arabic-Indic digits: isdigit() says yes, a database id says no
        "²",
        str(MAX_ROW_ID + 1),
        "99999999999999999999999",
        "9" * 5000,  # past int()'s own limit: refused before it is converted
    ],
)
def test_anything_else_is_the_fields_error(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_row_id(text, "item_id")
    assert caught.value.field == "item_id"
    assert str(caught.value).startswith("item id must be a whole number from 1 to ")
    assert len(str(caught.value)) < 200


def test_a_whole_number_has_the_range_it_is_given() -> None:
    assert parse_whole_number("0", "minutes") == 0
    with pytest.raises(ValidationError, match="from 0 to 10, not '11'"):
        parse_whole_number("11", "minutes", most=10)
