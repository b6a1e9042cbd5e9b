"""Model files: arrays and JSON only, so loading one never runs code from it.

A model file is a zip of ``.npy`` arrays (the flat trees of both stages of a
:class:`~boilerclf.model.classifier.LineClassifier`, and of a site model's site
layer, :mod:`boilerclf.model.site`) and a JSON header (format version,
feature-schema version, the scikit-learn version that trained it, the
training data, scores and threshold), written by :func:`save`
and read by :func:`load`, which bounds each part before reading it (the
header's size, nesting and values; each array's dtype and shape against its
size and the stage's node count), reads only the members the header calls
for, checks every setting in the header, and never unpickles.  A loaded
model (:mod:`boilerclf.model.fitted`) predicts without scikit-learn and holds
no estimators, so it cannot be refitted as is (``clone`` it, or retrain with
``boilerclf train``).  :func:`load`
refuses a file whose schema does not match, with a message saying what to do.
Legacy joblib (pickle) model files, which run code when read, load only with
``trusted=True``; :func:`convert` turns one into the safe format.
"""
from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from boilerclf.features.table import FEATURE_NAMES, N_STRUCT, SCHEMA_VERSION
from boilerclf.model.fitted import (
    LINE_DEFAULTS,
    RECORDED_ESTIMATOR,
    SITE_DEFAULTS,
    LinePredictor,
    SitePredictor,
)
from boilerclf.model.header import (
    LINE_CHECKS,
    MAX_HEADER_BYTES,
    header_problem,
    params_problem,
    parse_header,
    shown,
    unit,
)
from boilerclf.model.scores import CONTEXT_NAMES, LineScores, SiteScores
from boilerclf.model.trees import ARRAYS, FlatTrees, flatten


class ModelError(Exception):
    """A model file that cannot be used (wrong schema, version, or corrupt)."""


FORMAT_VERSION = 2
_MAGIC = b"PK\x03\x04"  # a zip file
MAX_UNZIPPED = 256 << 20  # refuse files that would unpack to more than this
#: Most tree nodes in one stage of a model file: 28 times the shipped stages'
#: 9,165 (e.g. 4,000 trees of 31 leaves).  Every array of a stage is checked
#: against this count before it is read.
MAX_STAGE_NODES = 1 << 18
_NPY_PREAMBLE = 1024  # bytes of an .npy member before its data, at most
_MAX_DIRECTORY = 64 << 10  # bytes of the zip's central directory, at most
_STAGES = ("s1", "s2", "site")
_STAGE_ARRAYS = (*ARRAYS, "meta")
_MAX_MEMBERS = 1 + len(_STAGES) * len(_STAGE_ARRAYS)
_PARAMS = tuple(LINE_DEFAULTS)
_SITE_PARAMS = tuple(SITE_DEFAULTS)
#: File names of the shipped models (the package ``boilerclf.models``, the ``models/`` folder).
SHIPPED_MODELS = {"html": "boilerclf-html.npz", "text": "boilerclf-text.npz"}


