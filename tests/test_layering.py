"""The floors of ARCHITECTURE.md: every module imports only from its own floor or below,
never above and never in a circle; nothing of the project is installed at top level."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The package's folders in the repository (the build maps them into one namespace).
FOLDERS = {"quantrtl": "quantrtl", "quantrtl.hw": "hw", "quantrtl.golden": "golden",
           "quantrtl.tb": "tb", "quantrtl.synth": "synth"}

# Floors from the ground up; a module belongs to the floor of its longest matching prefix.
# The block registry sits on top of the vector layer: it names each block's component,
# adapter and workload, and the testbenches and the synthesis flow both ask it.
FLOORS = [
    ("spec", ("quantrtl.spec",)),
    ("golden", ("quantrtl.golden",
                # research numerics beside the experiments; imports spec and golden only
                "quantrtl.experiments.dnateq_search")),
    ("hw", ("quantrtl.hw",)),
    ("vectors", ("quantrtl.vectors", "quantrtl.blocks")),
    ("tb", ("quantrtl.tb",)),
    ("synth", ("quantrtl.synth",)),
    ("app", ("quantrtl",)),
]
RANK = {name: k for k, (name, _) in enumerate(FLOORS)}
# Floors a floor may import besides its own and the ones below: none; and these it may not,
# although they are below it (ARCHITECTURE.md: hw never imports golden, synth never tb).
FORBIDDEN = {"hw": {"golden"}, "synth": {"tb"}}


def floor_of(module: str) -> str:
    best, length = "app", 0
    for name, prefixes in FLOORS:
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > length:
                best, length = name, len(p)
    if module.endswith(".__main__"):        # an entry point is the application's
        return "app"
    return best


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def imports_of(module: str, path: Path) -> set[str]:
    """The project modules ``module`` imports (anywhere in the file, lazily or not)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)
    return {m for m in out if m == "quantrtl" or m.startswith("quantrtl.")}


def resolve(name: str, known) -> str | None:
    """The module an imported dotted name refers to (``quantrtl.hw.mac.X`` -> the module)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


@pytest.fixture(scope="module")
def graph():
    mods = modules()
    return {m: {r for n in imports_of(m, p) if (r := resolve(n, mods)) and r != m}
            for m, p in mods.items()}


def test_no_module_imports_a_floor_above_its_own(graph):
    bad = []
    for module, targets in graph.items():
        here = floor_of(module)
        for t in sorted(targets):
            there = floor_of(t)
            if t == "quantrtl" and module != "quantrtl":
                continue                     # the package itself: __version__ only (below)
            if RANK[there] > RANK[here] or there in FORBIDDEN.get(here, ()):
                bad.append(f"{module} ({here}) imports {t} ({there})")
    assert not bad, "upward or forbidden imports:\n" + "\n".join(bad)


def test_the_package_root_imports_nothing_of_the_project(graph):
    assert graph["quantrtl"] == set()


def test_no_import_cycles(graph):
    # Tarjan's strongly connected components over module-level graph edges.
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            # A package importing its own submodules is not a cycle of floors.
            comp = [c for c in comp if not any(o.startswith(c + ".") for o in comp)]
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_build_installs_only_quantrtl_at_top_level():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {p.split(".")[0] for p in config["packages"]} == {"quantrtl"}
    assert set(config["package-dir"].values()) == set(FOLDERS.values())
    # Every folder with Python files is a listed package (nothing left out of the wheel).
    listed = set(config["packages"])
    for module, path in modules().items():
        if path.name == "__init__.py":
            assert module in listed, f"{module} is not in pyproject's packages"


def test_no_source_uses_the_old_top_level_names():
    old = ("hw", "golden", "tb", "synth")
    bad = []
    for module, path in modules().items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            bad += [f"{module}: {n}" for n in names if n and n.split(".")[0] in old]
    for path in sorted((ROOT / "tests").glob("*.py")):
        for line in path.read_text().splitlines():
            s = line.strip()
            if s.startswith(("from ", "import ")) and s.split()[1].split(".")[0] in old:
                bad.append(f"{path.name}: {s}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("module, absent", [
    ("quantrtl.golden", ("cocotb", "quantrtl.cli", "quantrtl.hw", "amaranth")),
    ("quantrtl.spec", ("cocotb", "quantrtl.golden", "amaranth")),
    ("quantrtl.vectors.adapters", ("cocotb", "quantrtl.tb")),
    ("quantrtl.blocks", ("cocotb", "quantrtl.tb", "quantrtl.synth")),
    ("quantrtl.synth.flow", ("cocotb", "quantrtl.tb")),
])
def test_importing_a_floor_loads_nothing_above_it(module, absent):
    """Checked in a fresh interpreter: e.g. the golden model loads neither cocotb nor the
    CLI (nor Amaranth), and the synthesis flow no testbench."""
    import json
    import subprocess
    import sys
    code = (f"import sys, json, importlib; importlib.import_module({module!r}); "
            f"print(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                       capture_output=True, text=True, cwd="/").stdout)
    bad = [m for m in loaded if any(m == a or m.startswith(a + ".") for a in absent)]
    assert not bad, f"importing {module} loads {bad[:5]}"
