"""The command line's CSV output shows formula-like values as text; its JSON output keeps them as they are."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

from typer.testing import CliRunner

from accountwatch.flows.cli import BLACKLIST_COLUMNS, OutputFormat, _emit, app
from accountwatch.jobs.outputs.csvsafe import original_value
from accountwatch.schemas.findings import FINDINGS

PAYLOAD = "=cmd|' /C calc'!A0"
DAY = date(2026, 3, 1)


def test_findings_csv_marks_a_formula_account_id_and_keeps_numbers_and_json_output_as_they_are(spark, lake):
    evidence = json.dumps({"subject_id": "@s_1", "rank": 3, "limit": 2, "z": -3.5})
    finding = ("f1", DAY, "quota_overrun", PAYLOAD, "@s_1", "high", -3.5, evidence, "v1", "-restrict", "k1")
    spark.createDataFrame([finding], FINDINGS).write.format("delta").save(lake.path("findings"))
    arguments = ["findings", "--date", DAY.isoformat(), "--lake", str(lake.root), "--format"]

    as_csv = CliRunner().invoke(app, [*arguments, "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.stdout.splitlines()[1] == (
        f"f1,2026-03-01,quota_overrun,'{PAYLOAD},'@s_1,high,-3.5,"
        '"{""subject_id"": ""@s_1"", ""rank"": 3, ""limit"": 2, ""z"": -3.5}",v1,\'-restrict,k1'
    )
    [row] = csv.DictReader(io.StringIO(as_csv.stdout))
    assert {column: original_value(value) for column, value in row.items()} == {
        "finding_id": "f1",
        "run_date": "2026-03-01",
        "detector": "quota_overrun",
        "account_id": PAYLOAD,
        "subject_id": "@s_1",
        "severity": "high",
        "score": "-3.5",
        "evidence": evidence,
        "rule_version": "v1",
        "recommended_action": "-restrict",
        "evidence_key": "k1",
    }

    as_json = CliRunner().invoke(app, [*arguments, "json"])
    assert as_json.exit_code == 0, as_json.output
    [item] = json.loads(as_json.stdout)
    assert (item["account_id"], item["subject_id"], item["score"]) == (PAYLOAD, "@s_1", -3.5)


def test_tiers_and_blacklist_csv_mark_formula_cells_and_keep_lists_dates_and_flags(capsys):
    entry = {
        "entity_type": "account",
        "entity_id": PAYLOAD,
        "status": "active",
        "listed_on": DAY,
        "reason": "+1 finding",
        "finding_ids": ["f1", "f2"],
        "changed_by": "accountwatch",
        "changed_at": datetime(2026, 3, 1, 2, 0),
        "change_reason": None,
        "rule_version": "v1",
        "entry_id": "e1",
        "is_current": True,
    }
    _emit([entry], BLACKLIST_COLUMNS, ("entity_id",), "Blacklist", OutputFormat.csv)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (
        f'account,\'{PAYLOAD},active,2026-03-01,\'+1 finding,"[""f1"", ""f2""]",accountwatch,'
        "2026-03-01T02:00:00,,v1,e1,True"
    )

    _emit([entry], BLACKLIST_COLUMNS, ("entity_id",), "Blacklist", OutputFormat.json)
    [item] = json.loads(capsys.readouterr().out)
    assert (item["entity_id"], item["reason"], item["finding_ids"]) == (PAYLOAD, "+1 finding", ["f1", "f2"])
