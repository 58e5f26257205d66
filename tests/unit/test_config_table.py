"""The table of docs/guides/configuration.md matches `Settings`: every variable listed,
none that does not exist, each with its default."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from service.config import Settings, variable_of

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "configuration.md"
INTERNAL = {"worker_index"}  # set by the server for its worker processes, not by people


def _table() -> dict[str, str]:
    """Variable -> the default cell's text, from the rows of the guide's table."""
    section = GUIDE.read_text()
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`ROOMS_"):
            continue
        names = [name.strip().strip("`") for name in cells[0].split(" / ")]
        defaults = [value.strip() for value in cells[1].split(" / ")]
        if len(defaults) != len(names):
            defaults = defaults * len(names)
        rows.update(zip(names, defaults, strict=True))
    return rows


def _expected(value: Any) -> str | None:
    """How the table writes a default; None: unset."""
    if value is None or value == "" or isinstance(value, SecretStr):
        return None
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def test_every_setting_is_in_the_readme_table_and_nothing_else() -> None:
    documented = set(_table())
    settings = {variable_of(name) for name in Settings.model_fields if name not in INTERNAL}
    assert settings - documented == set(), "settings missing from the README's table"
    assert documented - settings == set(), "the README's table lists variables that do not exist"


def test_the_readme_table_gives_each_default() -> None:
    table = _table()
    for name, field in Settings.model_fields.items():
        if name in INTERNAL:
            continue
        cell = table[variable_of(name)]
        expected = _expected(field.default)
        if expected is None:
            assert cell.startswith("unset"), f"{variable_of(name)}: {cell}"
        else:
            assert re.match(re.escape(expected), cell), f"{variable_of(name)}: {cell} != {expected}"
