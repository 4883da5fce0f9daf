"""After the publish step succeeds, alert on every downgrade of a strategic or key customer."""

import os

import dagster as dg

from tiering import settings
from tiering.publish import alerts

PUBLISH_STEP = "serving__tiering"


@dg.success_hook(name="downgrade_alerts")
def downgrade_alerts(context: dg.HookContext) -> None:
    if context.op.name != PUBLISH_STEP:
        return
    config = settings.load()
    downgrades = alerts.find_downgrades(config.serving_path, config.as_of.isoformat())
    notifier = alerts.load_notifier(os.environ.get("TIERING_NOTIFIER", "file"), config.serving_dir)
    notifier.notify(downgrades)
    context.log.info(f"{len(downgrades)} downgrade(s) of strategic or key customers on {config.as_of}")
