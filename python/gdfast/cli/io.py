"""Loaders for `gdfast fit` / `gdfast predict`: .npy, .npz, .csv and
svmlight/libsvm text, each parsed by vectorised NumPy (no Python loop per
value). Every problem with a file raises DataError(path, problem), which the
command line prints as one line ("gdfast: error: FILE: problem") with exit
status 2.
"""
from __future__ import annotations

import csv
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

FORMATS = ("npy", "npz", "csv", "svmlight")
_SVM_SUFFIXES = (".svm", ".svmlight", ".libsvm", ".txt", ".dat")


class DataError(Exception):
    """A data file that cannot be used: str(e) is 'PATH: problem'."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


@dataclass
class Dataset:
    """X (dense ndarray or scipy.sparse CSR), y (None when the file has no
    target), and what is known of the columns."""
    X: object
    y: Optional[np.ndarray]
    path: str
    format: str
    feature_names: Optional[List[str]] = None
    target_name: Optional[str] = None
    notes: List[str] = field(default_factory=list)
    zero_based: Optional[bool] = None  # svmlight: how the file numbers features

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]


def detect_format(path, fmt=None):
    """The file's format from --format or its suffix; DataError when unknown."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise DataError(path, f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
        return fmt
    low = str(path).lower()
    for suffix, name in ((".npy", "npy"), (".npz", "npz"), (".csv", "csv"), (".tsv", "csv")):
        if low.endswith(suffix):
            return name
    if low.endswith(_SVM_SUFFIXES):
        return "svmlight"
    raise DataError(path, "cannot tell the format from the file name (expected .npy, .npz, "
                          ".csv or svmlight .svm/.libsvm/.txt); pass --format")


def load(path, *, fmt=None, target=None, dtype=None, require_target=True,
         n_features=None, feature_names=None, sparse="auto", zero_based="auto"):
    """Load DATA as a Dataset.

    dtype: float32 or float64; None keeps a float file's own dtype (a float32
    .npy stays float32) and reads text and integer data as float64.
    target: the target column, for .npy an index (default: the last column)
    and for .csv a column name or index (default: the last column).
    require_target=False (prediction) makes the target optional: it is taken
    only when the file has one more column than ``n_features``, or (.csv) a
    column not among ``feature_names``. sparse: "auto" keeps svmlight data as
    SciPy CSR when SciPy is installed, False densifies it.

    Raises DataError for a missing or unreadable file, an empty file, ragged
    rows, non-numeric or non-finite cells, a missing target column, or a
    shape that does not fit.
    """
    path = str(path)
    fmt = detect_format(path, fmt)
    if not os.path.exists(path):
        raise DataError(path, "no such file")
    if os.path.isdir(path):
        raise DataError(path, "is a directory, not a data file")
    if os.path.getsize(path) == 0:
        raise DataError(path, "empty file")
    dtype = None if dtype is None else np.dtype(dtype)
    loader = {"npy": _load_npy, "npz": _load_npz, "csv": _load_csv, "svmlight": _load_svmlight}
    ds = loader[fmt](path, target=target, dtype=dtype, require_target=require_target,
                     n_features=n_features, feature_names=feature_names, sparse=sparse,
                     zero_based=zero_based)
    if ds.n_samples == 0:
        raise DataError(path, "no data rows")
    if ds.n_features == 0:
        raise DataError(path, "no feature columns")
    if ds.y is not None and ds.y.shape[0] != ds.n_samples:
        raise DataError(path, f"X has {ds.n_samples} rows but y has {ds.y.shape[0]}")
    _check_finite(ds)
    return ds


def _check_finite(ds):
    data = ds.X.data if hasattr(ds.X, "tocsr") else ds.X
    bad = ~np.isfinite(data)
    if bad.any():
        if hasattr(ds.X, "tocsr"):
            pos = int(np.argmax(bad))
            row = int(np.searchsorted(ds.X.indptr, pos, side="right") - 1)
            raise DataError(ds.path, f"non-finite value {data[pos]} in X at row {row + 1}")
        r, c = (int(i) for i in np.argwhere(bad)[0])
        col = ds.feature_names[c] if ds.feature_names else str(c)
        raise DataError(ds.path, f"non-finite value {data[r, c]} in X at row {r + 1}, "
                                 f"column {col}")
    if ds.y is not None:
        bad = ~np.isfinite(ds.y)
        if bad.any():
            r = int(np.argwhere(bad)[0][0])
            raise DataError(ds.path, f"non-finite target {ds.y[bad].flat[0]} at row {r + 1}")


