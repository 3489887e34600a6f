"""Outputs appear whole or not at all, and never over an input: written to a recognisable temporary beside
the target, then published by one rename (with overwrite) or one hard link that fails if the name was taken."""

from __future__ import annotations

import errno
import os
import re
import secrets
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from engine.errors import OutputError

# .<target>.r2cnn.<host>.<pid>.<token>.tmp<suffix>: a later run on the same host removes it once <pid> is dead.
_TEMP_RE = re.compile(r"^\..+\.r2cnn\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[a-z0-9]+\.tmp")
# Hard links are not everywhere (FAT, some network shares): fall back to reserving the name with O_EXCL.
_NO_LINK_ERRNOS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}

# GDAL opens more than file names: /vsizip/a.zip/x.tif, GTIFF_DIR:2:x.tif, NETCDF:"x.nc":var, ...
_VSI_PREFIX = re.compile(r"^(/vsi[a-z0-9_]+/)+")
_DRIVER_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]+:")


def is_gdal_virtual(path: str) -> bool:
    """A /vsi... path or a DRIVER:... connection string: GDAL decides whether it exists, not os.path."""
    return bool(_VSI_PREFIX.match(path) or _DRIVER_PREFIX.match(path))


def underlying_files(path: str) -> list[str]:
    """The local files a (possibly virtual) raster path reads: itself, or the archive / file inside it."""
    if not is_gdal_virtual(path):
        return [path]
    if not _VSI_PREFIX.match(path):  # DRIVER:file:subdataset
        return [part for part in re.split(r'[:"]', path) if part and os.path.isfile(part)]
    rest = _VSI_PREFIX.sub("", path)
    if rest.startswith("{") and "}" in rest:  # /vsizip/{/path/a.zip}/x.tif
        return [rest[1 : rest.index("}")]] if os.path.isfile(rest[1 : rest.index("}")]) else []
    parts = rest.split("/")
    for end in range(len(parts), 0, -1):  # the longest prefix that is a file: the archive itself
        for candidate in ("/".join(parts[:end]), "/" + "/".join(parts[:end]).lstrip("/")):
            if candidate and os.path.isfile(candidate):
                return [candidate]
    return []


def _identity(path: str) -> tuple | str:
    """(device, inode) of an existing file, else its resolved absolute path."""
    try:
        stat = os.stat(path)
        return (stat.st_dev, stat.st_ino)
    except OSError:
        return os.path.realpath(os.path.abspath(path))


def same_file(a: str, b: str) -> bool:
    """Both names reach the same file (hard links, symlinks, ./ and ../ included)."""
    return _identity(a) == _identity(b) or os.path.realpath(a) == os.path.realpath(b)


def same_file_as_any(path: str, inputs: Iterable[str]) -> str | None:
    """The first input that `path` would overwrite (through what it reads), or None."""
    for raster in inputs:
        if any(same_file(path, f) for f in underlying_files(raster)):
            return raster
    return None


