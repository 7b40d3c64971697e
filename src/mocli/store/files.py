"""File safety for the case store: private directories and files (0700/0600), all-or-nothing writes,
and a corrupt case file moved aside and kept, never replaced or deleted."""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

from mocli.errors import StoreCorrupt, StoreError

FILE_MODE = 0o600
DIR_MODE = 0o700


def _aside_name(path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    return path.with_name(f"{path.name}.corrupt-{stamp}")


def move_aside(path: Path, ino: int | None) -> tuple[Path | None, str]:
    """Move a corrupt case file out of the way and keep it (call with the store's lock held).

    Returns (where it went, "") or (None, why not). Never overwrites anything: the kept copy gets a
    fresh name (a hard link, then the old name is unlinked), and a file that is no longer the one found
    corrupt (another process already moved it) is left alone.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None, "another mocli process already moved it aside"
    except OSError as exc:
        return None, f"cannot move it aside: {exc.strerror}"
    if ino is not None and st.st_ino != ino:
        return None, "another mocli process already moved it aside"
    base = _aside_name(path)
    for n in range(1, 1000):
        target = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            os.link(path, target)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network or FAT file systems): rename, never clobbering
            if target.exists():
                continue
            try:
                os.rename(path, target)
            except OSError as exc:
                return None, f"cannot move it aside: {exc.strerror}"
            break
        else:
            try:
                os.unlink(path)
            except OSError as exc:
                target.unlink(missing_ok=True)
                return None, f"cannot move it aside: {exc.strerror}"
            break
    else:
        return None, "cannot move it aside: too many kept copies"
    try:
        _fsync_dir(path.parent)
    except OSError:
        pass
    return target, ""


def corrupt_error(path: Path, detail: str, moved: Path | None, why_not: str) -> StoreCorrupt:
    """The one-line StoreCorrupt: what is wrong, and where the file is now."""
    if moved is not None:
        return StoreCorrupt(f"{path} is corrupt ({detail}); it was moved aside to {moved} and kept unchanged; "
                            "the next command starts a new, empty case file (recover cases from the kept "
                            "copy or a backup)")
    return StoreCorrupt(f"{path} is corrupt ({detail}); the file was left untouched ({why_not})")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(directory: Path, tighten: bool = True) -> None:
    """Create `directory` (0700); with `tighten` (mocli's own directories only) also tighten it if
    group/other can read it. A symlink is never followed to chmod its target."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        if not tighten or directory.is_symlink():
            return
        mode = stat.S_IMODE(directory.stat().st_mode)
        if mode & 0o077:
            os.chmod(directory, mode & ~0o077)
    except OSError as exc:
        raise StoreError(f"cannot use the data directory {directory}: {exc.strerror or exc}") from None


def is_data_dir(directory: Path) -> bool:
    """True for mocli's own data directory: the one existing place whose modes mocli keeps tight."""
    from mocli.config import data_dir

    try:
        return os.path.samefile(directory, data_dir())
    except OSError:
        return False


def keeps_own_files(directory: Path) -> bool:
    """True where mocli may put its locks and caches beside a case file: its data directory, or a
    directory of this user's that nobody else can enter. Anywhere else (a team folder, a home
    directory) they would be new files in someone else's place: caches go to `cache_dir()`."""
    if is_data_dir(directory):
        return True
    try:
        st = os.stat(directory)
    except OSError:
        return False
    return _owned(st) and not st.st_mode & 0o077


def cache_dir() -> Path:
    """mocli's own cache directory: MOCLI_HOME/cache when MOCLI_HOME is set, else the platform's."""
    if env := os.environ.get("MOCLI_HOME"):
        return Path(env) / "cache"
    from platformdirs import user_cache_dir  # noqa: TID253

    return Path(user_cache_dir("mocli", appauthor=False))


def tighten_file(path: Path) -> None:
    """Make an existing file 0600 if group/other can read it (a missing file is fine). A symlink is
    left alone: its target is not mocli's to chmod."""
    try:
        st = os.lstat(path)
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077 and not stat.S_ISLNK(st.st_mode):
            os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StoreError(f"cannot make {path} private (0600): {exc.strerror or exc}") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` all-or-nothing: temporary file, fsync, rename, fsync the directory."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}; the old file is unchanged") from None
    except BaseException:  # Ctrl-C: the old file stays, the temporary one goes
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _write_fully(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _owned(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() if hasattr(os, "getuid") else True

