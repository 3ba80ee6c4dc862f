"""API parity of gluelab's local ``awsglue`` with AWS's published Python facade (``awsgluedataplanepython``).

A Glue script must run unchanged on the local runtime. So for the classes learners use (GlueContext with its
``create_dynamic_frame`` / ``create_data_frame`` readers and ``write_dynamic_frame`` / ``write_data_frame``
writers, DynamicFrame, DynamicFrameCollection, every transform of ``awsglue.transforms``, Job) and for
``getResolvedOptions``, these tests check that:

* every public method AWS defines exists on ours, except those in :data:`NOT_IMPLEMENTED` (each with its
  reason);
* every parameter AWS accepts is accepted by ours, by keyword and at the same position, with the same default;
  a parameter AWS requires may have a default here, and ours may add parameters only if they are optional.
  That is keyword and positional compatibility: a script written for Glue gets no TypeError and no other
  meaning. Deliberate differences are in :data:`PARAMETER_EXCEPTIONS`.

AWS's wheel (pinned version) is downloaded at test time and read from the zip as text with :mod:`ast`: it is
never installed nor imported (its modules need Glue's JVM classes, and a real ``awsglue`` must never be
importable in our environment). Without the package index the tests skip and say why. The facade is under the
Amazon Software License: only its names, parameter names and defaults are read. Our side is read with
:func:`inspect.signature`.
"""
from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import subprocess
import sys
import uuid
import zipfile

import pytest

AWS_PACKAGE = "awsgluedataplanepython"
AWS_VERSION = "5.1.0"

#: (file in AWS's wheel, class) -> our class as "module:name".
CLASSES = {
    ("awsglue/context.py", "GlueContext"): "gluelab.glue.context:GlueContext",
    ("awsglue/dynamicframe.py", "DynamicFrameReader"): "gluelab.glue.context:DynamicFrameReader",
    ("awsglue/dynamicframe.py", "DynamicFrameWriter"): "gluelab.glue.context:DynamicFrameWriter",
    ("awsglue/dataframereader.py", "DataFrameReader"): "gluelab.glue.context:DataFrameReader",
    ("awsglue/dataframewriter.py", "DataFrameWriter"): "gluelab.glue.context:DataFrameWriter",
    ("awsglue/dynamicframe.py", "DynamicFrame"): "gluelab.glue.dynamicframe:DynamicFrame",
    ("awsglue/dynamicframe.py", "DynamicFrameCollection"): "gluelab.glue.dynamicframe:DynamicFrameCollection",
    ("awsglue/dynamicframe.py", "ResolveOption"): "gluelab.glue.dynamicframe:ResolveOption",
    ("awsglue/job.py", "Job"): "gluelab.glue.job:Job",
}

#: (file in AWS's wheel, function) -> our function as "module:name".
FUNCTIONS = {
    ("awsglue/utils.py", "getResolvedOptions"): "gluelab.glue.utils:getResolvedOptions",
    ("awsglue/transforms/__init__.py", "get_transforms"): "gluelab.glue.transforms:get_transforms",
    ("awsglue/transforms/__init__.py", "get_transform"): "gluelab.glue.transforms:get_transform",
    ("awsglue/transforms/__init__.py", "describe_transform"): "gluelab.glue.transforms:describe_transform",
}

#: Dunder methods compared like public ones (construction, calling a transform, indexing a collection).
DUNDERS = {"__init__", "__call__", "__getitem__", "__len__"}

_STREAMING = ("streaming ETL (Kinesis, Kafka, micro-batches) is not part of the local runtime: the lab has "
              "no streams; the lessons use batch jobs")
_JDBC = ("JDBC through Glue connections is not implemented: the lab has no database; plain Spark "
         "(spark.read.jdbc) is the local way")
_TRANSACTIONS = "Lake Formation governed-table transactions have no local counterpart (moto has none)"
_TRANSITIONS = ("S3 storage-class transitions (to Glacier classes) are not implemented: the lab's S3 has no "
                "lifecycle; purge_s3_path / purge_table are")