def unique_inputs(paths: Iterable[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Inputs in order with repeats of the same file dropped, and (dropped, kept) pairs to warn about."""
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for path in paths:
        twin = next((k for k in kept if k == path or (not is_gdal_virtual(path) and same_file(path, k))), None)
        if twin is None:
            kept.append(path)
        else:
            dropped.append((path, twin))
    return kept, dropped


def reason(exc: OSError) -> str:
    """An OS error in words, never empty."""
    return exc.strerror or str(exc) or type(exc).__name__


def check_output_path(path: str, overwrite: bool, protect: Iterable[str] = ()) -> None:
    """Fail before any work: an input as output, an existing file without overwrite, an unwritable folder."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OutputError(f"{path} is a folder, not a file name")
    clash = same_file_as_any(path, protect)
    if clash is not None:
        raise OutputError(f"{path} is an input ({clash}); refusing to write over it")
    if os.path.lexists(path) and not overwrite:
        raise OutputError(f"{path} exists (use --overwrite to replace it)")
    if not os.path.isdir(folder):
        raise OutputError(f"output folder does not exist: {folder}")
    probe = temp_path(path, ".probe")
    try:  # os.access says yes for root on /proc or a read-only mount: try it
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write to {folder} ({reason(exc)})") from exc


def temp_path(path: str, suffix: str) -> str:
    """A fresh temporary name beside path that names this host and process (see remove_stale_temporaries)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.r2cnn.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp{suffix}")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"


def remove_stale_temporaries(folder: str) -> list[str]:
    """Remove what killed runs on this host left in folder (their pid is gone); return the names removed."""
    host, removed = _host(), []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMP_RE.match(name)
        if match is None or match["host"] != host or _alive(int(match["pid"])):
            continue
        try:
            os.unlink(os.path.join(folder, name))
            removed.append(name)
        except OSError:
            pass  # gone already, or not ours to remove: harmless
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # Windows' os.kill(pid, 0) would end that process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


class StagedOutput:
    """A temporary beside `path` that becomes `path` (and its sidecars) only on publish()."""

    def __init__(
        self, path: str, suffix: str = ".tmp", overwrite: bool = False, protect: Sequence[str] = (),
        sidecars: Sequence[str] = (),
    ):
        self.path, self.overwrite, self.protect = os.fspath(path), overwrite, tuple(protect)
        check_output_path(self.path, overwrite, self.protect)
        self.tmp = temp_path(self.path, suffix)
        self._suffix, self._sidecars = suffix, tuple(sidecars)
        self.published: list[str] = []

    def _tmp_stem(self) -> str:
        return self.tmp[: len(self.tmp) - len(self._suffix)]

    def targets(self) -> list[tuple[str, str]]:
        """(temporary, final) pairs: sidecars first, the main file last (readers open it first)."""
        tmp_stem, final_stem = self._tmp_stem(), os.path.splitext(self.path)[0]
        pairs = [(tmp_stem + ext, final_stem + ext) for ext in self._sidecars if os.path.exists(tmp_stem + ext)]
        return [*pairs, (self.tmp, self.path)]

    def publish(self) -> None:
        """Rename into place with overwrite; else link, which fails if another run took a name meanwhile."""
        targets = self.targets()
        for _tmp, final in targets:
            clash = same_file_as_any(final, self.protect)
            if clash is not None:
                raise OutputError(f"{final} is an input ({clash}); refusing to write over it")
        try:
            if self.overwrite:
                self._remove_replaced_sidecars()
            for tmp, final in targets:
                os.chmod(tmp, 0o666 & ~_umask())  # temporaries are private; outputs get the usual permissions
                os.replace(tmp, final) if self.overwrite else _publish_exclusive(tmp, final)
                self.published.append(final)
        except FileExistsError as exc:
            self.roll_back()
            raise OutputError(
                f"{exc.filename} appeared while this run was writing (another run?); left it alone, wrote nothing"
            ) from exc
        except OSError as exc:
            self.roll_back()
            raise OutputError(f"cannot write {self.path}: {reason(exc)}") from exc

    def _remove_replaced_sidecars(self) -> None:
        """Sidecars of the file being replaced that this output does not have (an old index, say)."""
        tmp_stem, final_stem = self._tmp_stem(), os.path.splitext(self.path)[0]
        for ext in self._sidecars:
            old = final_stem + ext
            mine = os.path.exists(tmp_stem + ext)
            if not mine and os.path.isfile(old) and same_file_as_any(old, self.protect) is None:
                _unlink(old)

    def roll_back(self) -> None:
        """Take back what publish() created exclusively (a replaced file cannot come back)."""
        if not self.overwrite:
            for final in self.published:
                _unlink(final)
        self.published.clear()

    def discard(self) -> None:
        """Remove the temporary and anything the writer put beside it (sidecars, journals)."""
        tmp_stem = self._tmp_stem()
        folder, prefix = os.path.split(tmp_stem)
        try:
            names = [n for n in os.listdir(folder) if n.startswith(prefix)]
        except OSError:
            names = []
        for name in names:
            _unlink(os.path.join(folder, name))

    def __enter__(self) -> StagedOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()


def publish_all(outputs: Sequence[StagedOutput]) -> None:
    """Publish in order (the main output last); if one fails, the ones before it that were created
    exclusively are taken back, so that no partial set of outputs is left."""
    for position, staged in enumerate(outputs):
        try:
            staged.publish()
        except BaseException:
            for earlier in outputs[:position]:
                earlier.roll_back()
            raise


def _publish_exclusive(tmp: str, final: str) -> None:
    """Hard link tmp as final (fails with FileExistsError if final exists), then drop the temporary name."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINK_ERRNOS:
            raise
        os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # reserve the name, then fill it
        os.replace(tmp, final)
        return
    _unlink(tmp)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextmanager
def atomic_output(
    path: str | os.PathLike, suffix: str = ".tmp", overwrite: bool = True, protect: Sequence[str] = ()
) -> Iterator[str]:
    """Yield a temp path in the target's folder; it becomes `path` only if the block succeeds.

    overwrite=False publishes exclusively: an existing `path` (even one created while the block ran) is
    left alone and OutputError raised. `protect`: files (inputs) that `path` must never be.
    """
    staged = StagedOutput(os.fspath(path), suffix, overwrite, protect)
    with staged:
        try:
            with open(staged.tmp, "xb"):
                pass
        except OSError as exc:
            raise OutputError(f"cannot write in {os.path.dirname(staged.tmp)}: {reason(exc)}") from exc
        try:
            yield staged.tmp
        except OSError as exc:
            raise OutputError(f"cannot write {staged.path}: {reason(exc)}") from exc
        staged.publish()
