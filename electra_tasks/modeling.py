"""Loading models and tokenizers from a hub id or a local folder, with one-line errors.

Safe by default: safetensors weights, `trust_remote_code` off unless the user asks. Offline
(`HF_HUB_OFFLINE=1`, or no network) a hub id loads from the local cache, else fails with a line
suggesting a local folder. Without `HF_HUB_OFFLINE`, the hub is asked once whether it answers at
all (`hub.hub_unreachable`): with no network, the client would retry every file for about 23 s first.
"""

from __future__ import annotations

import logging
from pathlib import Path

from electra_tasks.errors import UserError, reason
from electra_tasks.hub import cache_only, hub_unreachable, offline_requested

log = logging.getLogger("electra_tasks")


def looks_like_path(name: str) -> bool:
    """Hub ids are `name` or `owner/name`; anything else is meant as a folder."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def check_model_source(name: str | None, role: str = "--model") -> str:
    """A local folder that holds a config.json, or something shaped like a hub id."""
    if not name:
        raise UserError(f"{role} is required: a hub id (e.g. google/electra-small-discriminator) or a local folder")
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise UserError(f"{role} {name}: expected a model folder (save_pretrained), found a file")
        if not (path / "config.json").is_file():
            raise UserError(f"{role} {name}: no config.json in this folder; expected a save_pretrained model folder")
        return str(path)
    if looks_like_path(name):
        raise UserError(f"{role} {name}: model folder not found")
    return name


def _hub_kwargs(source: str) -> dict:
    """For a hub id offline or when the hub does not answer: the local cache only (no retries)."""
    if Path(source).exists() or not cache_only():
        return {}
    return {"local_files_only": True}


def _hub_failure(name: str, role: str, exc: Exception) -> UserError:
    unreachable = hub_unreachable()
    if unreachable is not None:
        return UserError(f"{role} {name}: the Hugging Face hub does not answer ({unreachable}) and the model is "
                         f"not in the local cache; pass a local folder saved with save_pretrained instead")
    offline = offline_requested()
    if not offline and _hub_says_no_such_repo(exc):
        # the hub answered: there is no such repository (transformers' own message names huggingface.co/models
        # whatever HF_ENDPOINT says, and suggests nothing)
        from huggingface_hub import constants

        return UserError(f"{role} {name}: no such model on the Hugging Face hub ({constants.ENDPOINT}); check "
                         f"the id (e.g. google/electra-small-discriminator) or pass a local save_pretrained folder")
    why = "HF_HUB_OFFLINE is set" if offline else reason(exc, typed=True)
    return UserError(
        f"{role} {name}: could not load it from the Hugging Face hub ({why}); "
        f"pass a local folder saved with save_pretrained instead"
    )


def _hub_says_no_such_repo(exc: BaseException | None) -> bool:
    """Whether the hub's own "repository not found" answer (not a gated repo) caused `exc`."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, RepositoryNotFoundError):
            return not isinstance(exc, GatedRepoError)
        exc = exc.__cause__ or exc.__context__
    return False


def load_tokenizer(name: str, *, role: str = "--model", trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    source = check_model_source(name, role)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code, **_hub_kwargs(source))
    except (OSError, ValueError) as exc:
        if Path(source).exists():
            raise UserError(f"{role} {name}: no usable tokenizer in this folder ({reason(exc)})") from None
        raise _hub_failure(name, role, exc) from None
    if not getattr(tokenizer, "is_fast", False):
        raise UserError(f"{role} {name}: a fast (Rust) tokenizer is required for offset mappings")
    return tokenizer


def load_config(name: str, *, role: str = "--model", trust_remote_code: bool = False, **overrides):
    from transformers import AutoConfig

    source = check_model_source(name, role)
    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code, **_hub_kwargs(source),
                                          **overrides)
    except (OSError, ValueError) as exc:
        if Path(source).exists():
            raise UserError(f"{role} {name}: unreadable config.json ({reason(exc)})") from None
        raise _hub_failure(name, role, exc) from None


def load_model(model_class, name: str, *, role: str = "--model", trust_remote_code: bool = False,
               config=None, **kwargs):
    """`model_class.from_pretrained` with safetensors preferred, SDPA attention and the cheaper CPU dropout."""
    from electra_tasks.dropout import use_uniform_mask_dropout

    from electra_tasks import console

    source = check_model_source(name, role)
    kwargs.setdefault("attn_implementation", "sdpa")
    console.quiet_libraries()  # the same for every load: library code may have reset the verbosity
    try:
        with console.phase("loading"):
            model, info = model_class.from_pretrained(
                source, config=config, trust_remote_code=trust_remote_code, use_safetensors=_has_safetensors(source),
                output_loading_info=True, **_hub_kwargs(source), **kwargs,
            )
    except (OSError, ValueError) as exc:
        if Path(source).exists():
            raise UserError(f"{role} {name}: could not load the weights ({reason(exc, 200)})") from None
        raise _hub_failure(name, role, exc) from None
    line = describe_loading(model, info)
    if line:
        log.info("%s", line)
    return use_uniform_mask_dropout(model)


def describe_loading(model, info: dict) -> str:
    """What a person needs from loading: "classifier: new, 2 labels; discriminator_predictions dropped".

    Weights the checkpoint lacks (newly initialised) and the checkpoint's weights the model does not
    use are grouped by their top-level module; "" when the checkpoint fits the model exactly.
    """
    new = _top_modules(info.get("missing_keys", ()), model)
    dropped = _top_modules(info.get("unexpected_keys", ()), model)
    resized = _top_modules([entry[0] if isinstance(entry, (tuple, list)) else entry
                            for entry in info.get("mismatched_keys", ())], model)
    parts = [f"{module}: new" + (f", {size}" if (size := _output_size(model, module)) else "") for module in new]
    parts += [f"{module}: re-initialised (its size differs from the checkpoint's)" for module in resized]
    if dropped:
        parts.append(f"{', '.join(dropped)} dropped")
    return "; ".join(parts)


def _top_modules(keys, model) -> list[str]:
    """`classifier.out_proj.weight` -> `classifier`; inside the base model (`electra.x.y`), `electra.x`."""
    prefix = getattr(model, "base_model_prefix", "") or ""
    seen: dict[str, None] = {}
    for key in sorted(keys):
        parts = key.split(".")
        depth = 2 if prefix and parts[0] == prefix and len(parts) > 2 else 1
        seen.setdefault(".".join(parts[:depth]), None)
    return list(seen)


def _output_size(model, module_name: str) -> str:
    """ "2 labels" for a head whose last linear layer gives the config's labels; "N outputs" otherwise."""
    import torch

    try:
        module = model.get_submodule(module_name)
    except AttributeError:
        return ""
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        return ""
    size = int(linears[-1].out_features)
    config = getattr(model, "config", None)
    names = list((getattr(config, "id2label", None) or {}).values())
    if size == len(names) and names != [f"LABEL_{i}" for i in range(size)]:
        return f"{size} label" + ("s" if size != 1 else "")
    return f"{size} output" + ("s" if size != 1 else "")


def _has_safetensors(source: str) -> bool | None:
    """True for a local folder with safetensors; None (prefer safetensors, allow .bin) otherwise.

    transformers itself refuses to unpickle .bin files unless torch.load is safe (weights_only).
    """
    path = Path(source)
    if path.is_dir():
        return True if any(path.glob("*.safetensors")) else None
    return None
