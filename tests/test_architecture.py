"""The package's layer order (alphareason/__init__.py): no module imports upward.

Every `import alphareason.X` and `from alphareason... import` in a module, at its top or
inside a function, is read from the source; the module it names must sit in a lower
layer, or in the importer's own subpackage. Layers of one number are siblings that never
import each other (train and eval).
"""

import ast
import pathlib
import re

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "alphareason"

LAYERS = {
    "errors": 0, "files": 0, "faults": 0,
    "env": 1,
    "envs": 2, "registry": 2, "checker": 2,
    "networks": 3, "parallel": 3,
    "search": 4,
    "config": 5, "strategies": 5,
    "play": 6, "checkpoint": 6, "interop": 6,
    "suites": 7,
    "parts": 8,
    "agent": 9,
    "train": 10, "eval": 10,
    "api": 11, "bench": 11,
    "cli": 12,
    "puzzles": 13,
}
PUBLIC_SURFACE = "alphareason"  # what `import alphareason` gives: above cli, below puzzles


def top_part(module: str) -> str:
  """"alphareason.train.loop" -> "train"; "alphareason" -> "" (the public surface)."""
  parts = module.split(".")
  return parts[1] if len(parts) > 1 else ""


def is_module(name: str) -> bool:
  return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def imported_modules(path: pathlib.Path, module: str) -> set[str]:
  """The alphareason modules `path` imports, anywhere in it."""
  found = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      found |= {alias.name for alias in node.names if alias.name.startswith("alphareason")}
    elif isinstance(node, ast.ImportFrom):
      if node.level:  # relative: resolve against the importing module's package
        base = module.split(".")[:-node.level] if path.name != "__init__.py" else (
            module.split(".")[:len(module.split(".")) - node.level + 1])
        name = ".".join(base + ([node.module] if node.module else []))
      else:
        name = node.module or ""
      if name == "alphareason":  # `from alphareason import suites`, or a surface name
        found |= {f"alphareason.{alias.name}" if is_module(alias.name) else PUBLIC_SURFACE
                  for alias in node.names}
      elif name.startswith("alphareason."):
        found.add(name)
  return found


def package_modules():
  for path in sorted(PACKAGE.rglob("*.py")):
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
      parts = parts[:-1]
    yield path, ".".join(parts)


def test_every_module_has_a_layer():
  missing = {top_part(module) for _, module in package_modules()} - set(LAYERS) - {""}
  assert not missing, f"give these a layer in LAYERS and alphareason/__init__.py: {missing}"


def upward_imports(path: pathlib.Path, module: str) -> list[str]:
  """What `module` imports from its own layer or above, outside its subpackage."""
  own = top_part(module)
  if not own:
    return []  # the public surface re-exports from any layer, lazily
  found = []
  for imported in sorted(imported_modules(path, module)):
    other = top_part(imported)
    other_layer = LAYERS["cli"] + 0.5 if imported == PUBLIC_SURFACE else LAYERS.get(
        other, len(LAYERS))
    if other != own and other_layer >= LAYERS[own]:
      found.append(f"{module} (layer {LAYERS[own]}) imports {imported} "
                   f"(layer {LAYERS.get(other, 'none')})")
  return found


def test_the_layer_table_is_the_one_the_package_documents():
  documented = {}
  for line in (PACKAGE / "__init__.py").read_text().splitlines():
    if match := re.match(r"^\s+(\d+)\s+([a-z_]+(?:, [a-z_]+)*)\s{2,}", line):
      documented.update({name: int(match.group(1)) for name in match.group(2).split(", ")})
  assert documented == LAYERS


@pytest.mark.parametrize("path, module", list(package_modules()),
                         ids=[module for _, module in package_modules()])
def test_no_module_imports_a_layer_above_its_own(path, module):
  assert not upward_imports(path, module), "imports go down the layers only"


def test_the_check_catches_upward_and_sibling_imports(tmp_path):
  source = tmp_path / "bad.py"
  source.write_text("import jax\n\ndef f():\n  from alphareason.train import loop\n"
                    "  from alphareason import env, eval\n")
  assert imported_modules(source, "alphareason.envs.bad") == {
      "alphareason.train", "alphareason.env", "alphareason.eval"}
  assert upward_imports(source, "alphareason.envs.bad") == [
      "alphareason.envs.bad (layer 2) imports alphareason.eval (layer 10)",
      "alphareason.envs.bad (layer 2) imports alphareason.train (layer 10)"]
  assert upward_imports(source, "alphareason.train.bad") == [
      "alphareason.train.bad (layer 10) imports alphareason.eval (layer 10)"]


def test_a_module_below_the_surface_may_not_import_it(tmp_path):
  source = tmp_path / "bad.py"
  source.write_text("import alphareason\nfrom alphareason import Env, registry\n")
  assert imported_modules(source, "alphareason.cli.bad") == {
      PUBLIC_SURFACE, "alphareason.registry"}
  assert upward_imports(source, "alphareason.cli.bad") == [
      "alphareason.cli.bad (layer 12) imports alphareason (layer none)"]
  assert upward_imports(source, "alphareason.puzzles.bad") == []


@pytest.mark.parametrize("path, module", [
    (path, module) for path, module in package_modules() if top_part(module) == "puzzles"])
def test_the_shipped_puzzles_use_the_public_surface_alone(path, module):
  """They stand for a user's plug-in: what they need, a user's module can reach."""
  assert imported_modules(path, module) <= {PUBLIC_SURFACE}