def _float_dtype(a, dtype):
    """The dtype to compute in: the one asked for, else the array's own float
    dtype (never up-cast float32), else float64."""
    if dtype is not None:
        return dtype
    if a.dtype in (np.float32, np.float64):
        return a.dtype.newbyteorder("=")
    return np.dtype(np.float64)


def _as_float(path, a, what, dtype):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise DataError(path, f"{what} has non-numeric dtype {a.dtype}")
    return a.astype(_float_dtype(a, dtype), copy=False)


def _column_index(path, target, ncols, names=None):
    """The target column's index from --target (name or int; default last)."""
    if target is None:
        return ncols - 1
    if names is not None and str(target) in names:
        return names.index(str(target))
    try:
        idx = int(target)
    except (TypeError, ValueError):
        have = ", ".join(names) if names else f"{ncols} unnamed columns"
        raise DataError(path, f"no target column {target!r} (columns: {have})") from None
    if not -ncols <= idx < ncols:
        raise DataError(path, f"target column index {idx} out of range for {ncols} columns")
    return idx % ncols


def _split_target(path, M, target, dtype, require_target, n_features, names=None):
    """Split a 2-D table into X and its target column."""
    ncols = M.shape[1]
    has_target = require_target or target is not None or (
        n_features is not None and ncols == n_features + 1)
    if not has_target:
        return M, None, names, None
    if ncols < 2 and require_target:
        raise DataError(path, f"needs at least 2 columns (features and a target), has {ncols}")
    j = _column_index(path, target, ncols, names)
    keep = [i for i in range(ncols) if i != j]
    X = np.ascontiguousarray(M[:, keep], dtype=dtype)
    y = np.ascontiguousarray(M[:, j], dtype=dtype)
    tname = names[j] if names else str(j)
    xnames = [names[i] for i in keep] if names else None
    return X, y, xnames, tname


def _magic(path, n):
    with open(path, "rb") as f:
        return f.read(n)


def _load_npy(path, *, target, dtype, require_target, n_features, **_):
    if _magic(path, 6) != b"\x93NUMPY":
        raise DataError(path, "not a valid .npy file (no NumPy header)")
    try:
        M = np.load(path, allow_pickle=False)
    except ValueError as e:  # object arrays need pickle, which a data file must not need
        raise DataError(path, f"cannot read as .npy ({e})") from None
    except (OSError, EOFError) as e:
        raise DataError(path, f"not a valid .npy file ({e})") from None
    if not isinstance(M, np.ndarray):
        raise DataError(path, "not a .npy array (an .npz archive? use the .npz suffix)")
    if M.ndim != 2:
        raise DataError(path, f"expected a 2-D array (rows x columns, the target a column), "
                              f"got shape {M.shape}")
    M = _as_float(path, M, "the array", dtype)
    X, y, _, tname = _split_target(path, M, target, M.dtype, require_target, n_features)
    return Dataset(X, y, path, "npy", target_name=tname)


def _load_npz(path, *, dtype, require_target, **_):
    if _magic(path, 4) not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise DataError(path, "not a valid .npz archive (not a zip file)")
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.keys())
            if "X" not in keys:
                raise DataError(path, f"no array 'X' in the archive (it holds: "
                                      f"{', '.join(keys) or 'nothing'})")
            X = z["X"]
            y = z["y"] if "y" in keys else None
    except DataError:
        raise
    except ValueError as e:
        raise DataError(path, f"cannot read as .npz ({e})") from None
    except Exception as e:  # zipfile.BadZipFile, OSError, EOFError: all "not an npz"
        raise DataError(path, f"not a valid .npz archive ({type(e).__name__}: {e})") from None
    if X.ndim != 2:
        raise DataError(path, f"X must be 2-D (rows x features), got shape {X.shape}")
    X = np.ascontiguousarray(_as_float(path, X, "X", dtype))
    if y is None:
        if require_target:
            raise DataError(path, "no array 'y' (the target) in the archive")
    else:
        if y.ndim not in (1, 2):
            raise DataError(path, f"y must be 1-D (or 2-D for several outputs), got shape "
                                  f"{y.shape}")
        y = np.ascontiguousarray(_as_float(path, y, "y", X.dtype))
    return Dataset(X, y, path, "npz", target_name="y" if y is not None else None)


