"""Task families, one package each: `tasks/<family>/`.

A family package holds everything that is only its own: `options.py` (its option declarations,
light to import so the CLI can build its flags), `family.py` (the `TaskFamily` and its task
definitions, registered on import) and whatever its readers, model head, decoding and report
plots need. Nothing outside the package names it: a new family is a new folder.
"""

import importlib
import pkgutil


def family_packages() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)


def load_families() -> None:
    """Import every family (registering it and its task definitions)."""
    for name in family_packages():
        importlib.import_module(f"{__name__}.{name}.family")