_SAMPLE = ("sampled reads (num=, sample_options=) are not implemented; read with from_options / from_catalog "
           "and take a sample of the DataFrame")
_DDB = "DynamoDB export JSON is not implemented: the lab has no DynamoDB exports"
_PARTITIONS = ("functions over whole partitions of DynamicRecords are not implemented; map and filter are, "
               "with failing records kept as error records")

#: AWS methods we deliberately do not implement: (class, method) -> why. Kept exact by a test (an entry for a
#: method AWS does not define, or that we now implement, fails it).
NOT_IMPLEMENTED = {
    ("GlueContext", "getStreamingSource"): _STREAMING,
    ("GlueContext", "getSampleStreamingDynamicFrame"): _STREAMING,
    ("GlueContext", "forEachBatch"): _STREAMING,
    ("GlueContext", "add_ingestion_time_columns"): _STREAMING,
    ("GlueContext", "write_dynamic_frame_from_jdbc_conf"): _JDBC,
    ("GlueContext", "write_from_jdbc_conf"): _JDBC,
    ("GlueContext", "extract_jdbc_conf"): _JDBC,
    ("DynamicFrameWriter", "from_jdbc_conf"): _JDBC,
    ("GlueContext", "start_transaction"): _TRANSACTIONS,
    ("GlueContext", "commit_transaction"): _TRANSACTIONS,
    ("GlueContext", "cancel_transaction"): _TRANSACTIONS,
    ("GlueContext", "transition_table"): _TRANSITIONS,
    ("GlueContext", "transition_s3_path"): _TRANSITIONS,
    ("GlueContext", "create_sample_dynamic_frame_from_catalog"): _SAMPLE,
    ("GlueContext", "create_sample_dynamic_frame_from_options"): _SAMPLE,
    ("GlueContext", "convert_resolve_option"): (
        "builds a JVM ResolveSpec for Glue's Scala side; ours takes ResolveOption objects directly "
        "(toDF(options=[ResolveOption(path, action, target)]))"),
    ("DynamicFrame", "with_frame_schema"): (
        "takes a JVM schema object; our frames derive their schema from the DataFrame and its choices"),
    ("DynamicFrame", "mapPartitions"): _PARTITIONS,
    ("DynamicFrame", "mapPartitionsWithIndex"): _PARTITIONS,
    ("DynamicFrame", "unnest_ddb_json"): _DDB,
    ("DynamicFrame", "simplify_ddb_json"): _DDB,
}

#: Parameters that deliberately differ: (class, method, AWS parameter) -> why. Kept exact by a test too.
PARAMETER_EXCEPTIONS = {
    ("DynamicFrame", "__init__", "jdf"): (
        "AWS's first argument is a JVM DynamicFrame; ours is a Spark DataFrame, named df. It stays first, so "
        "a positional call works; scripts build frames with DynamicFrame.fromDF(df, glueContext, name), "
        "whose parameters match AWS's"),
}

_P = inspect.Parameter
_POSITIONAL = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)


# ----------------------------------------------------------------------------------------------- AWS's side