def _read_header(path):
    with open(path, "r", newline="", encoding="utf-8-sig") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                return lineno, line
    return None, None


def _sniff_delimiter(header):
    for d in (",", "\t", ";"):
        if d in header:
            return d
    return None  # whitespace-separated


def _load_csv(path, *, target, dtype, require_target, n_features, feature_names,
              delimiter=None, **_):
    dtype = np.dtype(np.float64) if dtype is None else dtype
    try:
        lineno, header = _read_header(path)
    except UnicodeDecodeError:
        raise DataError(path, "not a text file (cannot decode as UTF-8)") from None
    if header is None:
        raise DataError(path, "empty file (no header line)")
    delim = delimiter if delimiter is not None else _sniff_delimiter(header)
    names = [c.strip().strip('"').strip("'") for c in header.strip().split(delim)]
    if all(_is_number(c) for c in names):
        raise DataError(path, f"line {lineno}: the first line must be a header of column names "
                              f"(it holds numbers: {header.strip()[:40]!r})")
    if len(set(names)) != len(names):
        dup = next(c for c in names if names.count(c) > 1)
        raise DataError(path, f"header names column {dup!r} twice")
    ncols = len(names)
    if target is not None and not (str(target) in names or _is_int(target)):
        raise DataError(path, f"no target column {target!r} (columns: {', '.join(names)})")
    try:
        with warnings.catch_warnings():
            # "input contained no data" is reported below as our own error
            warnings.simplefilter("ignore", UserWarning)
            M = np.loadtxt(path, delimiter=delim, skiprows=lineno, ndmin=2, dtype=dtype,
                           comments="#", encoding="utf-8-sig", quotechar='"')
    except ValueError:
        raise DataError(path, _locate_csv_problem(path, lineno, delim, names, dtype)) from None
    if M.shape[0] == 0:
        raise DataError(path, "no data rows after the header")
    if M.shape[1] != ncols:
        raise DataError(path, f"the header names {ncols} columns but the rows have {M.shape[1]}")
    if not require_target and target is None and feature_names is not None:
        # prediction: the target is whatever column the model was not trained on
        missing = [c for c in feature_names if c not in names]
        if missing:
            raise DataError(path, f"missing feature column(s) the model was trained on: "
                                  f"{', '.join(missing[:5])}")
        extra = [c for c in names if c not in feature_names]
        if len(extra) > 1:
            raise DataError(path, f"columns the model does not know: {', '.join(extra[:5])}")
        order = [names.index(c) for c in feature_names]
        X = np.ascontiguousarray(M[:, order])
        y = np.ascontiguousarray(M[:, names.index(extra[0])]) if extra else None
        return Dataset(X, y, path, "csv", feature_names=list(feature_names),
                       target_name=extra[0] if extra else None)
    X, y, xnames, tname = _split_target(path, M, target, dtype, require_target, n_features,
                                        names)
    return Dataset(X, y, path, "csv", feature_names=xnames or names, target_name=tname)


def _is_number(s):
    try:
        float(s)
    except ValueError:
        return False
    return True


def _is_int(s):
    try:
        int(s)
    except (TypeError, ValueError):
        return False
    return True


def _locate_csv_problem(path, header_line, delim, names, dtype):
    """Only after np.loadtxt has failed: find the first bad line with the csv
    module so the message can name the line and the column."""
    with open(path, "r", newline="", encoding="utf-8-sig") as f:
        for lineno, line in enumerate(f, 1):
            if lineno <= header_line or not line.strip() or line.lstrip().startswith("#"):
                continue
            if delim is None:
                cells = line.split()
            else:
                cells = next(csv.reader([line.split("#", 1)[0]], delimiter=delim))
            if len(cells) != len(names):
                return (f"line {lineno}: ragged row: {len(cells)} cells, the header names "
                        f"{len(names)} columns")
            for name, cell in zip(names, cells):
                if not cell.strip():
                    return f"line {lineno}: empty cell in column {name!r}"
                try:
                    np.array(cell.strip()).astype(dtype)
                except ValueError:
                    return (f"line {lineno}: non-numeric cell {cell.strip()[:30]!r} in column "
                            f"{name!r}")
    return "cannot parse as CSV of numbers"


