"""Configuration files: ``load_config("rally.toml")`` gives the dict every function takes.

TOML is read with the standard library's ``tomllib`` (Python 3.11 and later), else
with ``tomli`` when it is installed; JSON always works. The core checks the values
(unknown keys, wrong types) when the configuration is used or given to
``tmbridge.validate_config``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Mapping, Union, cast

from .types import Config

__all__ = ["ConfigSource", "load_config"]

#: A configuration: the dict, or a path to a ``.toml`` or ``.json`` file.
ConfigSource = Union[Config, Mapping[str, Any], str, "os.PathLike[str]"]


def load_config(path: Union[str, "os.PathLike[str]"]) -> Config:
    """Read a configuration file: TOML, or JSON when the name ends in ``.json``."""
    name = os.fspath(path)
    with open(name, "rb") as file:
        data = file.read()
    if name.endswith(".json"):
        return cast(Config, json.loads(data))
    try:
        import tomllib as toml  # Python 3.11+
    except ImportError:  # pragma: no cover - older Pythons
        try:
            import tomli as toml  # type: ignore[no-redef,import-not-found,unused-ignore]
        except ImportError:
            raise ImportError(
                f"{name}: reading TOML needs Python 3.11 or later, or `pip install tomli`;"
                " or write the configuration as JSON"
            ) from None
    try:
        return cast(Config, toml.loads(data.decode("utf-8")))
    except toml.TOMLDecodeError as error:
        raise ValueError(f"{name}: not valid TOML: {error}") from None
