"""The package's shape: no import cycles, and no code outside targets/ that asks which kind
a layer is (a new layer kind must not need edits elsewhere)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"hypergan_tf": ROOT / "hypergan_tf", "hypergan_tf_cli": ROOT / "cli"}


def module_files():
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join([package, *parts]), path


def top_level_imports(path: Path, modules) -> set[str]:
    """Modules imported when the file is imported (imports inside functions run later):
    `from a.b import c` is an edge to a.b.c when c is a module, else to a.b."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] in PACKAGES)
    return found & set(modules)


def test_no_import_cycles():
    modules = dict(module_files())
    graph = {name: top_level_imports(path, modules) - {name} for name, path in modules.items()}
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for name in sorted(modules):
        if name not in state:
            visit(name)


def test_no_branch_on_layer_kind_outside_the_target_package():
    pattern = re.compile(r"\.kind\s*(==|!=|in\b)|isinstance\([^)]*\b(Conv|Dense)\b")
    offenders = [f"{path.relative_to(ROOT)}:{i}" for name, path in module_files() if not name.startswith("hypergan_tf.targets")
                 for i, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders
