"""The files a session may read: only regular files inside the allowed folders, after
symbolic links are resolved, never the state file."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable, List, Optional, Tuple, Union

StrPath = Union[str, "os.PathLike[str]"]


class AllowedFiles:
    """Resolves the paths a report names (relative ones from ``base``) and reads them
    when they lead inside one of ``allowed`` folders."""

    def __init__(self, base: Path, allowed: Iterable[StrPath], protected: Iterable[StrPath] = ()) -> None:
        self._base = base
        self._allowed = [Path(os.path.realpath(d)) for d in allowed]
        self._protected = {Path(os.path.realpath(p)) for p in protected}

    def _resolve(self, name: str) -> Tuple[Optional[Path], str]:
        path = Path(name)
        if not path.is_absolute():
            path = self._base / path
        real = Path(os.path.realpath(path))
        inside = any(real == d or d in real.parents for d in self._allowed)
        if not inside:
            return None, f"{name}: outside the allowed folders (allowed_dirs)"
        if real in self._protected:
            return None, f"{name}: the state file is never uploaded"
        return real, ""

    def size(self, name: str) -> Optional[int]:
        """The size of the file, or None when it may not or cannot be read."""
        real, _ = self._resolve(name)
        if real is None:
            return None
        try:
            info = os.stat(real)
        except OSError:
            return None
        return info.st_size if stat.S_ISREG(info.st_mode) else None

    def read(self, name: str) -> Tuple[Optional[bytes], str]:
        """The bytes, or None and why not."""
        real, why = self._resolve(name)
        if real is None:
            return None, why
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(real, flags)
        except OSError as error:
            return None, f"{name}: {error.strerror or 'cannot be opened'}"
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None, f"{name}: not a regular file"
            return file.read(), ""


def attachment_paths(cases: Iterable[dict]) -> List[str]:  # type: ignore[type-arg]
    """Every attachment path the cases name, once, in order."""
    seen: List[str] = []
    for case in cases:
        for path in case.get("attachments", []):
            if path not in seen:
                seen.append(path)
    return seen
