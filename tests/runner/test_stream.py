"""tfprocess._stream: how the child's pipes are read (real child processes, no Terraform needed)."""

from __future__ import annotations

import subprocess
import sys
import time

from mlfargate.terraform import process as tfprocess


def _child(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )


def test_lines_split_across_writes_and_multibyte_characters_survive() -> None:
    # "é" is two bytes; the first write ends between them, and a 300 kB line spans many reads.
    code = (
        "import os, sys, time\n"
        "w = lambda b: (os.write(1, b), time.sleep(0.02))\n"
        "w(b'{\"a\": \"caf\\xc3'); w(b'\\xa9\"}\\nsecond'); w(b' line\\n' + b'x' * 300000 + b'\\n'); w(b'tail')\n"
    )
    err: list[bytes] = []
    lines = list(tfprocess._stream(_child(code), err))
    assert lines == ['{"a": "café"}\n', "second line\n", "x" * 300000 + "\n", "tail"]
    assert err == []


def test_stderr_larger_than_a_pipe_buffer_does_not_block_stdout() -> None:
    # 1 MiB on stderr before the first stdout line: a reader that only read stdout would deadlock.
    code = "import sys\nsys.stderr.write('e' * (1 << 20)); sys.stderr.flush()\nprint('done')\n"
    err: list[bytes] = []
    proc = _child(code)
    assert list(tfprocess._stream(proc, err)) == ["done\n"]
    assert b"".join(err) == b"e" * (1 << 20)
    assert proc.wait(timeout=30) == 0


def test_each_line_is_delivered_while_the_child_still_runs() -> None:
    code = "import time\nprint('first', flush=True)\ntime.sleep(1.5)\nprint('second', flush=True)\n"
    err: list[bytes] = []
    started = time.monotonic()
    arrivals = [(line, time.monotonic() - started) for line in tfprocess._stream(_child(code), err)]
    assert [line for line, _ in arrivals] == ["first\n", "second\n"]
    assert arrivals[1][1] - arrivals[0][1] >= 1.0  # the first line did not wait for the child to exit
