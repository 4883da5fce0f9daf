"""`make bench`: the nightly job timed at a scale, beside baselines that compute the value
dimension the simple way."""
