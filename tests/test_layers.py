"""The library's layers, declared once: imports point down only (facade -> local AWS -> engines -> adapters).

Every module of lib/gluelab must be placed in a layer here, so a new module is a decision, not an accident. An
import (at module level or inside a function) may reach its own layer or a lower one. Across units (an engine
package such as ``gluelab.crawler``, or a single module such as ``gluelab.data``) only public names may be
imported: a name or module starting with ``_`` is another unit's private business. Engines and adapters never
import moto: only the local AWS layer knows it.
"""
import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "gluelab"

#: Top to bottom. A module belongs to the first unit that is it or contains it.
LAYERS = {
    "facade": ["gluelab", "gluelab.lab", "gluelab.stages", "gluelab.jobs", "gluelab.guard", "gluelab.tagging",
               "gluelab.warmup", "gluelab.functions", "gluelab.statemachines", "gluelab.notices",
               "gluelab.queues", "gluelab.workflows"],
    "local AWS": ["gluelab.localaws"],
    "engines": ["gluelab.crawler", "gluelab.glue", "gluelab.rules", "gluelab.schemas", "gluelab.registry",
                "gluelab.catalog", "gluelab.quarantine", "gluelab.checks", "gluelab.clock", "gluelab.cost",
                "gluelab.waiting", "gluelab.asl", "gluelab.lambdaruntime", "gluelab.lambdaboot", "gluelab.profiling", "gluelab.diagrams", "gluelab.resilience"],
    "adapters": ["gluelab.spark", "gluelab.s3fs", "gluelab.data", "gluelab.synth", "gluelab.naming",
                 "gluelab.catalogmodel", "gluelab.uris", "gluelab.scripts", "gluelab.webapi"],
}
ORDER = list(LAYERS)


def module_name(path: Path) -> str:
    parts = ("gluelab",) + path.relative_to(LIB).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> tuple[str, str] | None:
    """``(layer, unit)`` of a gluelab module: the longest declared unit that is it or contains it."""
    best = None
    for layer, units in LAYERS.items():
        for unit in units:
            if (module == unit or module.startswith(unit + ".")) and (best is None or len(unit) > len(best[1])):
                best = (layer, unit)
    return best


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(LIB.rglob("*.py")) if "shim" not in p.relative_to(LIB).parts}


def imports(module: str, path: Path):
    """``(line, imported module, [names])`` for every gluelab or moto import in the module, nested ones too."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            if not node.module or node.level and not node.module:
                # ``from . import x``: each name is a module of the package (or a name in it)
                for name in names:
                    sub = f"{target}.{name}"
                    yield node.lineno, sub if sub in MODULES else target, [] if sub in MODULES else [name]
            elif f"{target}" in MODULES or not target.startswith("gluelab"):
                subs = [n for n in names if f"{target}.{n}" in MODULES]
                for n in subs:
                    yield node.lineno, f"{target}.{n}", []
                rest = [n for n in names if n not in subs]
                if rest or not subs:
                    yield node.lineno, target, rest
            else:
                yield node.lineno, target, names


MODULES = modules()


def test_every_module_is_placed_in_a_layer():
    assert [m for m in MODULES if unit_of(m) is None] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_and_never_into_another_units_private_names(module):
    problems = problems_of(module, MODULES[module])
    assert problems == [], f"{module}:\n  " + "\n  ".join(problems)


def test_the_check_finds_an_import_that_points_up_a_private_name_and_moto(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("import moto\nfrom ..uris import split_uri\n\n\ndef f():\n    from ..lab import Lab\n"
                    "    from .. import localaws\n    from ..data import _sha256\n")
    problems = problems_of("gluelab.crawler.probe", path)
    assert len(problems) == 4, problems
    assert [p.split(":")[0] for p in problems] == ["line 1", "line 6", "line 7", "line 8"]


def problems_of(module: str, path: Path) -> list[str]:
    layer, unit = unit_of(module)
    problems = []
    for line, target, names in imports(module, path):
        if target.split(".")[0] == "moto" and layer != "local AWS":
            problems.append(f"line {line}: imports {target}: only the local AWS layer may know moto")
        if not target.startswith("gluelab"):
            continue
        placed = unit_of(target)
        if placed is None:
            problems.append(f"line {line}: imports {target}, which is in no layer")
            continue
        target_layer, target_unit = placed
        if ORDER.index(target_layer) < ORDER.index(layer):
            problems.append(f"line {line}: {layer} imports {target} from the {target_layer} layer above it")
        if target_unit != unit:
            private = [n for n in names if n.startswith("_")]
            private_module = [p for p in target[len(target_unit):].split(".") if p.startswith("_")]
            if private or private_module:
                problems.append(f"line {line}: imports private {private or target} of {target_unit}")
    return problems
