"""Landing progress: the landing asset logs files done / files to do every few seconds for
`warehouse run` (from landing's optional `progress` callback, when landing offers it)."""

from __future__ import annotations

from pipelines.defs.landing import LandingProgress
from pipelines.runlog import parse_progress, progress_message


class _Log:
    def __init__(self):
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


def test_the_asset_logs_progress_every_few_seconds_not_per_file():
    now = [0.0]
    log = _Log()
    progress = LandingProgress(log, every_s=5.0, clock=lambda: now[0])
    for done in range(0, 1001):
        now[0] = done * 0.02  # 50 files a second: 20 s in all
        progress(done, 1000)
    parsed = [parse_progress(line) for line in log.lines]
    assert [p[1] for p in parsed] == [0, 250, 500, 750, 1000]
    assert all(p[0] == "landing" and p[2] == 1000 and p[3] == "files" for p in parsed)
    assert parse_progress(progress_message("landing", 3, 9, "files")) == ("landing", 3, 9,
                                                                          "files")