# --- svmlight / libsvm -----------------------------------------------------------------------

_COMMENT = re.compile(rb"#[^\n]*")
_QID = re.compile(rb"(?<!\S)qid:\S+")
_CHUNK_BYTES = 16 << 20  # bounds the token array (one bytes item per token) per chunk


def parse_svmlight(data, *, zero_based="auto", n_features=None, dtype=np.float64, path="<data>"):
    """Parse svmlight text (bytes) into (indptr, indices, values, y, n_features,
    zero_based).

    Each line is `label index:value index:value ... [# comment]`; `qid:` tokens
    are ignored. Indices are one-based unless zero_based is True ("auto":
    zero-based exactly when index 0 occurs). Vectorised: the text is split
    into tokens once and the index:value halves are converted by NumPy.

    Raises DataError for a line that does not start with a label, a
    non-numeric label, index or value, indices not increasing within a line,
    or an index beyond n_features.
    """
    rows_ptr, idx_all, val_all, y_all = [], [], [], []
    start, nnz, line0 = 0, 0, 0
    while start < len(data):
        end = min(len(data), start + _CHUNK_BYTES)
        if end < len(data):
            nl = data.rfind(b"\n", start, end)
            end = nl + 1 if nl >= start else data.find(b"\n", end) + 1 or len(data)
        chunk = data[start:end]
        ptr, idx, val, y = _parse_svm_chunk(chunk, dtype, path, line0)
        rows_ptr.append(ptr[1:] + nnz)
        nnz += len(idx)
        idx_all.append(idx)
        val_all.append(val)
        y_all.append(y)
        line0 += chunk.count(b"\n")
        start = end
    indptr = np.concatenate([np.zeros(1, np.int64)] + rows_ptr)
    indices = np.concatenate(idx_all) if idx_all else np.zeros(0, np.int64)
    values = np.concatenate(val_all) if val_all else np.zeros(0, dtype)
    y = np.concatenate(y_all) if y_all else np.zeros(0, dtype)
    if indices.size:
        if zero_based == "auto":
            zero_based = bool(indices.min() == 0)
        if not zero_based:
            if indices.min() < 1:
                raise DataError(path, "feature index 0 in a one-based file")
            indices = indices - 1
        if indices.min() < 0:
            raise DataError(path, f"negative feature index {indices.min()}")
    width = int(indices.max()) + 1 if indices.size else 0
    if n_features is not None:
        if width > n_features:
            raise DataError(path, f"feature index {width - 1 + (0 if zero_based else 1)} is "
                                  f"beyond the model's {n_features} features")
        width = n_features
    return indptr, indices, values, y, width, zero_based


def _parse_svm_chunk(chunk, dtype, path, line0):
    text = _QID.sub(b"", _COMMENT.sub(b"", chunk))
    tokens = np.array(text.split())
    n_lines = sum(1 for _ in re.finditer(rb"^[ \t]*\S", text, re.M))
    if tokens.size == 0:
        return np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0, dtype), np.zeros(0, dtype)
    is_feat = np.char.find(tokens, b":") >= 0
    is_label = ~is_feat
    if is_label.sum() != n_lines or not is_label[0]:
        raise DataError(path, _locate_svm_problem(text, line0))
    try:
        y = tokens[is_label].astype(dtype)
    except ValueError:
        raise DataError(path, _locate_svm_problem(text, line0)) from None
    row_of = np.cumsum(is_label)[is_feat] - 1
    parts = np.char.partition(tokens[is_feat], b":")
    try:
        idx = parts[:, 0].astype(np.int64)
        val = parts[:, 2].astype(dtype)
    except ValueError:
        raise DataError(path, _locate_svm_problem(text, line0)) from None
    same_row = row_of[1:] == row_of[:-1]
    if np.any(same_row & (idx[1:] <= idx[:-1])):
        k = int(np.argmax(same_row & (idx[1:] <= idx[:-1])))
        lineno = line0 + _nth_data_line(text, int(row_of[k + 1]))
        raise DataError(path, f"line {lineno}: feature indices must increase within a line "
                              f"({idx[k]} then {idx[k + 1]})")
    counts = np.bincount(row_of, minlength=int(is_label.sum()))
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return indptr, idx, val, y


