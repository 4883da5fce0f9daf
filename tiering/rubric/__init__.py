"""The rubric as configuration: checks of the seed files before any model runs, and AHP
weights from pairwise comparison matrices."""