def sklearn_version() -> str:
    """The installed scikit-learn's version (major.minor), read without importing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return ".".join(version("scikit-learn").split(".")[:2])
    except PackageNotFoundError:
        return "none"


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"a model-file header holds JSON values only, not {type(o).__name__}")


def _estimator_record(est) -> dict | None:
    """A stage estimator parameter as JSON: None, or a HistGradientBoostingClassifier's
    parameters when they survive a JSON round trip (else ``{"unrecorded": name}``)."""
    if est is None:
        return None
    if type(est).__name__ == RECORDED_ESTIMATOR and type(est).__module__.startswith("sklearn."):
        params = est.get_params(deep=False)
        try:
            if json.loads(json.dumps(params)) == params:
                return {RECORDED_ESTIMATOR: params}
        except (TypeError, ValueError):
            pass
    return {"unrecorded": type(est).__name__}


def _line_record(model: LineScores) -> dict:
    if isinstance(model, LinePredictor):
        records = model.records
    else:
        records = {k: _estimator_record(getattr(model, k)) for k in ("estimator", "context_estimator")}
    return {"class": "LineClassifier", "params": {k: getattr(model, k) for k in _PARAMS}, **records}


def save(model: LineScores | SiteScores, path: str | Path, *, kind: str, **header: Any) -> dict:
    """Write ``model`` with a header to ``path`` (atomically); returns the header.

    The file is a zip of ``header.json`` and ``.npy`` arrays (the flat trees
    of each stage), with fixed timestamps, so the same model gives the same
    bytes.  ``header`` values must be JSON (numbers, strings, lists, dicts;
    numpy scalars and arrays are converted; NaN is written as Python's json does).
    Only models whose stages are binary HistGradientBoostingClassifiers (the
    default) can be saved (``ValueError`` otherwise).  A fitted
    LineClassifier or SiteModel, or a model read from a file (its trees and
    settings as they were), can be saved.
    """
    site = isinstance(model, SiteScores)
    model.check_fitted()
    base = model.base_ if site else model
    base.check_fitted()
    stages = {"s1": flatten(base.stage1_), "s2": flatten(base.stage2_),
              "site": flatten(model.site_) if site else None}
    if stages["s1"] is None or (base.stage2_ is not None and stages["s2"] is None) or \
            (site and stages["site"] is None):
        raise ValueError("only models whose stages are binary HistGradientBoostingClassifiers "
                         "over numerical features (the default) can be saved")
    estimator = _line_record(base)
    if site:
        record = model.record if isinstance(model, SitePredictor) else _estimator_record(model.estimator)
        estimator = {"class": "SiteModel", "params": {k: getattr(model, k) for k in _SITE_PARAMS},
                     "weight": float(model.weight_), "estimator": record,
                     "base": estimator}
    head = {
        "format": "boilerclf-model",
        "format_version": FORMAT_VERSION,
        "schema_version": SCHEMA_VERSION,
        "sklearn_version": sklearn_version(),
        "kind": kind,
        "n_features": len(FEATURE_NAMES),
        "estimator": estimator,
        **header,
    }
    text = json.dumps(head, indent=1, sort_keys=True, default=_json_default)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        def put(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)

        put("header.json", text.encode("utf-8"))
        for st, trees in stages.items():
            if trees is None:
                continue
            for name, arr in trees.arrays().items():
                b = io.BytesIO()
                np.lib.format.write_array(b, np.ascontiguousarray(arr), allow_pickle=False)
                put(f"{st}_{name}.npy", b.getvalue())
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)
    return json.loads(text)


def sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def shipped_model_path(name: str) -> Path:
    """Path of the shipped model file ``name`` (``models/``, installed as ``boilerclf.models``)."""
    from importlib.resources import files

    try:
        p = Path(str(files("boilerclf.models") / name))
    except ModuleNotFoundError:  # running from a checkout without install
        p = Path(__file__).resolve().parent.parent / "models" / name
    if not p.is_file():
        raise ModelError(f"shipped model {name} not found at {p}")
    return p


def check_shipped_digest(p: Path) -> None:
    """Check a shipped model against the SHA-256 digest stored beside it
    (``digests.json``); raises :class:`ModelError`."""
    digests_file = p.with_name("digests.json")
    try:
        want = json.loads(digests_file.read_text())[p.name]
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelError(f"no digest for shipped model {p.name} in {digests_file}") from None
    if sha256(p) != want:
        raise ModelError(f"shipped model {p} does not match its SHA-256 digest: the file was "
                         f"modified or corrupted; reinstall boilerclf")


def shipped_name(path: str | Path) -> str | None:
    """The file name of the shipped model that ``path`` names, else None.

    A shipped model is named by its kind (``"html"``, ``"text"``), its file
    name with or without ``.npz`` (``"boilerclf-html.npz"``), or that name in
    ``models/`` as in a checkout (``"models/boilerclf-html.npz"``).
    """
    p = Path(path)
    if p.is_absolute() or str(p.parent) not in (".", "models"):
        return None
    for kind, name in SHIPPED_MODELS.items():
        if p.name in (name, name[: -len(".npz")]) or (p.name == kind and str(p.parent) == "."):
            return name
    return None


def load(path: str | Path, *, trusted: bool = False) -> tuple[LinePredictor | SitePredictor, dict]:
    """Load a model file; raises :class:`ModelError` with a clear message.

    The model is a :class:`~boilerclf.model.fitted.LinePredictor` or a site
    model (:class:`~boilerclf.model.fitted.SitePredictor`: a LinePredictor
    inside with a site layer on top, with the same ``decision_scores`` /
    ``threshold``); both predict without scikit-learn, and ``clone`` gives
    the estimator to train again.  (A legacy pickle holds the estimators it
    was saved with.)

    A path that does not exist but names a shipped model (:func:`shipped_name`:
    ``"html"``, ``"boilerclf-html.npz"``, ``"models/boilerclf-html.npz"``, ...)
    loads the installed shipped model, after checking its SHA-256 digest, from
    any working directory.

    Model files are arrays and JSON (see :func:`save`) and never unpickled.
    A legacy joblib/pickle model file runs code while it is read, so it is
    refused unless ``trusted=True`` (only for files whose origin you trust;
    :func:`convert` then rewrites it in the safe format).
    """
    path = Path(path)
    if not path.exists():
        name = shipped_name(path)
        if name is None:
            raise ModelError(f"model file not found: {path} (the shipped models are "
                             f"{', '.join(repr(k) for k in SHIPPED_MODELS)})")
        path = shipped_model_path(name)
        check_shipped_digest(path)
    if not path.is_file():
        raise ModelError(f"model file {path} is not a file")
    try:
        with open(path, "rb") as f:
            magic = f.read(len(_MAGIC))
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc}") from None
    if magic == _MAGIC:
        return _load_arrays(path)
    if not trusted:
        raise ModelError(
            f"{path} is not a boilerclf model file (arrays + JSON). If it is a model saved by an "
            f"older boilerclf (a joblib/pickle file), reading it would run code stored in the file, "
            f"so it is refused: only if you trust where it came from, load it with trusted=True "
            f"(API) or --trusted-model (CLI), and convert it once with `boilerclf convert-model "
            f"OLD NEW --trusted-model`")
    return _load_pickle(path)


def _check_schema(path: Path, head: dict) -> None:
    if head.get("schema_version") != SCHEMA_VERSION:
        raise ModelError(
            f"{path} was trained for feature schema {head.get('schema_version')}, this boilerclf "
            f"computes schema {SCHEMA_VERSION}: retrain it with `boilerclf train`")


def _load_arrays(path: Path) -> tuple[LinePredictor | SitePredictor, dict]:
    """A model file in the safe format.  Every part is bounded before it is
    read: the zip directory, the header's size, nesting and value count, and
    each array's dtype and shape against its size and the stage's node count;
    members that the header does not call for are refused unread."""
    try:
        _check_directory(path)
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise ModelError(f"{path} repeats a member name: not a boilerclf model file")
            if sum(i.file_size for i in infos) > MAX_UNZIPPED:
                raise ModelError(f"{path} unpacks to more than {MAX_UNZIPPED >> 20} MB: not a "
                                 f"boilerclf model file")
            for i in infos:
                if i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise ModelError(f"{path}: member {i.filename!r} uses compression method "
                                     f"{i.compress_type} (a model file is stored or deflated)")
            head = _read_header(path, z)
            stages = _read_stages(path, z, head)
        model = _model_from_header(head, stages["s1"], stages["s2"], stages["site"])
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated zip, bad arrays, bad JSON, ...
        raise ModelError(f"cannot read model file {path} (truncated or corrupt?): "
                         f"{type(exc).__name__}: {exc}") from None
    return model, head


_ZIP_END = struct.Struct("<4s4H2LH")  # end-of-central-directory record
_ZIP_END_SIG, _ZIP64_LOCATOR_SIG = b"PK\x05\x06", b"PK\x06\x07"


def _check_directory(path: Path) -> None:
    """Refuse a zip whose central directory is larger than a model file's
    before :mod:`zipfile` reads it (it keeps an object per member)."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        n = min(size, _ZIP_END.size + 0xFFFF)
        f.seek(size - n)
        tail = f.read(n)
    at = tail.rfind(_ZIP_END_SIG)
    if at < 0 or at + _ZIP_END.size > len(tail):
        return  # no directory: zipfile says the file is not a zip
    _, _, _, on_disk, members, dir_size, _, _ = _ZIP_END.unpack_from(tail, at)
    if at >= 20 and tail[at - 20:at - 16] == _ZIP64_LOCATOR_SIG:
        raise ModelError(f"{path} is a ZIP64 archive: not a boilerclf model file")
    if max(on_disk, members) > _MAX_MEMBERS or dir_size > _MAX_DIRECTORY:
        raise ModelError(f"{path} is a zip of {max(on_disk, members)} members ({dir_size} bytes of "
                         f"directory): not a boilerclf model file (at most {_MAX_MEMBERS} members)")


def _read_header(path: Path, z: zipfile.ZipFile) -> dict:
    """The checked header of an open model file (:class:`ModelError` otherwise)."""
    try:
        info = z.getinfo("header.json")
    except KeyError:
        raise ModelError(f"{path} is a zip file but not a boilerclf model file") from None
    if info.file_size > MAX_HEADER_BYTES:
        raise ModelError(f"{path}: header.json unpacks to {info.file_size} bytes, more than the "
                         f"{MAX_HEADER_BYTES} of a model header: not a boilerclf model file")
    with z.open(info) as f:
        raw = f.read(MAX_HEADER_BYTES + 1)
    try:
        head = parse_header(raw)
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"{path}: header.json is not a model header: {exc}") from None
    if not isinstance(head, dict) or head.get("format") != "boilerclf-model":
        raise ModelError(f"{path} is not a boilerclf model file")
    if head.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path} is model-file format {head.get('format_version')!r:.40}, this boilerclf "
            f"reads format {FORMAT_VERSION}: use the boilerclf that wrote it, or retrain")
    _check_schema(path, head)
    problem = header_problem(head)
    if problem:
        raise ModelError(f"{path}: bad model header: {problem}")
    return head