@pytest.fixture(scope="module")
def aws_wheel(tmp_path_factory):
    """AWS's facade as ``{path in the wheel: source text}``, downloaded (never installed) from the package
    index."""
    where = tmp_path_factory.mktemp("aws_facade")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--quiet", f"{AWS_PACKAGE}=={AWS_VERSION}", "-d", str(where)]
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot download {AWS_PACKAGE}=={AWS_VERSION} for the API-parity check: {exc}")
    wheels = sorted(where.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel was saved"])[-1]
        pytest.skip(f"cannot download {AWS_PACKAGE}=={AWS_VERSION} for the API-parity check (offline, or the "
                    f"package index is unreachable): {last}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        return {name: wheel.read(name).decode("utf-8") for name in wheel.namelist()
                if name.startswith("awsglue/") and name.endswith(".py")}


def _module(aws_wheel: dict, path: str) -> ast.Module:
    assert path in aws_wheel, f"{AWS_PACKAGE}=={AWS_VERSION} has no {path} (files: {sorted(aws_wheel)})"
    return ast.parse(aws_wheel[path], filename=path)


def _aws_class(aws_wheel: dict, path: str, name: str) -> ast.ClassDef:
    found = [n for n in _module(aws_wheel, path).body if isinstance(n, ast.ClassDef) and n.name == name]
    assert found, f"AWS's {path} defines no class {name}"
    return found[0]


def _aws_function(aws_wheel: dict, path: str, name: str) -> ast.FunctionDef:
    found = [n for n in _module(aws_wheel, path).body if isinstance(n, ast.FunctionDef) and n.name == name]
    assert found, f"AWS's {path} defines no function {name}"
    return found[0]


def _decorators(fn: ast.FunctionDef) -> set[str]:
    return {ast.unparse(d) for d in fn.decorator_list}


def _literal(node: ast.expr, where: str):
    try:
        return ast.literal_eval(node)
    except ValueError:
        pytest.fail(f"{where}: AWS's default {ast.unparse(node)!r} is not a literal; compare it by hand")


def aws_signature(fn: ast.FunctionDef, where: str = "") -> inspect.Signature:
    """The signature of an AWS function as callers see it (``self`` / ``cls`` dropped for methods)."""
    a = fn.args
    positional = [(arg, _P.POSITIONAL_ONLY) for arg in a.posonlyargs] + [
        (arg, _P.POSITIONAL_OR_KEYWORD) for arg in a.args]
    defaults = [_P.empty] * (len(positional) - len(a.defaults)) + [
        _literal(d, where or fn.name) for d in a.defaults]
    params = [_P(arg.arg, kind, default=d) for (arg, kind), d in zip(positional, defaults, strict=True)]
    if a.vararg:
        params.append(_P(a.vararg.arg, _P.VAR_POSITIONAL))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append(_P(arg.arg, _P.KEYWORD_ONLY, default=_P.empty if d is None else _literal(d, where)))
    if a.kwarg:
        params.append(_P(a.kwarg.arg, _P.VAR_KEYWORD))
    return inspect.Signature(params)


def aws_method(node: ast.FunctionDef, where: str = "") -> tuple[str, inspect.Signature]:
    """``(kind, signature)`` of a method in an AWS class body; kind is instance, class, static or property."""
    decorators = _decorators(node)
    kind = next((k for k in ("classmethod", "staticmethod", "property") if k in decorators), "instance")
    sig = aws_signature(node, where)
    if kind != "staticmethod":
        sig = sig.replace(parameters=list(sig.parameters.values())[1:])
    return kind, sig


def aws_public_methods(node: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    """The public methods (and :data:`DUNDERS`) an AWS class body defines."""
    return {m.name: m for m in node.body if isinstance(m, ast.FunctionDef)
            and (not m.name.startswith("_") or m.name in DUNDERS)}


# ----------------------------------------------------------------------------------------------- our side

def _ours(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def our_method(cls, name: str) -> tuple[str, inspect.Signature | None]:
    """``(kind, signature)`` of ``cls.name`` as callers see it, or ``("missing", None)``. Only real attributes
    count (a name answered by ``__getattr__`` does not)."""
    try:
        raw = inspect.getattr_static(cls, name)
    except AttributeError:
        return "missing", None
    if isinstance(raw, property):
        return "property", None
    if isinstance(raw, staticmethod):
        return "staticmethod", inspect.signature(raw.__func__)
    func = raw.__func__ if isinstance(raw, classmethod) else raw
    if not callable(func):
        return "attribute", None
    sig = inspect.signature(func)
    kind = "classmethod" if isinstance(raw, classmethod) else "instance"
    return kind, sig.replace(parameters=list(sig.parameters.values())[1:])


# ----------------------------------------------------------------------------------------------- comparison

def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def incompatibilities(aws: inspect.Signature, ours: inspect.Signature, skip=frozenset()) -> list[str]:
    """Why a call written against ``aws`` could fail, or mean something else, against ``ours`` ([] if none).

    Each AWS parameter must be accepted by ours under its name, at the same position if AWS's may be passed
    positionally, with the same default when AWS has one; ``*args`` / ``**kwargs`` must be kept; a parameter
    only ours has must be optional. Names in ``skip`` are not checked (nor is our parameter at a skipped
    positional parameter's place, which stands in for it).
    """
    problems = []
    mine = list(ours.parameters.values())
    my_positional = [p.name for p in mine if p.kind in _POSITIONAL]
    aws_positional = [p.name for p in aws.parameters.values() if p.kind in _POSITIONAL]
    kinds = {p.kind for p in mine}
    for a in aws.parameters.values():
        if a.name in skip:
            continue
        if a.kind in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD):
            star = "*" if a.kind is _P.VAR_POSITIONAL else "**"
            if a.kind not in kinds:
                problems.append(f"{star}{a.name}: AWS accepts extra arguments here, ours does not")
            continue
        o = ours.parameters.get(a.name)
        if o is None or o.kind in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD):
            problems.append(f"{a.name}: AWS's parameter is missing from ours" + (
                " (only **kwargs takes it: not by position, and its default is unknown)"
                if _P.VAR_KEYWORD in kinds else ""))
            continue
        if o.kind is _P.POSITIONAL_ONLY and a.kind is not _P.POSITIONAL_ONLY:
            problems.append(f"{a.name}: ours is positional-only, AWS's may be passed by keyword")
        if a.kind in _POSITIONAL:
            i = aws_positional.index(a.name)
            j = my_positional.index(a.name) if a.name in my_positional else None
            if i != j:
                problems.append(f"{a.name}: AWS's positional parameter {i} is "
                                + ("keyword-only in ours" if j is None else f"parameter {j} in ours"))
        if a.default is not _P.empty:
            if o.default is _P.empty:
                problems.append(f"{a.name}: AWS's default is {a.default!r}, ours requires it")
            elif not _same(a.default, o.default):
                problems.append(f"{a.name}: AWS's default is {a.default!r}, ours is {o.default!r}")
    replaced = {aws_positional.index(name) for name in skip if name in aws_positional}
    for o in mine:
        if o.kind in _POSITIONAL and my_positional.index(o.name) in replaced:
            continue  # stands in for an AWS parameter named differently on purpose
        if (o.name not in aws.parameters and o.default is _P.empty
                and o.kind not in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD)):
            problems.append(f"{o.name}: ours requires a parameter AWS does not have")
    return problems


