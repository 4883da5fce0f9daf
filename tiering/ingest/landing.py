"""What is in the landing folder, cheaply: name → size and modification time of each extract."""

from __future__ import annotations

from pathlib import Path

from tiering.ingest.contract import entity_for_file


def landing_fingerprints(landing_dir: Path) -> dict[str, str]:
    """A fingerprint per extract file; a new or rewritten file changes its entry."""
    if not landing_dir.is_dir():
        return {}
    fingerprints = {}
    for path in sorted(landing_dir.iterdir()):
        if path.is_file() and entity_for_file(path.name):
            stat = path.stat()
            fingerprints[path.name] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return fingerprints


def has_extracts(landing_dir: Path) -> bool:
    return bool(landing_fingerprints(landing_dir))
