"""AHP (层次分析法): weights from a pairwise comparison matrix, and the consistency check.

A user (or a panel of experts) compares every pair of dimensions, or of a dimension's
indicators, on Saaty's 1-9 scale: a[i][j] = how much more important i is than j, and
a[j][i] = 1 / a[i][j]. The weights are the principal eigenvector of the matrix, normalised
to sum to 1; λmax is its eigenvalue, CI = (λmax − n) / (n − 1) and CR = CI / RI with Saaty's
random index RI. A matrix with CR ≥ 0.10 is too inconsistent to use (docs/method.md).

Matrix files, YAML::

    items: [value, potential, risk, strategic]
    matrix:
      - [1, 2, 3, 4]
      - [1/2, 1, 2, 3]
      - [1/3, 1/2, 1, 2]
      - [1/4, 1/3, 1/2, 1]

or CSV, items in the header and the first column::

    ,value,potential,risk,strategic
    value,1,2,3,4
    potential,1/2,1,2,3
    ...
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np

# Saaty's random consistency index by matrix size (Saaty 1980).
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}
CR_LIMIT = 0.10
RECIPROCAL_TOLERANCE = 0.02  # a typed 0.33 for 1/3 is fine


class AhpError(ValueError):
    """The matrix cannot be used: malformed, or too inconsistent (CR ≥ 0.10)."""


@dataclass(frozen=True)
class AhpResult:
    items: tuple[str, ...]
    weights: tuple[float, ...]
    lambda_max: float
    consistency_index: float
    random_index: float
    consistency_ratio: float
    most_inconsistent: tuple[str, str, float] | None  # (i, j, a_ij · w_j / w_i) furthest from 1

    @property
    def is_consistent(self) -> bool:
        return self.consistency_ratio < CR_LIMIT

    def weights_pct(self, places: int = 2) -> dict[str, Decimal]:
        """Weights in %, rounded to ``places`` decimals and summing to exactly 100 (largest remainder)."""
        unit = Decimal(1).scaleb(-places)
        exact = [Decimal(repr(weight)) * 100 for weight in self.weights]
        rounded = [value.quantize(unit, rounding=ROUND_HALF_UP) for value in exact]
        shortfall = int(((Decimal(100) - sum(rounded)) / unit).to_integral_value())
        order = sorted(range(len(exact)), key=lambda i: exact[i] - rounded[i], reverse=shortfall > 0)
        for i in order[: abs(shortfall)]:
            rounded[i] += unit if shortfall > 0 else -unit
        return dict(zip(self.items, rounded, strict=True))


def _value(text: object, where: str) -> float:
    try:
        value = float(Fraction(str(text).strip()))
    except (ValueError, ZeroDivisionError):
        raise AhpError(f"{where}: {text!r} is not a number or a fraction like 1/3") from None
    if value <= 0:
        raise AhpError(f"{where}: {text!r} must be positive")
    return value


def read_matrix(path: Path) -> tuple[list[str], list[list[float]]]:
    """Items and matrix from a YAML or CSV file (see the module docstring)."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yml", ".yaml"):
        import yaml

        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict) or "items" not in data or "matrix" not in data:
            raise AhpError(f"{path}: expected the keys `items` and `matrix`")
        items = [str(item) for item in data["items"]]
        raw_rows = data["matrix"]
    else:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
        if not rows:
            raise AhpError(f"{path}: empty")
        items = [cell.strip() for cell in rows[0][1:]]
        row_items = [row[0].strip() for row in rows[1:]]
        if row_items != items:
            raise AhpError(
                f"{path}: the first column ({', '.join(row_items)}) must list "
                f"the header's items ({', '.join(items)}) in order"
            )
        raw_rows = [row[1:] for row in rows[1:]]
    matrix = []
    for i, row in enumerate(raw_rows):
        if len(row) != len(items):
            raise AhpError(
                f"{path}: row {i + 1} ({items[i] if i < len(items) else '?'}) "
                f"has {len(row)} values, expected {len(items)}"
            )
        matrix.append([_value(cell, f"{path} row {i + 1} column {j + 1}") for j, cell in enumerate(row)])
    if len(matrix) != len(items):
        raise AhpError(f"{path}: {len(matrix)} rows for {len(items)} items")
    return items, matrix


