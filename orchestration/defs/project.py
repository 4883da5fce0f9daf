"""The one handle on the dbt project."""

from pathlib import Path

from dagster_dbt import DbtProject

REPO_ROOT = Path(__file__).resolve().parents[2]

dbt_project = DbtProject(project_dir=REPO_ROOT / "dbt_project", profiles_dir=REPO_ROOT / "dbt_project")
# `dagster dev` re-parses the project on start, so edited models show without a manual step.
dbt_project.prepare_if_dev()
