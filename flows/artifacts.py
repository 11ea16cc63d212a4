"""What a run publishes to Prefect: its findings per detector as a table, and a markdown summary."""

from __future__ import annotations

from collections import Counter


def artifact_key(kind: str, what: str) -> str:
    """A Prefect artifact key (lowercase letters, digits and dashes); the same key keeps a history per kind."""
    return f"accountwatch-{kind}-{what}"


def findings_table(detect: dict) -> list[dict]:
    """One row per detector: the days it judged, its new findings and why any day was not judged."""
    rows = []
    for name, outcome in detect["detectors"].items():
        skipped = outcome["skipped"]
        rows.append(
            {
                "detector": name,
                "days judged": outcome["judged_days"],
                "new findings": outcome["findings"],
                "not judged": f"{len(skipped)} day(s): {next(iter(skipped.values()))}" if skipped else "",
            }
        )
    return rows


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def summary_markdown(kind: str, start: str, end: str, result: dict, checks: list[dict]) -> str:
    """The run in markdown: rows loaded and quarantined (by reason), data-quality results, findings, standing."""
    span = start if start == end else f"{start}..{end}"
    lines = [f"# accountwatch {kind} {span}", "", "## Ingest", ""]
    lines += ["| table | files | rows landed | rows loaded | quarantined | by reason |", "|---|---|---|---|---|---|"]
    for table, load in result["ingest"].items():
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(load["quarantined"].items())) or "-"
        quarantined = sum(load["quarantined"].values())
        lines.append(f"| {table} | {load['files']} | {load['landed']} | {load['loaded']} | {quarantined} | {reasons} |")
    failed = [check for check in checks if not check["success"]]
    suites = Counter(check["table_name"] for check in checks)
    lines += ["", "## Data quality", ""]
    lines.append(
        f"{len(checks)} expectations on {len(suites)} tables: {len(checks) - len(failed)} passed, {len(failed)} failed."
    )
    if failed:
        lines += ["", "| table | expectation | column | unexpected rows |", "|---|---|---|---|"]
        lines += [
            f"| {_cell(c['table_name'])} | {_cell(c['expectation'])} | {_cell(c['column_name'] or '')} | "
            f"{c['unexpected_rows']} |"
            for c in failed
        ]
    detect = result["detect"]
    total = sum(outcome["findings"] for outcome in detect["detectors"].values())
    lines += ["", "## Findings", "", f"{total} new findings:", ""]
    lines += [
        f"- `{name}`: {outcome['findings']}" for name, outcome in detect["detectors"].items() if outcome["findings"]
    ]
    standing = detect["standing"]
    tiers = ", ".join(f"{tier} {count}" for tier, count in sorted(standing["current_tiers"].items())) or "-"
    lines += [
        "",
        "## Blacklist and tiers",
        "",
        f"- listed: {len(standing['listed'])}, lifted: {len(standing['lifted'])}",
        f"- current tiers: {tiers} ({standing['tier_rows']} tier rows written)",
        f"- findings not raised again after a dismissal: {standing['suppressed']}",
    ]
    return "\n".join(lines) + "\n"