def compute(items: list[str], matrix: list[list[float]]) -> AhpResult:
    """Principal-eigenvector weights, λmax, CI and CR of a reciprocal comparison matrix."""
    n = len(items)
    if n < 2:
        raise AhpError("compare at least 2 items")
    if n > max(RANDOM_INDEX):
        raise AhpError(f"at most {max(RANDOM_INDEX)} items: Saaty's random index is not tabulated beyond")
    if len(set(items)) != n:
        raise AhpError("an item is listed twice")
    a = np.array(matrix, dtype=float)
    if a.shape != (n, n):
        raise AhpError(f"the matrix must be {n} x {n}")
    for i in range(n):
        if abs(a[i, i] - 1) > 1e-9:
            raise AhpError(f"the diagonal must be 1: {items[i]} vs itself is {a[i, i]:g}")
        for j in range(i + 1, n):
            if abs(a[i, j] * a[j, i] - 1) > RECIPROCAL_TOLERANCE:
                raise AhpError(
                    f"{items[i]} vs {items[j]} is {a[i, j]:g} but {items[j]} vs {items[i]} is {a[j, i]:g}; "
                    f"it must be the reciprocal, {1 / a[i, j]:g}"
                )
    eigenvalues, eigenvectors = np.linalg.eig(a)
    principal = int(np.argmax(eigenvalues.real))
    lambda_max = float(eigenvalues.real[principal])
    vector = np.abs(eigenvectors[:, principal].real)
    weights = vector / vector.sum()
    ci = (lambda_max - n) / (n - 1)
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri else 0.0
    # The judgement that disagrees most with the weights: a_ij against w_i / w_j.
    deviation = a * weights[np.newaxis, :] / weights[:, np.newaxis]
    i, j = np.unravel_index(np.argmax(np.abs(np.log(deviation))), deviation.shape)
    worst = (items[i], items[j], float(deviation[i, j])) if n > 2 else None
    return AhpResult(tuple(items), tuple(float(w) for w in weights), lambda_max, max(ci, 0.0), ri, max(cr, 0.0), worst)


def require_consistent(result: AhpResult) -> None:
    if not result.is_consistent:
        hint = ""
        if result.most_inconsistent:
            i, j, ratio = result.most_inconsistent
            hint = (
                f" The judgement furthest from the resulting weights is {i} vs {j} (off by a factor of "
                f"{max(ratio, 1 / ratio):.2g}); revisit it first."
            )
        raise AhpError(
            f"CR = {result.consistency_ratio:.4f} ≥ {CR_LIMIT:.2f}: the comparisons contradict each other too much "
            f"to derive weights (λmax = {result.lambda_max:.4f}, CI = {result.consistency_index:.4f}, "
            f"RI = {result.random_index}).{hint} No seed was written."
        )


def write_weights(result: AhpResult, seeds_dir: Path, rubric: str, dimension: str | None) -> Path:
    """Write the weights into the rubric seed: the dimension weights of ``rubric``, or, given
    ``dimension``, the weights of its indicators. The items must be exactly those rows."""
    require_consistent(result)
    if dimension is None:
        path, key_column, match = seeds_dir / "rubric_dimensions.csv", "dimension", lambda row: row["rubric"] == rubric
        what = f"the dimensions of rubric {rubric!r}"
    else:
        path, key_column = seeds_dir / "rubric_indicators.csv", "indicator"

        def match(row):
            return row["rubric"] == rubric and row["dimension"] == dimension

        what = f"the indicators of dimension {dimension!r} in rubric {rubric!r}"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fieldnames = list(reader.fieldnames or [])
        rows = list(reader)
    targets = {row[key_column]: row for row in rows if match(row)}
    if set(targets) != set(result.items):
        raise AhpError(
            f"the matrix compares {', '.join(result.items)}, but {what} in {path.name} are "
            f"{', '.join(sorted(targets)) or 'none'}; they must be the same set"
        )
    for item, weight in result.weights_pct().items():
        targets[item]["weight_pct"] = f"{weight.normalize():f}"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def format_result(result: AhpResult) -> str:
    lines = [f"{'item':<24} {'weight':>8} {'weight %':>9}"]
    for item, weight in zip(result.items, result.weights, strict=True):
        lines.append(f"{item:<24} {weight:>8.4f} {result.weights_pct()[item]:>9}")
    lines.append(
        f"λmax = {result.lambda_max:.4f}   CI = {result.consistency_index:.4f}   RI = {result.random_index}   "
        f"CR = {result.consistency_ratio:.4f} "
        f"({'consistent' if result.is_consistent else 'NOT consistent'}: limit < {CR_LIMIT:.2f})"
    )
    return "\n".join(lines)
