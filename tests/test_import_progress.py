"""`tandem import` on a terminal: a progress line (done of total, rate, time left, rejected so
far) redrawn in place, nothing when the output is not a terminal; a folder is walked; the
summary counts every message once."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from server.actions.ingest import ImportResult
from server.cli_progress import Counts, ProgressLine, progress_line
from tests.fixtures.cli import run_main
from tests.fixtures.mail import ORDER, OTHER, REPLY, mbox


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("counts", "total", "elapsed", "line"),
    [
        (
            Counts(0, 0, 0),
            10_000,
            0.0,
            "0/10,000 messages (0%), 0/s · 0 imported, 0 duplicates, 0 rejected",
        ),
        (
            Counts(2_900, 80, 20),
            10_000,
            20.0,
            "3,000/10,000 messages (30%), 150/s, 47 s left · 2,900 imported, 80 duplicates,"
            " 20 rejected",
        ),
        (
            Counts(1_000, 0, 0),
            100_000,
            10.0,
            "1,000/100,000 messages (1%), 100/s, 16 min 30 s left · 1,000 imported,"
            " 0 duplicates, 0 rejected",
        ),
        (
            Counts(10, 0, 0),
            1_000_000,
            10.0,
            "10/1,000,000 messages (0%), 1/s, 277 h 46 min left · 10 imported, 0 duplicates,"
            " 0 rejected",
        ),
    ],
)
def test_progress_line(counts: Counts, total: int, elapsed: float, line: str) -> None:
    assert progress_line(counts, total, elapsed) == line


def test_the_line_is_redrawn_in_place_across_files_and_ended() -> None:
    out = Terminal()
    progress = ProgressLine(4, out)
    first = ImportResult(total=2, imported=1, rejected=1)
    progress(first)
    progress.finished(first)
    progress(ImportResult(total=2, imported=1, duplicates=1))  # the last message: drawn
    progress.close()
    frames = out.getvalue().split("\r")[1:]
    assert frames[-1].startswith("4/4 messages (100%)") and frames[-1].endswith("\n")
    assert "2 imported, 1 duplicates, 1 rejected" in frames[-1]
    quiet = io.StringIO()
    silent = ProgressLine(4, quiet)
    silent(first)
    silent.close()
    assert quiet.getvalue() == ""


def test_tandem_import_walks_a_folder_and_counts_each_message_once(
    in_process: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (
        ("org", "create", "Acme"),
        ("user", "create", "owner@acme.test", "--org", "Acme"),
        ("account", "create", "Acme", "support@acme.test", "--owner", "owner@acme.test"),
    ):
        assert run_main(capsys, *args)[0] == 0
    folder = in_process / "export"
    (folder / "cur").mkdir(parents=True)
    (folder / "cur" / "1.eml").write_bytes(ORDER)
    (folder / "cur" / "2.eml").write_bytes(b"\x00 not mail")
    (folder / "archive.mbox").write_bytes(mbox(REPLY, OTHER, ORDER))
    status, out, err = run_main(capsys, "import", "support@acme.test", str(folder), "--json")
    assert status == 0, err
    summary = json.loads(out)
    assert (summary["total"], summary["imported"], summary["duplicates"]) == (5, 3, 1)
    assert summary["rejected"] == 1 and len(summary["rejected_ids"]) == 1
    assert summary["errors"] == [
        "2.eml: message 1: not an email: no headers found"
        " (first line is b'\\x00 not mail', expected 'Name: value')"
    ]
    assert len(summary["conversations"]) == 2
    missing = run_main(capsys, "import", "support@acme.test", str(in_process / "nope"))
    assert missing[0] == 1 and "no such file or folder" in missing[2]
