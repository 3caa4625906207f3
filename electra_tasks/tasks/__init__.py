"""Task families and their named task definitions.

Every module in this package except `base` is imported here; importing one registers its family
(`register_family`) and its task definitions (`registry.register`). A new family is a new module.
"""

import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")
