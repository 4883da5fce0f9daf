"""Who owns the assets, and the tags the asset graph is filtered by."""

# Dagster shows owners on every asset; a team, so that an alert reaches whoever is on duty.
OWNERS = ["team:data-engineering"]
