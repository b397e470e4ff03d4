"""Output files: checked before a run starts, written whole or not at all.

Every file the toolkit writes (placements, instances, exported models, tables,
pictures) goes through :func:`write_atomic`: the content is written to a temporary
file in the target's folder and renamed onto the target only once it is complete,
so a full disk, an interrupt or a crash never leaves a half-written or empty file,
and an existing file is replaced in one step. :func:`check_output` answers, before
any work is done, whether the file can be written at all.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import InputError, refuse_overwrite

__all__ = ["check_output", "write_atomic", "same_file"]


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_output(path: str | os.PathLike | None, *, force: bool = False, what: str = "output") -> None:
    """Raise :class:`InputError` naming ``what`` and ``path`` unless a file can be
    written there: its folder exists and takes a new file, the path is not a folder,
    and it does not exist yet (or ``force``). None is skipped. Tries a temporary file
    in the folder (then removes it), which is the one test /proc, read-only mounts and
    permissions all answer truthfully. O(1) file-system calls.

    Example: ``check_output("out/placement.json", force=False, what="-o")``.
    """
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what} {p}: is a folder, not a file")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.exists():
        raise InputError(f"{what} {p}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"{what} {p}: {folder} is not a folder")
    if p.exists() and not force:
        raise InputError(f"{what} {p} exists; refusing to overwrite it (use --force)")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".check", dir=folder)
    except OSError as exc:
        raise InputError(f"{what} {p}: cannot write in {folder} ({_reason(exc)})") from None
    os.close(handle)
    os.unlink(probe)


def write_atomic(path: str | os.PathLike, content: str | bytes | Callable[[str], None], *,
                 overwrite: bool = False) -> None:
    """Write ``content`` to ``path`` whole or not at all.

    ``content``: text, bytes, or a function that writes the file at the temporary
    path it is given (keeping ``path``'s suffix, so a writer that picks its format by
    the name, such as HiGHS' writeModel, writes the right one). The temporary file
    lives in ``path``'s folder and is renamed onto ``path`` once written and flushed;
    on any failure it is removed and :class:`InputError` names the file and the
    reason (a full disk: "No space left on device"). An existing ``path`` is kept
    unless ``overwrite``. O(size of the content).

    Example: ``write_atomic("p.json", json.dumps(data))``.
    """
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if not overwrite:
        refuse_overwrite(p)
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=p.suffix or ".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{p}: cannot write ({_reason(exc)})") from None
    try:
        if callable(content):
            os.close(handle)
            content(temp)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else content
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        if not overwrite and p.exists():  # appeared while we wrote: keep it
            raise InputError(f"{p} exists; refusing to overwrite it (use --force)")
        os.chmod(temp, 0o666 & ~_umask())  # as an ordinary new file (mkstemp makes it private)
        os.replace(temp, p)
    except OSError as exc:
        _remove(temp)
        raise InputError(f"{p}: cannot write ({_reason(exc)})") from None
    except BaseException:
        _remove(temp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def same_file(a: str | os.PathLike | None, b: str | os.PathLike | None) -> bool:
    """True when ``a`` and ``b`` (None: never) name the same file, existing or not.
    Example: ``same_file("x.lp", "./x.lp")``."""
    if a is None or b is None:
        return False
    return os.path.abspath(a) == os.path.abspath(b) or (
        os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b))
