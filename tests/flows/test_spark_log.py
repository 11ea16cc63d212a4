"""A command keeps the JVM's own output (log4j lines, Java warnings) in a log file under the lake."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from accountwatch.flows.runtime import SPARK_LOG
from accountwatch.jobs.core.lake import TABLES, local_rows

BIN = Path(sys.executable).parent


def test_the_terminal_shows_accountwatch_lines_and_the_jvm_output_goes_to_the_lake_log(spark, lake, tmp_path):
    loaded = [("engagement", date(2026, 3, 1), 1, 10, 10, 0)]
    lake.replace("loaded_days", local_rows(spark, loaded, TABLES["loaded_days"].schema), "true")
    lake.replace("detector_runs", local_rows(spark, [], TABLES["detector_runs"].schema), "true")
    done = subprocess.run(
        [str(BIN / "accountwatch"), "status", "--lake", str(lake.root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "engagement" in done.stdout and "writer lock: free" in done.stdout
    shown = done.stdout + done.stderr
    assert "log4j" not in shown and "WARN" not in shown
    log = (Path(lake.root) / SPARK_LOG).read_text()
    assert "log4j" in log
