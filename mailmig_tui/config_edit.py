"""Editing config.toml the way its owner wrote it: one account added or replaced, every
comment, blank line and unrelated table kept as it was (tomlkit, which keeps the layout).

A comment written above the next table belongs, in tomlkit, to the end of the table before
it; a key or table added at that end would push itself between the comment and the table it
describes. So what follows a table's last key is taken off before adding and put back after.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Item, Table

from mailmig_tui.errors import ConfigError


def with_account(text: str, name: str, fields: Mapping[str, Any], where: str) -> str:
    """`text` (a config file) with [accounts.NAME] set to `fields`; raises ConfigError."""
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}", "fix or remove that line") from None
    accounts = document.get("accounts")
    if accounts is None:
        group = tomlkit.table(is_super_table=True)  # `[accounts.NAME]`, no bare `[accounts]`
        group[name] = _table(fields)
        document["accounts"] = group
    elif not isinstance(accounts, MutableMapping):
        raise ConfigError(f"{where}: accounts must be a table", "write [accounts.NAME] sections")
    elif isinstance(accounts.get(name), Table):
        _replace_fields(accounts[name], fields)
    else:
        _add_after_last(accounts, name, _table(fields))
    return tomlkit.dumps(document).lstrip("\n")


def _table(fields: Mapping[str, Any]) -> Table:
    table = tomlkit.table()
    for key, value in fields.items():
        table[key] = value
    return table


def _trailing(table: Table) -> list[Item]:
    """Take the comments and blank lines after the table's last key off its end."""
    body = table.value.body
    taken: list[Item] = []
    while body and body[-1][0] is None:
        taken.insert(0, body.pop()[1])
    return taken


def _put_back(table: Table, items: list[Item]) -> None:
    for item in items:
        table.value.append(None, item)


def _replace_fields(table: Table, fields: Mapping[str, Any]) -> None:
    """Change only what changed: an unchanged line keeps its comment byte for byte."""
    trailing = _trailing(table)
    for key in [key for key in table if key not in fields]:
        del table[key]
    for key, value in fields.items():
        if key not in table or table[key] != value:
            table[key] = value
    _put_back(table, trailing)


def _add_after_last(accounts: MutableMapping[str, Any], name: str, new: Table) -> None:
    """Add [accounts.NAME] after the last account, before what preceded the next table."""
    tables = [value for value in accounts.values() if isinstance(value, Table)]
    if not tables or not isinstance(accounts, Table):
        # No account yet, or accounts spread among other tables (tomlkit's out-of-order
        # proxy, which puts the new one where it likes): nothing to keep in its place.
        accounts[name] = new
        return
    last = tables[-1]
    trailing = _trailing(last)
    last.value.append(None, tomlkit.nl())  # a blank line between the two accounts
    accounts[name] = new
    _put_back(new, trailing)