def _kind_problem(aws_kind: str, our_kind: str) -> str | None:
    if our_kind == "missing":
        return "missing from ours"
    if aws_kind == "property":
        return None if our_kind == "property" else f"a property on AWS, {our_kind} in ours"
    if our_kind in ("property", "attribute"):
        return f"a method on AWS, {our_kind} in ours (calling it fails)"
    if aws_kind in ("classmethod", "staticmethod") and our_kind == "instance":
        return f"a {aws_kind} on AWS (called on the class), an instance method in ours"
    return None


def class_problems(aws_node: ast.ClassDef, ours, label: str | None = None) -> list[str]:
    """Every way ``ours`` falls short of AWS's class ``aws_node`` (allow-listed omissions excepted)."""
    label = label or aws_node.name
    problems = []
    for name, node in aws_public_methods(aws_node).items():
        if (label, name) in NOT_IMPLEMENTED:
            continue
        aws_kind, aws_sig = aws_method(node, f"{label}.{name}")
        our_kind, our_sig = our_method(ours, name)
        kind_problem = _kind_problem(aws_kind, our_kind)
        if kind_problem:
            problems.append(f"{label}.{name}: {kind_problem}")
            continue
        if our_sig is None:
            continue
        skip = {p for (c, m, p) in PARAMETER_EXCEPTIONS if (c, m) == (label, name)}
        problems += [f"{label}.{name}({aws_sig}) vs ours {our_sig}: {p}"
                     for p in incompatibilities(aws_sig, our_sig, skip)]
    return problems


