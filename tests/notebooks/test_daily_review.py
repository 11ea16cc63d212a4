from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell
from pyspark.sql import functions as F

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "daily_review.ipynb"


def _with_parameters(notebook, **parameters):
    """The notebook with a cell setting `parameters` right after its `parameters` cell (papermill's convention)."""
    at = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    notebook.cells.insert(at + 1, new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    return notebook


def _outputs(cell) -> str:
    texts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        texts.append(data.get("text/html", "") + data.get("text/markdown", "") + data.get("text/plain", ""))
        texts.append(output.get("text", ""))
    return "\n".join(texts)


def test_daily_review_notebook_runs_against_a_lake_and_drills_into_the_top_finding(platform_run, tmp_path):
    truth, lake, _ = platform_run
    day = sorted(day for _, day in truth.bought_followers())[0]
    top = lake.read("findings").where(F.col("run_date") == day).orderBy(F.col("score").desc()).first()["account_id"]
    stored = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    assert all(not cell.get("outputs") for cell in code), "the notebook is committed without outputs"
    config = tmp_path / "accountwatch.toml"
    config.write_text('[spark]\nshuffle_partitions = 1\ndriver_memory = "1g"\n')
    notebook = _with_parameters(stored, lake_dir=str(lake.root), run_date=day.isoformat(), config_file=str(config))
    where = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources=where).execute()

    shown = "\n".join(_outputs(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert f"Reviewing **{day.isoformat()}**" in shown
    assert shown.count('class="chart daily-counts"') >= 6
    spikes = sum(1 for _, spike_day in truth.bought_followers() if spike_day == day)
    assert shown.count('class="chart followers"') == spikes
    assert "fake_follower_spike" in shown
    assert f"### {top}:" in shown
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output["output_type"] == "error"]
