"""``tiering sources check PATH``: what the pipeline would make of export files, loading nothing.

For each file: the profile and entity it matched, the column mapping, five mapped rows, and
its problems (a header missing, rows the contract would quarantine, rows excluded as totals
or footers), from the same normalisation and checks as a run, in a scratch in-memory DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from tiering.ingest.contract import ENTITIES, entity_for_file
from tiering.sources.profiles import Binding, Profile, bind, load_profiles, readable_suffix, shipped_profiles

PREVIEW_ROWS = 5
SHOWN_PROBLEMS = 10


@dataclass
class FileCheck:
    path: Path
    binding: Binding | None = None
    note: str | None = None
    error: str | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def _match(path: Path, active: list[Profile], others: list[Profile]) -> tuple[Binding | None, str | None]:
    binding = bind(path.name, active)
    if binding:
        return binding, None
    binding = bind(path.name, others)
    if binding:
        return binding, f"matched {binding.profile.name}, which is not in TIERING_SOURCES; add it to load this file"
    return None, None


def check_file(path: Path, active: list[Profile], others: list[Profile]) -> FileCheck:
    from tiering.ingest.load import ContractError, _read_typed, check_header
    from tiering.sources.normalise import SOURCE_TABLE, normalise
    from tiering.sources.read import SourceReadError

    result = FileCheck(path)
    binding, result.note = _match(path, active, others) if readable_suffix(path.name) else (None, None)
    result.binding = binding
    if binding is None:
        entity = entity_for_file(path.name)
        if entity is None:
            result.error = "matches no profile's file patterns and is no canonical extract"
            return result
        try:
            ignored = check_header(path, entity)
        except ContractError as error:
            result.error = str(error)
            return result
        result.lines.append(
            f"canonical {entity.name} file; columns by name" + (f"; ignored: {', '.join(ignored)}" if ignored else "")
        )
        return result
    entity = ENTITIES[binding.entity]
    with duckdb.connect() as connection:
        try:
            normalised = normalise(connection, path, binding)
        except SourceReadError as error:
            result.error = str(error)
            return result
        raw = normalised.raw
        where = [f"header row {raw.header_row}"]
        if raw.sheet:
            where.insert(0, f"sheet {raw.sheet}")
        if raw.encoding:
            where.insert(0, f"encoding {raw.encoding}")
        result.lines.append(", ".join(where))
        result.lines.append("column mapping:")
        width = max(len(name) for name in entity.column_names)
        for name in entity.column_names:
            result.lines.append(f"  {name:<{width}} ← {normalised.mapping[name]}")
        if normalised.ignored:
            result.lines.append(f"headers not used: {', '.join(normalised.ignored)}")
        columns = ", ".join(entity.column_names)
        preview = connection.execute(
            f"select _source_row, {columns} from {SOURCE_TABLE} where _pre_reason is null "
            f"order by _source_row limit {PREVIEW_ROWS}"
        ).fetchall()
        result.lines.append(f"first {len(preview)} mapped rows (row: {', '.join(entity.column_names)}):")
        for row in preview:
            result.lines.append(f"  {row[0]}: " + " | ".join("" if value is None else str(value) for value in row[1:]))
        _read_typed(connection, path, entity, None, normalised)
        total, loaded = connection.execute(
            "select count(*), count(*) filter (where reason is null) from _landing_typed"
        ).fetchone()
        problems = connection.execute(
            "select source_row, reason from _landing_positioned where reason is not null "
            f"order by source_row limit {SHOWN_PROBLEMS}"
        ).fetchall()
        excluded = connection.execute(
            "select count(*) from _landing_typed where reason like '%excluded: %'"
        ).fetchone()[0]
    result.lines.append(
        f"rows: {total} read, {loaded} would load, {total - loaded - excluded} would be quarantined, "
        f"{excluded} excluded (totals, footers)"
    )
    if problems:
        result.lines.append("problems:" if total - loaded - excluded else "excluded rows:")
        for row, reason in problems:
            result.lines.append(f"  row {row}: {reason}")
        if total - loaded > len(problems):
            result.lines.append(f"  … and {total - loaded - len(problems)} more")
    return result


def check_paths(paths: list[Path], sources: tuple[str, ...]) -> list[FileCheck]:
    """Check each file (a folder: each file in it, by name); ``sources`` are the active profiles."""
    active = load_profiles(sources)
    others = load_profiles([name for name in shipped_profiles() if name not in sources])
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(2, "No such file or folder", str(path))
    return [check_file(path, active, others) for path in files]


def format_checks(checks: list[FileCheck]) -> str:
    out = []
    for check in checks:
        label = check.binding.label if check.binding else ""
        out.append(f"{check.path.name}: {label or ('not readable' if check.error else 'canonical')}")
        if check.note:
            out.append(f"  note: {check.note}")
        if check.error:
            out.append(f"  problem: {check.error}")
        out.extend(f"  {line}" for line in check.lines)
        out.append("")
    return "\n".join(out).rstrip()
