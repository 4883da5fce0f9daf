"""Notifiers: the file notifier records each downgrade once; custom notifiers load by name."""

from pathlib import Path

import pytest

from tiering.publish.alerts import Downgrade, FileNotifier, LogNotifier, load_notifier

DOWNGRADE = Downgrade("C1", "某公司", "2026-02-15", "strategic", "key", "spend_trigger", 97.5, 89.5, None, "王芳")


class RecordingNotifier:
    received: list = []

    def __init__(self, serving_dir: Path) -> None:
        self.serving_dir = serving_dir

    def notify(self, downgrades):
        RecordingNotifier.received.extend(downgrades)


def test_the_file_notifier_records_a_downgrade_once(tmp_path):
    notifier = FileNotifier(tmp_path)
    notifier.notify([DOWNGRADE])
    notifier.notify([DOWNGRADE])
    lines = (tmp_path / "alerts" / "downgrades.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and '"to_tier": "key"' in lines[0]


def test_notifiers_are_chosen_by_name_or_import_path(tmp_path):
    assert isinstance(load_notifier("file", tmp_path), FileNotifier)
    assert isinstance(load_notifier("log", tmp_path), LogNotifier)
    custom = load_notifier("tests.test_alerts:RecordingNotifier", tmp_path)
    custom.notify([DOWNGRADE])
    assert RecordingNotifier.received == [DOWNGRADE]


def test_an_unknown_notifier_setting_is_refused(tmp_path):
    with pytest.raises(ValueError, match="TIERING_NOTIFIER"):
        load_notifier("email", tmp_path)
