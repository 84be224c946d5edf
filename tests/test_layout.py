"""The package's layout is its architecture: commands on top, libraries in layers that import downwards.

Read from the source (ast), function-level imports included, so a deferred import cannot hide an
upward one or a cycle. The layers, lowest first (a library imports its own package and lower
layers only):

    presets (the registry)  core  pretrained  data  models  training  serving  tracking
    evaluation  benchmarks  experiments  cli

Every top-level module of dkd_tf (and of export/) is a command: a `main` run under
`if __name__ == "__main__"`, flag definitions and private glue, and no other public function or
class (library code lives in the layers, where tests and other code import it). Nothing in the
package imports a command; the tests import one only to run its `main` in-process (as
`python -m` would), and the Android tools not at all. Subpackages never read absl's FLAGS (cli/,
which defines the commands' shared flags, is the one that may).
"""
from __future__ import annotations

import ast
import os

import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT_DIRS = ("tests", os.path.join("android_demo", "tools"))  # code outside the package
LAYERS = ("presets", "core", "pretrained", "data", "models", "training", "serving", "tracking",
          "evaluation", "benchmarks", "experiments", "cli")
FLAG_READERS = ("cli",)


def _modules() -> dict[str, str]:
    """{dotted name: path} of every module of dkd_tf and export."""
    found = {}
    for top in ("dkd_tf", "export"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if not name.endswith(".py"):
                    continue
                rel = os.path.relpath(os.path.join(folder, name), ROOT)[:-3].split(os.sep)
                if rel[-1] == "__init__":
                    rel = rel[:-1]
                found[".".join(rel)] = os.path.join(folder, name)
    return found


def _imports(path: str, modules) -> set[str]:
    """The package modules `path` imports anywhere in its body (names resolved to modules)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in modules:
                    out.add(full)
                elif node.module in modules:
                    out.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "module" and \
                node.args and isinstance(node.args[0], ast.Constant):
            # lazy_modules.module("dkd_tf.x"): an import on first use is an import
            if node.args[0].value in modules:
                out.add(node.args[0].value)
    return out


def _public_names(path: str) -> list[str]:
    """Top-level functions and classes of a module whose names do not start with '_', but main."""
    with open(path) as f:
        tree = ast.parse(f.read())
    return [n.name for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not n.name.startswith("_") and n.name != "main"]


def _command_uses(path: str, modules, main_only: bool) -> list[str]:
    """What `path` (a file outside the package) takes from commands: 'module.name' for each use
    other than the command's main (main_only), or every import of a command (not main_only)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    commands = {m for m in _imports(path, modules) if _kind(m)[0] == "command"}
    if not main_only:
        return sorted(commands)
    bound, wrong = {}, set()  # expression naming a command module -> the module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in commands:
                    bound[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in commands:
                    bound[a.asname or a.name] = full
                elif node.module in commands and a.name != "main":
                    wrong.add(full)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "module" and \
                node.args and isinstance(node.args[0], ast.Constant) and \
                node.args[0].value in commands:
            wrong.add(node.args[0].value)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)) and ast.unparse(node) in bound:
            parent = parents.get(node)
            if isinstance(parent, ast.Attribute) and parent.attr == "main":
                continue
            if isinstance(parent, ast.Attribute):
                wrong.add(f"{bound[ast.unparse(node)]}.{parent.attr}")
            else:  # the module itself passed around
                wrong.add(bound[ast.unparse(node)])
    return sorted(wrong)


def _kind(module: str):
    """('command', None) | ('api', None) | ('library', layer name)."""
    parts = module.split(".")
    if module in ("dkd_tf", "export"):
        return "api", None
    if parts[0] == "export" or len(parts) == 2 and parts[1] not in LAYERS:
        return "command", None
    return "library", parts[1]


class LayoutTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.modules = _modules()
        cls.graph = {m: _imports(p, cls.modules) for m, p in cls.modules.items()}

    def test_the_layers_are_the_subpackages(self):
        packages = {m.split(".")[1] for m in self.modules
                    if m.startswith("dkd_tf.") and _kind(m)[0] == "library"}
        self.assertEqual(packages, set(LAYERS))

    def test_libraries_import_only_their_own_layer_and_the_ones_below(self):
        wrong = []
        for module, deps in sorted(self.graph.items()):
            kind, layer = _kind(module)
            for dep in sorted(deps - {module}):
                dep_kind, dep_layer = _kind(dep)
                if dep_kind == "command":
                    wrong.append(f"{module} imports the command {dep}")
                elif kind == "library" and dep_kind == "library" and \
                        LAYERS.index(dep_layer) > LAYERS.index(layer):
                    wrong.append(f"{module} ({layer}) imports {dep} ({dep_layer}), a layer above")
        self.assertEqual(wrong, [])

    def test_no_import_cycles(self):
        state, cycles = {}, []

        def visit(module, stack):
            state[module] = "open"
            for dep in sorted(self.graph[module] - {module}):
                if state.get(dep) == "open":
                    cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
                elif dep not in state:
                    visit(dep, stack + [dep])
            state[module] = "done"

        for module in sorted(self.graph):
            if module not in state:
                visit(module, [module])
        self.assertEqual(cycles, [])

    def test_every_top_level_module_is_a_command(self):
        library_code = {}
        for module, path in sorted(self.modules.items()):
            if _kind(module)[0] != "command":
                continue
            with open(path) as f:
                tree = ast.parse(f.read())
            names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            guarded = any(isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)
                          for n in tree.body)
            self.assertIn("main", names, module)
            self.assertTrue(guarded, f"{module} has no `if __name__ == '__main__'` block")
            public = _public_names(path)
            if public:
                library_code[module] = public
        # Library code (anything public but main) belongs in a layer, not in a command.
        self.assertEqual(library_code, {})

    def test_code_outside_the_package_runs_commands_only_through_main(self):
        wrong = []
        for top in SCRIPT_DIRS:
            for folder, _, files in os.walk(os.path.join(ROOT, top)):
                for name in sorted(files):
                    if name.endswith(".py"):
                        path = os.path.join(folder, name)
                        for use in _command_uses(path, self.modules, top == "tests"):
                            wrong.append(f"{os.path.relpath(path, ROOT)} uses {use}")
        self.assertEqual(wrong, [])

    def test_libraries_never_read_flags(self):
        readers = []
        for module, path in self.modules.items():
            kind, layer = _kind(module)
            if kind != "library" or layer in FLAG_READERS:
                continue
            with open(path) as f:
                tree = ast.parse(f.read())
            if any(isinstance(n, ast.Attribute) and n.attr == "FLAGS" or
                   isinstance(n, ast.Name) and n.id == "FLAGS" for n in ast.walk(tree)):
                readers.append(module)
        self.assertEqual(readers, [])

    def test_the_checks_catch_what_they_look_for(self):
        # The rules above, applied to a made-up graph that breaks each of them.
        self.assertEqual(_kind("dkd_tf.stream"), ("command", None))
        self.assertEqual(_kind("export.tflite"), ("command", None))
        self.assertEqual(_kind("dkd_tf.tracking.pose_tracker"), ("library", "tracking"))
        self.assertGreater(LAYERS.index("serving"), LAYERS.index("training"))
        sample = os.path.join(self.get_temp_dir(), "sample.py")
        with open(sample, "w") as f:
            f.write("def f():\n    from dkd_tf.serving import manifest\n"
                    "lazy = lazy_modules.module('dkd_tf.data.transforms')\n")
        self.assertEqual(_imports(sample, self.modules),
                         {"dkd_tf.serving.manifest", "dkd_tf.data.transforms"})
        command = os.path.join(self.get_temp_dir(), "command.py")
        with open(command, "w") as f:
            f.write("def main(argv):\n    pass\ndef _define_flags():\n    pass\n"
                    "def score(x):\n    return x\nclass Report:\n    pass\n")
        self.assertEqual(_public_names(command), ["score", "Report"])
        script = os.path.join(self.get_temp_dir(), "test_sample.py")
        with open(script, "w") as f:
            f.write("from dkd_tf import evaluate, left_right as lr\nimport dkd_tf.ablations\n"
                    "from dkd_tf.figures import main, COMMANDS\n"
                    "evaluate.main([])\nlr.main([])\nevaluate.row_scores\n"
                    "dkd_tf.ablations.score_rows()\nrun = lr\n")
        self.assertEqual(_command_uses(script, self.modules, main_only=True),
                         ["dkd_tf.ablations.score_rows", "dkd_tf.evaluate.row_scores",
                          "dkd_tf.figures.COMMANDS", "dkd_tf.left_right"])
        self.assertEqual(_command_uses(script, self.modules, main_only=False),
                         ["dkd_tf.ablations", "dkd_tf.evaluate", "dkd_tf.figures",
                          "dkd_tf.left_right"])
