"""The growth benchmark's memory sampler: the peak of a process and its children, not of the benchmark itself."""

from __future__ import annotations

import subprocess
import sys

from accountwatch.benchmarks.growth import PeakMemory

HOLD_CHILD = (
    "import subprocess, sys\n"
    "subprocess.run([sys.executable, '-c', 'import time; block = b\"x\" * (300 * 2**20); time.sleep(3)'])\n"
)


def test_the_peak_counts_a_child_process_memory():
    parent = subprocess.Popen([sys.executable, "-c", HOLD_CHILD])
    with PeakMemory(parent.pid) as memory:
        parent.wait(timeout=120)
    assert memory.peak_mb >= 300


def test_a_process_that_ends_at_once_leaves_a_small_peak():
    quick = subprocess.Popen([sys.executable, "-c", "pass"])
    with PeakMemory(quick.pid) as memory:
        quick.wait(timeout=60)
    assert memory.peak_mb < 300
