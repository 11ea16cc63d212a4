"""The cluster check's reading of the master's status (the cluster itself runs in `make cluster-test`)."""

from __future__ import annotations

from accountwatch.benchmarks.cluster import _finished_applications


class _Master:
    """A master that moves the last application to the finished ones only at its second status."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.read = 0

    def status(self) -> dict:
        count = self.statuses[min(self.read, len(self.statuses) - 1)]
        self.read += 1
        return {"completedapps": [{"name": "accountwatch"} for _ in range(count)]}


def test_the_finished_applications_are_read_again_until_the_master_lists_every_run():
    master = _Master([2, 3])
    assert _finished_applications(master, expected=3) == ["accountwatch"] * 3  # type: ignore[arg-type]
    assert master.read == 2


def test_a_master_that_never_lists_every_run_gives_what_it_lists_after_the_wait():
    master = _Master([2])
    assert _finished_applications(master, expected=3, wait_seconds=0.0) == ["accountwatch"] * 2  # type: ignore[arg-type]
