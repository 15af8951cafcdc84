"""Files shipped inside the packages (package data), found with :mod:`importlib.resources`.

A checkout, an editable install and a wheel installed into site-packages all answer the same way, so nothing the
product reads at run time depends on where the repository is. What ships:

- ``automations/data/``: ``taxonomy.yaml``, ``safety.yaml``, the default classifier (``model/``), the risk layer
  (``risk/``, :mod:`automations.risk`), the grounding
  operating point of the LLM answerer (``grounding/policy.json``) and the labelled examples the model was trained
  on (``examples/*.csv``, also the texts of ``autopilot demo --days``);
- ``prompts/``: the LLM prompt templates; ``knowledge/content/``: the sample help centre;
- ``bot/data/demo_stream.jsonl`` (``autopilot demo``), ``bot/data/demo_team.yaml`` (the demo's agents) and
  ``bot/static/`` (the playground).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["data_path", "packaged"]


def packaged(package: str, *parts: str) -> Path:
    """The file or folder ``parts`` inside ``package``, as a path on disk (packages are installed unzipped)."""
    resource = files(package)
    for part in parts:
        resource = resource / part
    if not isinstance(resource, Path):
        raise RuntimeError(f"{package} is not installed as files on disk; cannot read {'/'.join(parts)}")
    return resource


def data_path(*parts: str) -> Path:
    """A file or folder of ``automations/data``."""
    return packaged("automations", "data", *parts)
