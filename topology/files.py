"""Files: how they are named in messages, and writing them safely.

- :func:`shown`: a file's name in messages and reports, the same wherever the
  tool runs;
- :func:`write_atomic`: a temporary file in the same folder, then a rename, so
  a reader never sees half a file and a failure leaves the old file (or none)
  in place; it never writes over one of the command's inputs
  (:func:`refuse_inputs`) and turns the operating system's refusals into
  :class:`~topology.errors.GovnetError`. Used by every package that writes
  (pcaps, reports, drawings).

    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.json"
    >>> write_atomic(out, b"{}")
    >>> out.read_bytes(), sorted(p.name for p in out.parent.iterdir())
    (b'{}', ['report.json'])
    >>> try:
    ...     write_atomic(out, b"[]", inputs=[out])
    ... except GovnetError as exc:
    ...     print(str(exc).split(" is ")[1][:20])
    read by this command
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import GovnetError


def shown(path: str | Path) -> str:
    """How a file is named in messages and reports: normalised, relative to where the user stands.

    A relative name stays relative, ``..`` included: it is how the user reaches
    the file from here. An absolute name inside the working directory becomes
    relative; a file of the built-in scenarios outside it is named
    ``scenarios/...``, the same on every machine.

    >>> shown("a/b/../c.yaml"), shown("../parts/acls.yaml")
    ('a/c.yaml', '../parts/acls.yaml')
    """
    text = os.path.normpath(str(path))
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    if not rel.startswith("..") or not os.path.isabs(text):
        return rel
    from .scenarios import scenarios_dir

    try:
        inside = Path(text).resolve().relative_to(scenarios_dir().resolve())
    except (ValueError, OSError, GovnetError):  # not a built-in scenario's file, or none are installed
        return rel if not os.path.isabs(str(path)) else text
    return str(Path("scenarios") / inside)


def refuse_inputs(target: str | Path, inputs: Iterable[str | Path]) -> None:
    """Raise GovnetError when ``target`` is one of ``inputs`` (same path, or a link to the same file)."""
    path = Path(target)
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return
    for source in inputs:
        other = Path(source)
        same = False
        try:
            same = resolved == other.resolve() or (path.exists() and os.path.samefile(path, other))
        except (OSError, RuntimeError):
            pass
        if same:
            raise GovnetError(f"{shown(path)} is read by this command (the plan, a file it includes or a policy "
                              "file); write the output to another file")


def write_atomic(path: str | Path, data: bytes, inputs: Iterable[str | Path] = ()) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename; never over one of ``inputs``."""
    target = Path(path)
    refuse_inputs(target, inputs)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        is_folder, has_folder = target.is_dir(), directory.is_dir()
    except OSError as exc:
        raise GovnetError(f"cannot write {shown(target)[:120]}: {exc.strerror or exc}") from None
    if is_folder:
        raise GovnetError(f"cannot write {shown(target)}: it is a folder; name a file")
    if not has_folder:
        raise GovnetError(f"cannot write {shown(target)}: the folder {shown(directory)} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:100]}.", dir=directory)
    except OSError as exc:
        raise GovnetError(f"cannot write {shown(target)}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the user's usual mode
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GovnetError(f"cannot write {shown(target)}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
