"""Exporting a bundle in the evidence tests: the exporter, the clock and the parsed manifest."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from accountwatch.jobs.core.lake import Lake
from accountwatch.jobs.core.pii import pii_key_from_environment
from accountwatch.jobs.outputs.evidence import Bundle, Scope, export_bundle

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 8, 1, 9, 30, tzinfo=ZONE)
EXPORTER = "compliance.officer@example.org"


@dataclass
class Exported:
    """A bundle written by export_bundle and its parsed manifest."""

    bundle: Bundle
    folder: Path
    manifest: dict

    def rows(self, path: str) -> list[dict[str, str]]:
        with (self.folder / path).open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def data_files(self) -> list[str]:
        return [entry["path"] for entry in self.manifest["files"] if entry["path"] != "summary.html"]


def export(lake: Lake, settings, scope: Scope, folder: Path) -> Exported:
    bundle = export_bundle(lake, settings, scope, EXPORTER, folder, NOW, pii_key_from_environment())
    return Exported(bundle, folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