# a JSON string, or an unterminated one up to the end (always matches at a quote: linear time)
def _read_stages(path: Path, z: zipfile.ZipFile, head: dict) -> dict[str, FlatTrees | None]:
    """The stages' flat trees, from the members the header calls for: stage 1,
    stage 2 (a model without the context pass has none), and the site layer
    of a site model."""
    site = head["estimator"].get("class") == "SiteModel"
    wanted = ("s1", "s2", "site") if site else ("s1", "s2")
    for name in z.namelist():
        if name == "header.json":
            continue
        st, _, arr = name.removesuffix(".npy").partition("_")
        if st == "site" and not site:
            raise ModelError(f"{path}: site-layer member {name!r} in a file whose header is not a "
                             f"site model")
        if not name.endswith(".npy") or st not in wanted or arr not in _STAGE_ARRAYS:
            raise ModelError(f"{path}: member {shown(name)} is not part of a boilerclf model file")
    present = set(z.namelist())
    out: dict[str, FlatTrees | None] = {st: None for st in _STAGES}
    for st in wanted:
        infos = {a: z.getinfo(f"{st}_{a}.npy") for a in _STAGE_ARRAYS if f"{st}_{a}.npy" in present}
        if not infos and st == "s2":
            continue
        missing = [f"{st}_{a}" for a in _STAGE_ARRAYS if a not in infos]
        if missing:
            raise ValueError(f"missing arrays: {', '.join(missing)}")
        out[st] = FlatTrees.from_arrays(_read_stage(path, z, infos))
    return out


