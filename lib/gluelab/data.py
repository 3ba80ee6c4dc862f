"""The lessons' real data: the bundled Kaggle files and their download from Kaggle.

* **Bundled datasets** (``datasets``, ``info``, ``path``, ``verify``, ``load``). ``data/manifest.json``
  records, for every bundled file, where the copy came from, its licence as found, its sha256, row count,
  columns, quirks and the options needed to read it correctly. ``load`` checks the sha256 before reading, so a
  lesson never silently runs on a changed file.
* **Download** (``download``): the same files through Kaggle's own API when the learner has credentials,
  checked against the manifest's sha256. Without credentials or network it fails with a message that says
  what to do; the bundled copies always work offline.

Synthetic data built from these files (any size, seeded) lives in :mod:`gluelab.synth`.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import io
import json
import os
import time
import warnings
import zipfile
from pathlib import Path

import pandas as pd

__all__ = ["DatasetError", "KaggleError", "datasets", "download", "info", "load", "path", "verify"]


class DatasetError(RuntimeError):
    """A bundled file is missing or is not the file the manifest describes."""


class KaggleError(RuntimeError):
    """A download from Kaggle could not be done (no credentials, no network, refused, or hash mismatch)."""


# ----------------------------------------------------------------------------------------------------------
# Bundled datasets
# ----------------------------------------------------------------------------------------------------------

def data_dir() -> Path:
    """The folder holding the bundled files and ``manifest.json``.

    ``$GLUELAB_DATA`` wins when set (e.g. a copy elsewhere); otherwise the repository's ``data/`` folder,
    which is where an editable install (``pip install -e .``) finds it.
    """
    return Path(os.environ.get("GLUELAB_DATA") or Path(__file__).resolve().parents[2] / "data")


@functools.lru_cache(maxsize=4)
def _read_manifest(manifest_path: Path) -> dict:
    if not manifest_path.is_file():
        raise DatasetError(f"No dataset manifest at {manifest_path}. gluelab expects its data/ folder next "
                           "to lib/ (an editable install of the repository), or GLUELAB_DATA set to a copy.")
    return json.loads(manifest_path.read_text(encoding="utf-8"))["datasets"]


def _manifest() -> dict:
    return _read_manifest(data_dir() / "manifest.json")


def datasets() -> list[str]:
    """Names of the bundled datasets, in manifest order (e.g. ``"customer_personality"``)."""
    return list(_manifest())


def info(name: str) -> dict:
    """A dataset's manifest entry: provenance, licence as found, sha256, rows, columns, quirks, read options.

    Returns a copy, so changing it cannot change what ``load`` does.
    """
    entries = _manifest()
    if name not in entries:
        raise ValueError(f"Unknown dataset {name!r}. Bundled datasets: {', '.join(entries)}")
    return copy.deepcopy(entries[name])


def path(name: str) -> Path:
    """Where the bundled file of ``name`` lives (it is not checked; ``verify`` does that)."""
    return data_dir() / info(name)["file"]


def file_sha256(file: Path) -> str:
    """The SHA-256 of a file, hex, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(name: str) -> Path:
    """Check that the bundled file exists and has the manifest's sha256; return its path.

    Why: lessons assert on row counts and values; a file edited by hand (or by a spreadsheet program that
    "helpfully" re-saved it) would make them fail in confusing ways, so we fail early and say why.
    """
    entry, file = info(name), path(name)
    if not file.is_file():
        raise DatasetError(f"The bundled file for {name!r} is missing: {file}. Restore it from the "
                           f"repository (git checkout -- data/{entry['file']}) or fetch the original with "
                           f"gluelab.data.download({name!r}).")
    actual = file_sha256(file)
    if actual != entry["sha256"]:
        raise DatasetError(f"The bundled file for {name!r} has changed: {file} has sha256 {actual}, the "
                           f"manifest expects {entry['sha256']}. Restore the original from the repository; "
                           "if the change is intended, update data/manifest.json.")
    return file


def load(name: str, **read_csv_options) -> pd.DataFrame:
    """Read a bundled dataset into pandas, with the options its quirks need; the sha256 is checked first.

    The options come from the manifest (``info(name)["read_options"]``): tab separator for
    ``customer_personality``, BOM-aware UTF-8 for ``olist_category_translation``, quoted fields with line
    breaks for ``clothing_reviews`` (gzip-compressed), identifiers kept as text where they are not numbers.
    Columns are named exactly as in the file's header (the reviews' empty first header stays ``""``).
    Dates are left as text, in the formats listed under ``read_options["date_formats"]``: parsing them is
    part of the lessons. Any keyword is passed on to ``pandas.read_csv`` and overrides the defaults.
    """
    entry = info(name)
    file = verify(name)
    ro = entry["read_options"]
    options = {
        "sep": ro["sep"],
        "encoding": ro["encoding"],
        "header": 0,
        "names": entry["columns"],
        "compression": entry["compression"],
        "dtype": ro.get("pandas", {}).get("dtype"),
    }
    options.update(read_csv_options)
    return pd.read_csv(file, **options)


# ----------------------------------------------------------------------------------------------------------
# Download through the Kaggle API
# ----------------------------------------------------------------------------------------------------------

_NO_CREDENTIALS_HELP = (
    "To download from Kaggle, create an API token at https://www.kaggle.com/settings/api, then do one of:\n"
    "  - export KAGGLE_API_TOKEN=<token>                 (or save the token in ~/.kaggle/access_token)\n"
    "  - export KAGGLE_USERNAME=<user> KAGGLE_KEY=<key>  (legacy key)\n"
    "  - save kaggle.json in ~/.kaggle/kaggle.json and chmod 600 it (legacy key)\n"
    "  - run `kaggle auth login` once\n"
    "Some datasets also need you to accept their terms on the dataset's Kaggle page first."
)


