from __future__ import annotations

import pytest

from accountwatch.flows.cli import DEMO_MARKER, _pii_key
from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, MissingPiiKeyError


def test_a_demo_lake_without_the_key_variable_uses_the_demos_local_key(tmp_path, monkeypatch):
    monkeypatch.delenv(PII_KEY_VARIABLE)
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / DEMO_MARKER).write_text("demo")
    (tmp_path / "demo-pii.key").write_text("demo-key-0123456789abcdef\n")
    assert _pii_key(lake) == b"demo-key-0123456789abcdef"


def test_any_other_lake_without_the_key_variable_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(PII_KEY_VARIABLE)
    lake = tmp_path / "lake"
    lake.mkdir()
    (tmp_path / "demo-pii.key").write_text("demo-key-0123456789abcdef\n")
    with pytest.raises(MissingPiiKeyError, match=PII_KEY_VARIABLE):
        _pii_key(lake)


def test_the_key_variable_wins_over_a_demo_key(tmp_path, monkeypatch):
    monkeypatch.setenv(PII_KEY_VARIABLE, "operator-key-0123456789")
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / DEMO_MARKER).write_text("demo")
    (tmp_path / "demo-pii.key").write_text("demo-key-0123456789abcdef\n")
    assert _pii_key(lake) == b"operator-key-0123456789"
