"""The one reader of a secret in a configuration table: `key` inline, or `key_file`
naming a file that holds it, never both.

A file's trailing whitespace (the newline an editor or `echo` leaves, `\\r\\n` too) is
stripped, as the `*_file` convention of container secrets expects; nothing else is: a
secret given inline is taken exactly as written. A relative path is read from
`base_dir` (the configuration file's folder). Errors name the table and the key (and
the file), never the secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def read_secret(
    table: Mapping[str, Any],
    key: str,
    *,
    where: str,
    base_dir: Path | None,
    required: bool,
    error: type[ValueError] = ValueError,
) -> str | None:
    """The secret `key` of `table` (named `where` in errors), None when it is optional
    and absent. Problems raise `error` with a message that never holds the secret."""
    inline, path = table.get(key), table.get(f"{key}_file")
    if inline is not None and path is not None:
        raise error(f"{where}: set {key} or {key}_file, not both")
    if inline is None and path is None:
        if required:
            raise error(f"{where}: {key} (or {key}_file) is required")
        return None
    if inline is not None:
        if not isinstance(inline, str) or not inline:
            raise error(f"{where}.{key} must be a non-empty string")
        return inline
    if not isinstance(path, str) or not path:
        raise error(f"{where}.{key}_file must be a file path")
    file = Path(path) if base_dir is None else base_dir / path
    try:
        value = file.read_text().rstrip()
    except (OSError, UnicodeDecodeError) as problem:
        reason = problem.strerror if isinstance(problem, OSError) else "not UTF-8 text"
        raise error(f"{where}.{key}_file: cannot read {str(file)!r}: {reason}") from None
    if not value:
        raise error(f"{where}.{key}_file: {str(file)!r} is empty")
    return value