def _report(problems: list[str]) -> str:
    return ("API differences from AWS's awsglue (fix ours, or allow-list with a reason):\n  "
            + "\n  ".join(problems))


# ----------------------------------------------------------------------------------------------- the checker

def _parsed(source: str) -> ast.FunctionDef:
    return ast.parse(source).body[0]


def test_checker_reports_each_kind_of_incompatibility():
    """The comparison finds renamed, moved, re-defaulted and dropped parameters and new required ones, and
    accepts what is compatible (so the parity tests below can fail)."""
    aws = aws_signature(_parsed("def f(frame, paths, name='x', info=None, *args, **kwargs): pass"))

    def renamed(frame, path, name="x", info=None, *args, **kwargs): ...
    def forwarded(*args, **kwargs): ...
    def moved(frame, name="x", paths=None, info=None, *args, **kwargs): ...
    def redefaulted(frame, paths, name="y", info="", *args, **kwargs): ...
    def no_varargs(frame, paths, name="x", info=None): ...
    def extra_required(frame, paths, name="x", info=None, *args, needed, **kwargs): ...
    def keyword_only(frame, paths, *args, name="x", info=None, **kwargs): ...
    def compatible(frame, paths="all", name="x", info=None, *args, more=1, **kwargs): ...

    def problems(fn):
        return incompatibilities(aws, inspect.signature(fn))

    via_kwargs = " (only **kwargs takes it: not by position, and its default is unknown)"
    assert problems(renamed) == ["paths: AWS's parameter is missing from ours" + via_kwargs,
                                 "path: ours requires a parameter AWS does not have"]
    assert problems(moved) == ["paths: AWS's positional parameter 1 is parameter 2 in ours",
                               "name: AWS's positional parameter 2 is parameter 1 in ours"]
    assert problems(redefaulted) == ["name: AWS's default is 'x', ours is 'y'",
                                     "info: AWS's default is None, ours is ''"]
    assert problems(no_varargs) == ["*args: AWS accepts extra arguments here, ours does not",
                                    "**kwargs: AWS accepts extra arguments here, ours does not"]
    assert problems(extra_required) == ["needed: ours requires a parameter AWS does not have"]
    assert problems(keyword_only) == ["name: AWS's positional parameter 2 is keyword-only in ours",
                                      "info: AWS's positional parameter 3 is keyword-only in ours"]
    assert problems(forwarded)[0] == "frame: AWS's parameter is missing from ours" + via_kwargs
    assert problems(compatible) == []
    assert incompatibilities(aws, inspect.signature(renamed), skip={"paths"}) == []
    # a default equal in value but not in type changes meaning (0 is not False)
    assert incompatibilities(aws_signature(_parsed("def g(shuffle=False): pass")),
                             inspect.signature(lambda shuffle=0: None)) == [
        "shuffle: AWS's default is False, ours is 0"]


def test_checker_reads_method_kinds():
    """Classmethods stay callable on the class; a method may not become a property; missing is missing."""
    node = ast.parse("class C:\n"
                     "    @classmethod\n    def make(cls, df, name=''): pass\n"
                     "    def show(self, n=20): pass\n"
                     "    def count(self): pass\n"
                     "    def gone(self): pass\n"
                     "    def _private(self): pass\n").body[0]

    class Ours:
        def make(self, df, name=""): ...

        def show(self, n=20): ...

        @property
        def count(self): ...

    assert class_problems(node, Ours) == [
        "C.make: a classmethod on AWS (called on the class), an instance method in ours",
        "C.count: a method on AWS, property in ours (calling it fails)",
        "C.gone: missing from ours",
    ]


# ----------------------------------------------------------------------------------------------- parity

def test_aws_facade_is_read_not_installed(aws_wheel):
    """The wheel is only read: no distribution is installed and ``awsglue`` is either absent or our shim."""
    from gluelab import glue

    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution(AWS_PACKAGE)
    spec = importlib.util.find_spec("awsglue")
    assert spec is None or str(spec.origin).startswith(str(glue.SHIM)), spec
    # what is compared is really there: the learners' classes, with their main methods
    context = aws_public_methods(_aws_class(aws_wheel, "awsglue/context.py", "GlueContext"))
    assert set(context) >= {"create_dynamic_frame_from_catalog", "create_dynamic_frame_from_options",
                            "getSink", "write_dynamic_frame_from_options", "write_dynamic_frame_from_catalog",
                            "purge_s3_path"}
    frame = aws_public_methods(_aws_class(aws_wheel, "awsglue/dynamicframe.py", "DynamicFrame"))
    assert set(frame) >= {"fromDF", "toDF", "apply_mapping", "resolveChoice", "relationalize", "map",
                          "filter"}


@pytest.mark.parametrize("where", list(CLASSES), ids=[name for _, name in CLASSES])
def test_class_methods_and_parameters_match_aws(aws_wheel, where):
    path, name = where
    problems = class_problems(_aws_class(aws_wheel, path, name), _ours(CLASSES[where]))
    assert not problems, _report(problems)


@pytest.mark.parametrize("where", list(FUNCTIONS), ids=[name for _, name in FUNCTIONS])
def test_functions_accept_aws_parameters(aws_wheel, where):
    path, name = where
    problems = incompatibilities(aws_signature(_aws_function(aws_wheel, path, name), name),
                                 inspect.signature(_ours(FUNCTIONS[where])))
    assert not problems, _report([f"{name}: {p}" for p in problems])


def _aws_transforms(aws_wheel) -> dict[str, str]:
    """``{transform class: file}`` for AWS's ``ALL_TRANSFORMS`` (what ``from awsglue.transforms import *``
    gives), read from ``awsglue/transforms/__init__.py``."""
    module = _module(aws_wheel, "awsglue/transforms/__init__.py")
    files = {}
    for node in module.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                files[alias.asname or alias.name] = f"awsglue/transforms/{node.module}.py"
    listed = [n for n in module.body if isinstance(n, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "ALL_TRANSFORMS" for t in n.targets)]
    assert listed, "AWS's awsglue/transforms/__init__.py has no ALL_TRANSFORMS"
    names = sorted(e.id for e in listed[0].value.elts)
    return {name: files[name] for name in names}


def test_every_aws_transform_exists_and_apply_takes_its_parameters(aws_wheel):
    """Each transform of AWS's ``ALL_TRANSFORMS`` is in ours (and in ``__all__``, so ``import *`` brings it);
    ``Transform.apply(...)`` passes its arguments to ``__call__``, whose parameters must match AWS's; the base
    class offers AWS's ``apply`` / ``name`` / ``describe*``."""
    from gluelab.glue import transforms

    aws = _aws_transforms(aws_wheel)
    assert len(aws) >= 20, aws
    missing = sorted(set(aws) - set(transforms.__all__))
    assert not missing, f"transforms of AWS's awsglue.transforms missing from ours: {missing}"
    problems = class_problems(_aws_class(aws_wheel, "awsglue/transforms/transform.py", "GlueTransform"),
                              transforms.GlueTransform)
    for name, path in aws.items():
        ours = getattr(transforms, name)
        assert issubclass(ours, transforms.GlueTransform), name
        problems += class_problems(_aws_class(aws_wheel, path, name), ours)
        kind, apply = our_method(ours, "apply")
        assert kind == "classmethod" and {p.kind for p in apply.parameters.values()} == {
            _P.VAR_POSITIONAL, _P.VAR_KEYWORD}, f"{name}.apply must forward everything to __call__: {apply}"
    assert not problems, _report(problems)