def _kaggle_credentials() -> str | None:
    """Where Kaggle credentials would come from, or None. Checked without importing ``kaggle``.

    Why not just import it: ``import kaggle`` authenticates at import time, prints a help text and may call
    the network; we only import it when there is something to authenticate with.
    """
    env = os.environ
    if env.get("KAGGLE_API_TOKEN"):
        return "the KAGGLE_API_TOKEN environment variable"
    if env.get("KAGGLE_USERNAME") and env.get("KAGGLE_KEY"):
        return "the KAGGLE_USERNAME and KAGGLE_KEY environment variables"
    home = Path(os.path.expanduser("~"))
    config_dirs = [Path(env["KAGGLE_CONFIG_DIR"])] if env.get("KAGGLE_CONFIG_DIR") else []
    config_dirs += [home / ".kaggle", Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "kaggle"]
    candidates = [home / ".kaggle" / "access_token", home / ".kaggle" / "access_token.txt",
                  home / ".kaggle" / "credentials.json"] + [d / "kaggle.json" for d in config_dirs]
    for file in candidates:
        if file.is_file() and file.stat().st_size > 0:
            return str(file)
    return None


def _kaggle_api():
    """An authenticated ``KaggleApi``; the package's import-time chatter captured, its exits made errors."""
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            from kaggle.api.kaggle_api_extended import KaggleApi

            api = KaggleApi()
            api.authenticate()
    except ImportError as exc:
        raise KaggleError("The `kaggle` package is not installed: pip install kaggle") from exc
    except (Exception, SystemExit) as exc:
        said = " ".join(chatter.getvalue().split())[:300]
        raise KaggleError(f"Kaggle refused the credentials or could not be reached ({type(exc).__name__}: "
                          f"{exc}). {said}\n{_NO_CREDENTIALS_HELP}") from exc
    return api


def _default_download_dir(entry: dict) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path(os.path.expanduser("~")) / ".cache")
    return cache / "gluelab" / "kaggle" / Path(entry["file"]).parts[0]


def download(name: str, dest: str | os.PathLike | None = None, *, strict: bool = False) -> dict:
    """Download the original file of ``name`` from Kaggle and compare its sha256 with the manifest.

    ``dest`` is a folder (default: ``~/.cache/gluelab/kaggle/<dataset>``); the bundled copy is never
    overwritten. Returns ``{"name", "path", "sha256", "expected_sha256", "matches", "credentials"}``.

    The bundled copies came from public GitHub mirrors, not from Kaggle itself, so a mismatch is possible
    (a re-saved or re-versioned file): it is reported with a ``UserWarning`` that names both hashes, or raised
    as ``KaggleError`` with ``strict=True``. ``online_shop_sample`` is a partial copy: the full file has no
    reference hash, so ``matches`` is None. Without credentials, or without network, raises ``KaggleError``
    saying what to do.
    """
    entry = info(name)
    slug, remote_name = entry["kaggle"]["slug"], entry["kaggle"]["file"]
    where = _kaggle_credentials()
    if where is None:
        raise KaggleError(f"No Kaggle credentials found, so {name!r} ({slug}) cannot be downloaded. The "
                          f"bundled copy works offline: gluelab.data.load({name!r}).\n{_NO_CREDENTIALS_HELP}")
    folder = Path(dest) if dest is not None else _default_download_dir(entry)
    folder.mkdir(parents=True, exist_ok=True)
    api = _kaggle_api()
    started = time.time()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            api.dataset_download_file(slug, remote_name, path=str(folder), force=True, quiet=True)
    except (Exception, SystemExit) as exc:
        raise KaggleError(f"Could not download {remote_name!r} from {slug} ({type(exc).__name__}: {exc}). "
                          "Check the network connection (and any proxy), that the credentials are valid, and "
                          f"that you accepted the dataset's terms on https://www.kaggle.com/datasets/{slug}. "
                          f"The bundled copy works offline: gluelab.data.load({name!r}).") from exc
    file = _downloaded_file(folder, remote_name, started)
    digest = file_sha256(file)
    expected = None if entry["partial"] else entry.get("original_sha256", entry["sha256"])
    matches = None if expected is None else digest == expected
    if matches is False:
        message = (f"{file} (sha256 {digest}) is not byte-identical to the bundled copy of {name!r} (sha256 "
                   f"{expected}). The bundled copy came from a public mirror (see info({name!r})['source']); "
                   "compare the two before relying on either.")
        if strict:
            raise KaggleError(message)
        warnings.warn(message, UserWarning, stacklevel=2)
    return {"name": name, "path": file, "sha256": digest, "expected_sha256": expected, "matches": matches,
            "credentials": where}


def _downloaded_file(folder: Path, remote_name: str, since: float) -> Path:
    """The file Kaggle just wrote, unzipped if Kaggle sent it zipped (it does so for large files)."""
    target = folder / remote_name
    fresh = [p for p in folder.iterdir() if p.is_file() and p.stat().st_mtime >= since - 2]
    for archive in (p for p in fresh if p.suffix == ".zip"):
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist() if Path(m).name == remote_name] or zf.namelist()[:1]
            if members:
                target.write_bytes(zf.read(members[0]))
                archive.unlink()
                return target
    if target.is_file():
        return target
    if len(fresh) == 1:
        return fresh[0]
    raise KaggleError(f"Kaggle reported success but {remote_name!r} is not in {folder}; files there: "
                      f"{sorted(p.name for p in folder.iterdir())}")