def _read_stage(path: Path, z: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> dict[str, np.ndarray]:
    """One stage's arrays.  Each member's dtype, shape and size are checked
    from its .npy preamble, and the stage's node count against
    :data:`MAX_STAGE_NODES`, before any array data is read."""
    layout = {}
    for a, info in infos.items():
        dtype = np.dtype(ARRAYS.get(a, np.float64))
        if info.file_size > _NPY_PREAMBLE + MAX_STAGE_NODES * dtype.itemsize:
            raise ModelError(f"{path}: member {info.filename} unpacks to {info.file_size} bytes, more "
                             f"than a stage of {MAX_STAGE_NODES} tree nodes needs")
        with z.open(info) as f:
            pre = io.BytesIO(f.read(min(info.file_size, _NPY_PREAMBLE)))
        version = np.lib.format.read_magic(pre)
        if version == (1, 0):
            shape, _, got = np.lib.format.read_array_header_1_0(pre, max_header_size=_NPY_PREAMBLE)
        elif version == (2, 0):
            shape, _, got = np.lib.format.read_array_header_2_0(pre, max_header_size=_NPY_PREAMBLE)
        else:
            raise ValueError(f"{info.filename} is .npy format {version}, not 1.0 or 2.0")
        if got != dtype or len(shape) != 1:
            raise ValueError(f"{info.filename} must be a 1-D {dtype.name} array, not "
                             f"{len(shape)}-D {got}")
        if info.file_size != pre.tell() + shape[0] * dtype.itemsize:
            raise ValueError(f"{info.filename} holds {info.file_size} bytes, not the "
                             f"{pre.tell() + shape[0] * dtype.itemsize} of its shape {shape}")
        layout[a] = (info, dtype, shape[0], pre.tell())
    nodes = layout["feature"][2]
    if not 1 <= nodes <= MAX_STAGE_NODES:
        raise ModelError(f"{path}: a stage of {nodes} tree nodes (at most {MAX_STAGE_NODES})")
    for a in ARRAYS:
        n = layout[a][2]
        if a == "roots" and not 1 <= n <= nodes or a != "roots" and n != nodes:
            raise ValueError(f"{layout[a][0].filename} has {n} entries for {nodes} tree nodes")
    if layout["meta"][2] != 4:
        raise ValueError("meta must be 4 float64 values")
    out = {}
    for a, (info, dtype, n, offset) in layout.items():
        with z.open(info) as f:
            out[a] = np.frombuffer(f.read(), dtype=dtype, count=n, offset=offset)
    return out


def _model_from_header(head: dict, s1: FlatTrees | None, s2: FlatTrees | None,
                       site: FlatTrees | None = None):
    """The model a (checked, :func:`header_problem`) header describes: a
    LinePredictor, or a SitePredictor on one."""
    if head.get("n_features") != len(FEATURE_NAMES):
        raise ValueError(f"header n_features is {head.get('n_features')}, not {len(FEATURE_NAMES)}")
    for st, trees in (("stage 1", s1), ("stage 2", s2), ("the site layer", site)):
        if trees is not None and trees.classes_.tolist() != [0, 1]:
            raise ValueError(f"{st} must have the classes [0, 1] (boilerplate, content), "
                             f"not {trees.classes_.tolist()}")
    rec = head.get("estimator") or {}
    if rec.get("class") != "SiteModel":
        if site is not None:
            raise ValueError("site-layer arrays in a file whose header is not a site model")
        return _line_model(rec, s1, s2)

    base = _line_model(rec.get("base") or {}, s1, s2)
    n_inputs = len(FEATURE_NAMES) - N_STRUCT + len(CONTEXT_NAMES) + 1
    if site is None or site.n_features_in_ != n_inputs:
        raise ValueError(f"a site model's site layer must take {n_inputs} features")
    weight = rec.get("weight")
    if unit(weight):
        raise ValueError(f"site-model weight must be a number in [0, 1], not {weight!r}")
    params = {k: v for k, v in (rec.get("params") or {}).items() if k in _SITE_PARAMS}
    return SitePredictor(base, site, weight, params, rec.get("estimator"))


def _line_model(rec: dict, s1: FlatTrees | None, s2: FlatTrees | None) -> LinePredictor:
    n_features = len(FEATURE_NAMES) - N_STRUCT
    if s1 is None or s1.n_features_in_ != n_features:
        raise ValueError(f"stage 1 must take {n_features} features")
    if s2 is not None and s2.n_features_in_ != n_features + len(CONTEXT_NAMES):
        raise ValueError(f"stage 2 must take {n_features + len(CONTEXT_NAMES)} features")
    params = {k: v for k, v in (rec.get("params") or {}).items() if k in _PARAMS}
    problem = params_problem("params", params, LINE_CHECKS)
    if problem:
        raise ValueError(problem)
    return LinePredictor(s1, s2, params, {k: rec.get(k) for k in ("estimator", "context_estimator")})


def _load_pickle(path: Path) -> tuple[LineScores | SiteScores, dict]:
    """A legacy (format 1) joblib model file; runs whatever code the file holds."""
    import joblib

    try:
        obj = joblib.load(path)
    except Exception as exc:  # corrupt, truncated, or not a joblib file
        raise ModelError(f"cannot read model file {path}: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, dict) or "header" not in obj or "model" not in obj:
        raise ModelError(f"{path} is not a boilerclf model file")
    head = obj["header"]
    if not isinstance(head, dict):
        raise ModelError(f"{path} is not a boilerclf model file")
    _check_schema(path, head)
    if head.get("sklearn_version") != sklearn_version():
        raise ModelError(
            f"{path} was saved with scikit-learn {head.get('sklearn_version')}, this is "
            f"{sklearn_version()}: install that version or retrain with `boilerclf train`")
    model = obj["model"]

    if isinstance(model, SiteScores):
        model.site_trees_ = flatten(model.site_)
        base = model.base_
    elif isinstance(model, LineScores):
        base = model
    else:
        raise ModelError(f"{path} does not hold a LineClassifier or a SiteModel")
    base.trees1_ = flatten(base.stage1_)
    base.trees2_ = flatten(base.stage2_)
    return model, head


def convert(src: str | Path, dst: str | Path) -> dict:
    """Rewrite a trusted legacy (joblib/pickle) model file in the safe format.

    Reads ``src`` with ``trusted=True`` -- it runs code from the file, so only
    convert files whose origin you trust -- and saves it to ``dst`` with the
    same header (schema, training sets, scores, threshold); the new file gives
    the same scores.  Returns the new header.
    """
    model, head = load(src, trusted=True)
    keep = {k: v for k, v in head.items()
            if k not in ("format", "format_version", "kind", "n_features", "estimator")}
    return save(model, dst, kind=head.get("kind", "html"), **keep)


def header_json(head: dict) -> str:
    return json.dumps(head, indent=2, sort_keys=True, default=str)


#: Models loaded by :func:`load_model`, by resolved path (and trust).
MODEL_CACHE: dict[tuple[str, bool], tuple[LineScores | SiteScores, dict]] = {}


def load_model(path: str | Path | None = None, kind: str = "html", *,
               trusted: bool = False) -> tuple[LineScores | SiteScores, dict]:
    """Load a model file (default: the shipped model of ``kind``, checked against
    its digest), cached per path: ``(model, header)``.

    ``trusted=True`` also accepts a legacy joblib/pickle model file, which
    runs code from the file while it is read (see :func:`load`).
    """
    p = Path(path) if path is not None else shipped_model_path(SHIPPED_MODELS[kind])
    key = (str(p.resolve()), bool(trusted and path is not None))
    if key not in MODEL_CACHE:
        if path is None:
            check_shipped_digest(p)
        MODEL_CACHE[key] = load(p, trusted=key[1])
    return MODEL_CACHE[key]
