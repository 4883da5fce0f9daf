"""What is in the landing folder: every entry, and whether and why it will be loaded.

Each run lists every entry of the landing folder. An extract file (a known entity's name, a
supported ending) is loaded by its entity's asset, which records it as loaded or skipped.
Anything else is not loaded, with the reason: an unknown entity (with the closest entity name
when there is one), an unsupported format, not a regular file (a directory, a FIFO), a link
whose target is missing, a file that cannot be read. Hidden entries (a leading dot) and the
landing folder's own subfolders for operators are skipped without a word.
"""

from __future__ import annotations

import difflib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from tiering.ingest.contract import ENTITIES, SUPPORTED_SUFFIXES, entity_for_name, supported_suffix

READY = "ready"  # an extract file its entity's asset will load (or skip as already loaded)
NOT_LOADED = "not_loaded"


@dataclass(frozen=True)
class LandingEntry:
    name: str
    status: str  # ready | not_loaded
    entity: str | None
    reason: str | None  # why it is not loaded
    size_bytes: int | None


def _closest_entity(name: str) -> str | None:
    stem = name.lower().split(".")[0]
    candidates = {entity: stem[: len(entity) + 1] for entity in ENTITIES}
    best = max(candidates, key=lambda entity: difflib.SequenceMatcher(None, entity, candidates[entity]).ratio())
    return best if difflib.SequenceMatcher(None, best, candidates[best]).ratio() >= 0.8 else None


def classify(path: Path, profiles: list | None = None) -> LandingEntry:
    """What one entry of the landing folder is, and whether it will be loaded. ``profiles``:
    the active source profiles (``tiering.sources.profiles``); None: the canonical contract only."""
    name = path.name
    try:
        info = path.lstat()
    except OSError as error:
        return LandingEntry(name, NOT_LOADED, None, f"cannot be read ({error.strerror})", None)
    if stat.S_ISLNK(info.st_mode):
        try:
            info = path.stat()
        except OSError:
            return LandingEntry(name, NOT_LOADED, None, "a link whose target is missing", None)
    entity = entity_for_name(name)
    binding = None
    if profiles is not None:
        from tiering.sources.profiles import bind, readable_suffix

        binding = bind(name, profiles) if readable_suffix(name) else None
        if binding is None and entity is not None and not any(profile.is_canonical for profile in profiles):
            return LandingEntry(
                name, NOT_LOADED, entity.name, "a canonical file, and canonical is not in TIERING_SOURCES", info.st_size
            )
        if binding is not None:
            entity = ENTITIES[binding.entity]
    if stat.S_ISDIR(info.st_mode):
        return LandingEntry(name, NOT_LOADED, entity and entity.name, "a directory, not a file", None)
    if not stat.S_ISREG(info.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a socket or device"
        return LandingEntry(name, NOT_LOADED, entity and entity.name, f"{kind}, not a regular file", None)
    if binding is not None:
        if not os.access(path, os.R_OK):
            return LandingEntry(name, NOT_LOADED, entity.name, "cannot be read (permission denied)", info.st_size)
        return LandingEntry(name, READY, entity.name, None, info.st_size)
    if entity is None:
        closest = _closest_entity(name)
        hint = f"; did you mean {closest}?" if closest else ""
        known = ", ".join(ENTITIES)
        reason = f"unknown entity: the name starts with none of {known}{hint}"
        return LandingEntry(name, NOT_LOADED, None, reason, info.st_size)
    if not supported_suffix(name):
        endings = ", ".join(SUPPORTED_SUFFIXES)
        return LandingEntry(name, NOT_LOADED, entity.name, f"unsupported format: expected {endings}", info.st_size)
    if not os.access(path, os.R_OK):
        return LandingEntry(name, NOT_LOADED, entity.name, "cannot be read (permission denied)", info.st_size)
    return LandingEntry(name, READY, entity.name, None, info.st_size)


def inventory(landing_dir: Path, profiles: list | None = None) -> list[LandingEntry]:
    """Every entry of the landing folder, by name; hidden entries are left out."""
    if not landing_dir.is_dir():
        return []
    return [classify(path, profiles) for path in sorted(landing_dir.iterdir()) if not path.name.startswith(".")]


def landing_fingerprints(landing_dir: Path, sources: tuple[str, ...] | None = None) -> dict[str, str]:
    """A fingerprint per extract file, cheaply (size and modification time): a new or
    rewritten file changes its entry. For the new-extracts sensor. ``sources``: the active
    profiles' names (TIERING_SOURCES); a broken profile counts canonical files only, and the
    run it starts reports the profile's error."""
    profiles = None
    if sources is not None:
        from tiering.sources.profiles import ProfileError, load_profiles

        try:
            profiles = load_profiles(sources)
        except ProfileError:
            profiles = None
    fingerprints = {}
    for entry in inventory(landing_dir, profiles):
        if entry.status == READY:
            info = (landing_dir / entry.name).stat()
            fingerprints[entry.name] = f"{info.st_size}:{info.st_mtime_ns}"
    return fingerprints


def has_extracts(landing_dir: Path) -> bool:
    return bool(landing_fingerprints(landing_dir))
