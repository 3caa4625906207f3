"""Is the Hugging Face hub there at all? One request, once a process, before the clients' retries.

With no network and no `HF_HUB_OFFLINE`, huggingface_hub retries every file for about 23 s before
it fails or falls back to the cache (transformers asks twice: 46 s; datasets about 25 s). Asked once
here, an unreachable hub means: the local cache only (models: `local_files_only`; datasets: their
offline mode for the one call), and a one-line error naming the reason when the cache lacks it.
"""

from __future__ import annotations

import contextlib
import functools
import os


def offline_requested() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE, which huggingface_hub reads as the same) is set."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or any(os.environ.get(name, "0").strip().upper() in ("1", "ON", "YES", "TRUE")
                                                 for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_unreachable() -> str | None:
    """Why the hub does not answer (None when it does, or under HF_HUB_OFFLINE, where the clients
    use only the cache anyway)."""
    from huggingface_hub import constants

    return None if offline_requested() else _probe(constants.ENDPOINT)


@functools.lru_cache(maxsize=4)
def _probe(endpoint: str) -> str | None:
    """One request without retries, through the hub client's own session (its proxies): any HTTP
    answer, even an error status, means the hub is there."""
    from huggingface_hub.utils import get_session

    from electra_tasks.errors import reason

    try:
        get_session().head(endpoint, timeout=10)
    except Exception as exc:  # DNS, refused, timed out, TLS: the transport failed, whatever the library
        return reason(exc, 120, typed=True)
    return None


def cache_only() -> bool:
    """Load from the local cache only: HF_HUB_OFFLINE asks it (also when set after the libraries were
    imported, which read it once), or the hub does not answer."""
    return offline_requested() or hub_unreachable() is not None


@contextlib.contextmanager
def offline_mode(on: bool):
    """The libraries' own offline mode (as HF_HUB_OFFLINE=1 sets it at import), for one call: their
    flags are module constants read at call time, put back afterwards."""
    if not on:
        yield
        return
    import datasets.config
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = datasets.config.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE = saved
