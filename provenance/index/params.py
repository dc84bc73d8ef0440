"""An index's parameters: the one mapping between a ``Config`` and what an index records.

An index records every setting that shapes what it holds (cleaning, signing, banding:
``index_params``); a run with other values is refused, naming each one
(``ensure_params``), and a check takes the index's own values where its caller gave
none (``config_from_params``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from datasketch import MinHash

from ..config import CleanConfig, Config, MatchConfig, SignConfig
from ..errors import ConfigError
from .store import IndexStore


def _minhash_kind() -> str:
    return f"datasketch {getattr(MinHash(num_perm=16), 'scheme', 'legacy')}"


#: Cleaning settings the index records besides ``keep``, rules and link density: the templates
#: learnt and the main-content cut shape the stored text as much (an index written before they
#: were recorded lacks them, and is refused as built with other parameters).
_CLEAN_SETTINGS = ("main_min_share", "template_min_docs", "template_min_share", "template_max_words")

def index_params(config: Config) -> dict[str, Any]:
    """The parameters that shape what an index holds: cleaning, signing, banding."""
    clean = config.clean
    rules_sha = None
    if clean.rules_file:
        try:
            rules_sha = hashlib.sha256(Path(clean.rules_file).read_bytes()).hexdigest()
        except OSError as exc:
            raise ConfigError(f"{clean.rules_file}: cannot read the rules file: {exc.strerror}") from exc
    minhash = _minhash_kind()
    dtype = "uint32"  # datasketch's values (below 2**32), as sign_texts makes them
    return {
        "clean": {"keep": sorted(clean.keep), "link_density": clean.link_density,
                  **{k: getattr(clean, k) for k in _CLEAN_SETTINGS},
                  "version": clean.version, "rules_sha256": rules_sha, "rules_file": clean.rules_file},
        "sign": {**asdict(config.sign), "minhash": minhash, "dtype": dtype},
        "match": {"doc_threshold": config.match.doc_threshold,
                  "passage_threshold": config.match.passage_threshold},
    }


#: Stored for information only: the same rules at another path are the same rules.
_NOT_COMPARED = {"clean.rules_file"}


def flat_params(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"sign": {"num_perm": 128}}`` -> ``{"sign.num_perm": 128}``: parameters as one level."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            out.update(flat_params(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def param_differences(stored: dict[str, Any], requested: dict[str, Any]) -> list[str]:
    """``"sign.num_perm: index 128, requested 64"`` for each parameter that differs."""
    a, b = flat_params(stored), flat_params(requested)
    return [f"{k}: index {a.get(k)!r}, requested {b.get(k)!r}"
            for k in sorted(set(a) | set(b)) if k not in _NOT_COMPARED and a.get(k) != b.get(k)]


def ensure_params(store: IndexStore, config: Config) -> dict[str, Any]:
    """The index's parameters, after checking that ``config`` agrees with them.

    Raises:
        ConfigError: naming each parameter that differs, stored vs requested.
    """
    stored = store.params()
    diffs = param_differences(stored, index_params(config))
    if diffs:
        # what no option sets: the cleaner's version, MinHash's kind, settings an older index lacks
        fixed = {"clean.version", "sign.minhash", "sign.dtype", *(f"clean.{k}" for k in _CLEAN_SETTINGS
                                                                  if k not in stored.get("clean", {}))}
        if all(d.split(":")[0] in fixed for d in diffs):
            remedy = "Rebuild the index with this version of provenance:"
        else:
            remedy = "Leave those options out to use the index's, or rebuild the index with"
        raise ConfigError(f"the index {store.spec} was built with other parameters: " + "; ".join(diffs)
                          + f". {remedy} `provenance index build ... --force`")
    return stored


def config_from_params(params: dict[str, Any], *, shingle_size: int | None = None,
                       num_perm: int | None = None, seed: int | None = None,
                       threshold: float | None = None, keep: Iterable[str] | None = None,
                       rules_file: str | None = None) -> Config:
    """A ``Config`` with an index's parameters, where the caller gave none of its own."""
    c, s, m = params["clean"], params["sign"], params["match"]
    rules = rules_file if rules_file is not None else c.get("rules_file")
    if rules_file is None and c.get("rules_sha256") and not (rules and Path(rules).is_file()):
        raise ConfigError(f"the index was built with the rules file {c.get('rules_file')!r}, which is"
                          " not here; pass it with --rules FILE")
    sign_fields = {k: s[k] for k in ("shingle_size", "num_perm", "seed", "passage_min_words",
                                     "passage_max_words", "passage_stride")}
    sign_fields.update({k: v for k, v in (("shingle_size", shingle_size), ("num_perm", num_perm),
                                          ("seed", seed)) if v is not None})
    return Config(
        clean=CleanConfig(keep=tuple(sorted(set(keep))) if keep is not None else tuple(c["keep"]),
                          rules_file=rules, link_density=c["link_density"],
                          **{k: c[k] for k in _CLEAN_SETTINGS if k in c}),
        sign=SignConfig(**sign_fields),
        match=MatchConfig(doc_threshold=threshold if threshold is not None else m["doc_threshold"],
                          passage_threshold=m["passage_threshold"]),
    )