def test_allow_lists_name_real_differences(aws_wheel):
    """Each allow-listed method is defined by AWS and still absent from ours; each parameter exception names a
    parameter AWS has and ours lacks under that name (remove entries once they are implemented)."""
    nodes = {name: _aws_class(aws_wheel, path, name) for path, name in CLASSES}
    stale = []
    for (cls, method), reason in NOT_IMPLEMENTED.items():
        assert reason, (cls, method)
        if method not in aws_public_methods(nodes[cls]):
            stale.append(f"{cls}.{method}: AWS does not define it")
        elif our_method(_ours(CLASSES[next(k for k in CLASSES if k[1] == cls)]), method)[0] != "missing":
            stale.append(f"{cls}.{method}: ours implements it now; compare it (remove the allow-list entry)")
    for (cls, method, param), reason in PARAMETER_EXCEPTIONS.items():
        assert reason, (cls, method, param)
        node = aws_public_methods(nodes[cls]).get(method)
        if node is None or param not in aws_method(node)[1].parameters:
            stale.append(f"{cls}.{method}({param}): AWS has no such parameter")
            continue
        ours = _ours(CLASSES[next(k for k in CLASSES if k[1] == cls)])
        if param in our_method(ours, method)[1].parameters:
            stale.append(f"{cls}.{method}({param}): ours has it now (remove the exception)")
    assert not stale, "stale allow-list entries:\n  " + "\n  ".join(stale)


def _init_attributes(node: ast.ClassDef) -> dict[str, str]:
    """``{attribute: class name}`` for the public ``self.x = Class(self)`` assignments of ``__init__``."""
    init = aws_public_methods(node)["__init__"]
    out = {}
    for stmt in ast.walk(init):
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            for target in stmt.targets:
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id == "self" and not target.attr.startswith("_")
                        and isinstance(stmt.value.func, ast.Name)):
                    out[target.attr] = stmt.value.func.id
    return out


def test_glue_context_has_aws_readers_and_writers(aws_wheel, spark):
    """``glueContext.create_dynamic_frame`` etc. are the reader/writer classes compared above, as on AWS."""
    from gluelab.glue.context import GlueContext

    wanted = _init_attributes(_aws_class(aws_wheel, "awsglue/context.py", "GlueContext"))
    assert set(wanted) >= {"create_dynamic_frame", "create_data_frame", "write_dynamic_frame",
                           "write_data_frame"}
    ctx = GlueContext(spark.sparkContext)
    found = {attr: type(getattr(ctx, attr, None)).__name__ for attr in wanted}
    assert found == wanted
    assert ctx.spark_session is spark


# ----------------------------------------------------------------------------------------------- fixed ones

def test_glue_spellings_found_by_the_parity_check_work(lab, spark):
    """What the comparison made us add, used as a Glue script would: ``DynamicFrame.write`` (through
    ``write_from_options(frame_or_dfc=..., accumulator_size=...)``), ``write_from_options`` with AWS's
    ``format={}`` default, and ``create_data_frame.from_options`` with ``push_down_predicate``."""
    from gluelab.glue.context import GlueContext
    from gluelab.glue.dynamicframe import DynamicFrame

    ctx = GlueContext(spark.sparkContext)
    base = lab.zones.uri("raw", f"f-parity/{uuid.uuid4().hex[:8]}/")
    rows = [(1, "a"), (2, "b"), (3, "c")]
    frame = DynamicFrame.fromDF(spark.createDataFrame(rows, "id int, v string"), ctx, "rows")

    frame.write("s3", {"path": base + "by_write/"}, format="json")
    ctx.write_from_options(frame_or_dfc=frame, connection_type="s3",
                           connection_options={"path": base + "plain/"},
                           accumulator_size=10)  # no format: Glue's default {} means JSON
    for folder in ("by_write/", "plain/"):
        df = ctx.create_data_frame.from_options("s3", {"paths": [base + folder]}, "json", {}, "", "")
        assert sorted((r["id"], r["v"]) for r in df.collect()) == rows, folder
