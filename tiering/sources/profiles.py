"""Profiles as data: load ``sources/<name>.yaml``, validate it before anything loads, match
file names to (profile, entity).

A profile error names the profile file and the key (``sources/kingdee.yaml:
entities.erp_orders.columns.amount_incl_tax.unit: ...``). ``TIERING_SOURCES`` chooses the
active profiles by name (or by path to a YAML file); ``canonical`` is today's contract and the
default.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tiering.ingest.contract import ENTITIES

SOURCES_DIR = Path(__file__).resolve().parents[2] / "sources"
CANONICAL = "canonical"
DEFAULT_TOTALS = r"(?i)^\s*(合计|小计|总计|总合计|total|grand total|subtotal)\s*[:：]?\s*$"
# Date formats every profile accepts besides its own: ISO dates and timestamps.
READ_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")


class ProfileError(ValueError):
    """A profile cannot be used; the message names the profile file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Override(_Strict):
    """Another exported column that decides the value: 作废状态 = 已作废 makes an order cancelled;
    without ``in``, any non-empty value of it does (SAP's reason for rejection)."""

    header: str | list[str]
    values: list[str] | None = Field(default=None, alias="in")
    value: str
    otherwise: str = ""  # the other column's value when it does not decide; the demo generator writes it
    example: str | None = None  # without ``in``: the value the demo generator writes

    @property
    def headers(self) -> list[str]:
        return [self.header] if isinstance(self.header, str) else list(self.header)


class ColumnSpec(_Strict):
    header: str | list[str] | None = None  # the exported header; alternatives tried in order
    optional: bool = False  # the header may be absent: the column is then empty
    value: str | None = None  # a constant, when the system does not export the column
    sequence_within: str | None = None  # line_no numbered in file order within this column's value
    map: dict[str, str] | None = None  # exported code or caption → contract value; others pass as they are
    override: Override | None = None
    formats: list[str] | None = None  # date/timestamp: strptime formats, or excel_serial, epoch_ms
    unit: Literal["元", "万元"] | None = None  # money: the amount's unit
    scale: float | None = None  # multiply: 0.01 for a tax rate in percent
    includes_tax: bool = True  # money: false when the column is net of VAT (× 1 + tax_rate)
    add: str | list[str] | None = None  # a column added to this one, alternatives in order (SAP net value + tax)
    strip_prefix: str | None = None  # e.g. zcrm_ on Zoho ids

    @property
    def headers(self) -> list[str]:
        if self.header is None:
            return []
        return [self.header] if isinstance(self.header, str) else list(self.header)

    @property
    def add_headers(self) -> list[str]:
        if self.add is None:
            return []
        return [self.add] if isinstance(self.add, str) else list(self.add)

    @model_validator(mode="after")
    def _one_source(self) -> ColumnSpec:
        sources = [self.header is not None, self.value is not None, self.sequence_within is not None]
        if sum(sources) != 1:
            raise ValueError("give exactly one of header, value or sequence_within")
        return self

    @field_validator("formats")
    @classmethod
    def _formats(cls, formats: list[str] | None) -> list[str] | None:
        for text in formats or []:
            if text not in ("excel_serial", "epoch_ms") and "%" not in text:
                raise ValueError(f"{text!r} is not a strptime format (e.g. %Y/%m/%d), excel_serial or epoch_ms")
        return formats


class DemoSpec(_Strict):
    """How ``tiering generate --profile`` writes this entity: the export's shape, not its data."""

    file: str  # file name; {date} is the as-of date
    title: list[str] = []  # title rows above the header (report name, 制表日期 …)
    total: bool = False  # a 合计 row at the end
    footer: list[str] = []  # lines after a blank line (Salesforce report footers)
    encoding: str = "utf-8"
    crlf: bool = False
    quote_all: bool = False
    blank_repeats: bool = False  # fill_down columns left blank on continuation rows


class EntitySpec(_Strict):
    files: list[str]  # file-name patterns (fnmatch, any letter case)
    format: Literal["auto", "csv", "xlsx"] = "auto"
    encoding: str = "auto"  # auto (detected on a sample), utf-8, gb18030, gbk, utf-16 …
    delimiter: str = ","
    sheet: int | str = 0  # a workbook's sheet: index from 0, or name
    header_row: int | Literal["auto"] = "auto"  # 1-based row of the header, or the first row holding the headers
    header_rows: Literal[1, 2] = 1  # 2: a caption row above the field row, cells merged
    totals: str | None = DEFAULT_TOTALS  # a row whose first cell matches is a total, not data
    stop_at_blank_row: bool = False  # rows after the first blank row are a footer
    fill_down: list[str] = []  # headers left blank on continuation rows; the first one is the key
    columns: dict[str, ColumnSpec | str | list[str]]
    demo: DemoSpec | None = None

    def column(self, name: str) -> ColumnSpec | None:
        spec = self.columns.get(name)
        return ColumnSpec(header=spec) if isinstance(spec, (str, list)) else spec

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        import codecs

        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"{value!r} is not an encoding; expected auto, utf-8, gb18030, utf-16 …") from None
        return value


