"""AHP weights, λmax, CI and CR against matrices whose answers are known, and the command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tiering.cli import main
from tiering.rubric.ahp import AhpError, compute, read_matrix, require_consistent, write_weights
from tiering.rubric.checks import SEEDS_DIR, check_rubric


def test_a_perfectly_consistent_matrix_gives_its_weights_exactly_and_cr_0():
    weights = [0.5, 0.3, 0.2]
    matrix = [[wi / wj for wj in weights] for wi in weights]
    result = compute(["a", "b", "c"], matrix)
    assert result.weights == pytest.approx(weights, abs=1e-12)
    assert result.lambda_max == pytest.approx(3.0, abs=1e-12)
    assert result.consistency_ratio == pytest.approx(0.0, abs=1e-12)


def test_the_textbook_1_2_3_matrix_gives_54_30_16_percent_and_cr_0_008():
    # A standard teaching example: weights 0.540, 0.297, 0.163; λmax 3.009; CR 0.008.
    result = compute(["a", "b", "c"], [[1, 2, 3], [1 / 2, 1, 2], [1 / 3, 1 / 2, 1]])
    assert result.weights == pytest.approx([0.5396, 0.2970, 0.1634], abs=5e-5)
    assert result.lambda_max == pytest.approx(3.0092, abs=5e-5)
    assert result.consistency_index == pytest.approx(0.0046, abs=5e-5)
    assert result.random_index == 0.58
    assert result.consistency_ratio == pytest.approx(0.0079, abs=5e-5)


def test_lambda_max_of_a_3x3_matrix_follows_the_closed_form():
    # For a reciprocal 3 x 3 matrix λmax = 1 + r^(1/3) + r^(-1/3), r = a13 / (a12 a23).
    a12, a13, a23 = 3.0, 5.0, 3.0
    result = compute(["a", "b", "c"], [[1, a12, a13], [1 / a12, 1, a23], [1 / a13, 1 / a23, 1]])
    r = a13 / (a12 * a23)
    assert result.lambda_max == pytest.approx(1 + r ** (1 / 3) + r ** (-1 / 3), abs=1e-9)
    assert result.consistency_ratio == pytest.approx((result.lambda_max - 3) / 2 / 0.58, abs=1e-12)


def test_a_cyclic_matrix_is_refused_with_cr_and_the_worst_judgement_named():
    result = compute(["value", "potential", "risk"], [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]])
    assert result.lambda_max == pytest.approx(1 + 9 + 1 / 9, abs=1e-9)
    with pytest.raises(AhpError, match=r"CR = 6\.13\d* ≥ 0\.10.*No seed was written"):
        require_consistent(result)


def test_weights_in_percent_sum_to_exactly_100():
    result = compute(["a", "b", "c"], [[1, 1, 1], [1, 1, 1], [1, 1, 1]])
    assert sum(result.weights_pct().values()) == 100


def test_a_non_reciprocal_matrix_is_refused():
    with pytest.raises(AhpError, match="must be the reciprocal"):
        compute(["a", "b"], [[1, 3], [3, 1]])


def test_yaml_and_csv_matrices_read_alike(tmp_path):
    (tmp_path / "m.yml").write_text(
        "items: [a, b, c]\nmatrix:\n  - [1, 2, 3]\n  - [1/2, 1, 2]\n  - [1/3, 1/2, 1]\n", encoding="utf-8"
    )
    (tmp_path / "m.csv").write_text(",a,b,c\na,1,2,3\nb,1/2,1,2\nc,1/3,1/2,1\n", encoding="utf-8")
    assert read_matrix(tmp_path / "m.yml") == read_matrix(tmp_path / "m.csv")


@pytest.fixture
def seeds(tmp_path) -> Path:
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, copy)
    return copy


def test_the_command_writes_the_dimension_weights_and_the_rubric_stays_valid(seeds, tmp_path, capsys):
    matrix = tmp_path / "dimensions.yml"
    matrix.write_text(
        "items: [value, potential, risk, strategic]\n"
        "matrix:\n  - [1, 2, 2, 3]\n  - [1/2, 1, 2, 3]\n  - [1/2, 1/2, 1, 2]\n  - [1/3, 1/3, 1/2, 1]\n",
        encoding="utf-8",
    )
    assert main(["ahp", str(matrix), "--seeds-dir", str(seeds)]) == 0
    assert "CR = 0.0263" in capsys.readouterr().out
    lines = (seeds / "rubric_dimensions.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1:5] == [
        "default,value,客户价值,Customer value,41.55",
        "default,potential,客户潜力,Customer potential,29.26",
        "default,risk,客户风险,Customer risk,18.49",
        "default,strategic,客户战略,Strategic importance,10.7",
    ]
    assert check_rubric(seeds, "default") == []


def test_the_command_refuses_an_inconsistent_matrix_and_writes_nothing(seeds, tmp_path, capsys):
    matrix = tmp_path / "value.csv"
    matrix.write_text(
        ",annual_spend,profit_margin,cooperation_years,cross_purchase_rate\n"
        "annual_spend,1,9,1/9,1\nprofit_margin,1/9,1,9,1\ncooperation_years,9,1/9,1,1\ncross_purchase_rate,1,1,1,1\n",
        encoding="utf-8",
    )
    before = (seeds / "rubric_indicators.csv").read_bytes()
    assert main(["ahp", str(matrix), "--dimension", "value", "--seeds-dir", str(seeds)]) == 1
    assert "≥ 0.10" in capsys.readouterr().err
    assert (seeds / "rubric_indicators.csv").read_bytes() == before


def test_indicator_weights_are_written_only_when_the_items_are_the_dimensions_indicators(seeds):
    result = compute(["annual_spend", "profit_margin"], [[1, 2], [1 / 2, 1]])
    with pytest.raises(AhpError, match="must be the same set"):
        write_weights(result, seeds, "default", "value")