def _nth_data_line(text, k):
    """1-based line number (within text) of the k-th (0-based) non-blank line."""
    for i, m in enumerate(re.finditer(rb"^[ \t]*\S", text, re.M)):
        if i == k:
            return text.count(b"\n", 0, m.start()) + 1
    return 0


def _locate_svm_problem(text, line0):
    """Error path only: walk the lines to name the first malformed one."""
    for i, line in enumerate(text.split(b"\n"), 1):
        toks = line.split()
        if not toks:
            continue
        where = f"line {line0 + i}"
        if b":" in toks[0]:
            first = toks[0][:30].decode(errors="replace")
            return f"{where}: must start with a label, got {first!r}"
        if not _is_number(toks[0].decode(errors="replace")):
            return f"{where}: non-numeric label {toks[0][:30].decode(errors='replace')!r}"
        for t in toks[1:]:
            s = t.decode(errors="replace")
            if ":" not in s:
                return f"{where}: expected index:value, got {s[:30]!r}"
            a, _, b = s.partition(":")
            if not _is_int(a) or not _is_number(b):
                return f"{where}: non-numeric index:value pair {s[:30]!r}"
    return "cannot parse as svmlight"


def _load_svmlight(path, *, dtype, require_target, n_features, sparse, zero_based, **_):
    dtype = np.dtype(np.float64) if dtype is None else dtype
    with open(path, "rb") as f:
        data = f.read()
    if not data.strip():
        raise DataError(path, "empty file")
    if b"\0" in data[:4096]:
        raise DataError(path, "not a text file (holds NUL bytes)")
    indptr, indices, values, y, width, zero_based = parse_svmlight(
        data, n_features=n_features, dtype=dtype, path=path, zero_based=zero_based)
    n = len(y)
    notes = []
    X = None
    if sparse:
        try:
            import scipy.sparse as sp
        except ImportError:
            notes.append("SciPy is not installed: svmlight data densified")
        else:
            X = sp.csr_matrix((values, indices, indptr), shape=(n, width), dtype=dtype)
    if X is None:
        X = np.zeros((n, width), dtype)
        rows = np.repeat(np.arange(n), np.diff(indptr))
        X[rows, indices] = values
    ds = Dataset(X, y, path, "svmlight", target_name="label", notes=notes)
    ds.zero_based = None if zero_based == "auto" else bool(zero_based)
    return ds


def densify(ds, *, max_bytes=None):
    """Turn a CSR Dataset dense (for a core without sparse input), with a note;
    DataError when the dense copy would not fit in max_bytes (default: half
    the physical memory)."""
    if not hasattr(ds.X, "tocsr"):
        return ds
    n, d = ds.X.shape
    need = n * d * ds.X.dtype.itemsize
    if max_bytes is None:
        try:
            max_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
        except (ValueError, OSError, AttributeError):
            max_bytes = 4 << 30
    if need > max_bytes:
        raise DataError(ds.path, f"the sparse data would need {need / 2**30:.1f} GiB dense, "
                                 f"and this build trains on dense arrays only")
    ds.notes.append(f"training on a dense copy ({n} x {d}, {need / 2**20:.1f} MiB): this "
                    "build's fit_linear takes dense arrays")
    ds.X = np.ascontiguousarray(ds.X.toarray())
    return ds


def write_svmlight(path, X, y, *, zero_based=False):
    """Write dense X, y as svmlight text (tests and examples)."""
    X = np.asarray(X)
    off = 0 if zero_based else 1
    with open(path, "w") as f:
        for xi, yi in zip(X, y):
            nz = np.flatnonzero(xi)
            pairs = " ".join(f"{j + off}:{float(xi[j])!r}" for j in nz)
            f.write(f"{float(yi)!r} {pairs}\n")