class ProfileSpec(_Strict):
    system: str
    title: str
    kind: Literal["erp", "crm", "both"]
    canonical: bool = False  # the contract itself: files load as they are
    evidence: dict[str, str] = {}  # where each mapping came from (docs/sources.md repeats it)
    entities: dict[str, EntitySpec] = {}

    @model_validator(mode="after")
    def _entities(self) -> ProfileSpec:
        for name, entity in self.entities.items():
            if name not in ENTITIES:
                raise ValueError(
                    f"entities.{name}: not an entity of the contract; expected one of {', '.join(ENTITIES)}"
                )
            contract = ENTITIES[name]
            for column, spec in entity.columns.items():
                if column not in contract.column_names:
                    raise ValueError(
                        f"entities.{name}.columns.{column}: not a column of {name}; "
                        f"expected one of {', '.join(contract.column_names)}"
                    )
                spec = entity.column(column)
                if spec.sequence_within and spec.sequence_within not in entity.columns:
                    raise ValueError(
                        f"entities.{name}.columns.{column}.sequence_within: {spec.sequence_within} is not mapped"
                    )
            missing = [c.name for c in contract.columns if c.required and c.name not in entity.columns]
            if missing:
                raise ValueError(f"entities.{name}.columns: required column(s) {', '.join(missing)} not mapped")
        return self


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    spec: ProfileSpec

    @property
    def is_canonical(self) -> bool:
        return self.spec.canonical

    def match(self, file_name: str) -> str | None:
        """The entity a file name is, by this profile's patterns; None when none matches."""
        lowered = file_name.lower()
        for entity, spec in self.spec.entities.items():
            if any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in spec.files):
                return entity
        return None


@dataclass(frozen=True)
class Binding:
    """One file bound to a profile's entity."""

    profile: Profile
    entity: str

    @property
    def spec(self) -> EntitySpec:
        return self.profile.spec.entities[self.entity]

    @property
    def label(self) -> str:
        return f"{self.profile.path.name} ({self.entity})"


def _location(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error["loc"] if not str(part).startswith(("function-", "union[")))


def load_profile(path: Path) -> Profile:
    """Read and validate one profile file; ProfileError names the file and the key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProfileError(f"{path}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ProfileError(f"{path.name}:{where} not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path.name}: expected a mapping of keys (system, title, kind, entities)")
    try:
        spec = ProfileSpec.model_validate(data)
    except ValidationError as error:
        errors = error.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        key = _location(first)
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "missing":
            message = "required key is missing"
        raise ProfileError(f"{path.name}: {key + ': ' if key else ''}{message}") from None
    return Profile(name=path.stem, path=path, spec=spec)


def shipped_profiles(sources_dir: Path | None = None) -> list[str]:
    return sorted(path.stem for path in (sources_dir or SOURCES_DIR).glob("*.yaml"))


def resolve(name: str, sources_dir: Path | None = None) -> Path:
    """A profile by name (sources/<name>.yaml) or by path to a YAML file."""
    if name.endswith((".yaml", ".yml")) or "/" in name:
        return Path(name).expanduser()
    path = (sources_dir or SOURCES_DIR) / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(
            f"no profile {name!r}: no {path.name} in sources/; shipped profiles: "
            f"{', '.join(shipped_profiles(sources_dir))}"
        )
    return path


def load_profiles(names: tuple[str, ...] | list[str], sources_dir: Path | None = None) -> list[Profile]:
    """The active profiles, in the order given, each validated."""
    return [load_profile(resolve(name, sources_dir)) for name in names]


def bind(file_name: str, profiles: list[Profile]) -> Binding | None:
    """The first active (non-canonical) profile whose patterns match the file name."""
    for profile in profiles:
        if profile.is_canonical:
            continue
        entity = profile.match(file_name)
        if entity:
            return Binding(profile, entity)
    return None


def readable_suffix(file_name: str) -> bool:
    return file_name.lower().endswith(READ_SUFFIXES)
