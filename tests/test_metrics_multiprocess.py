"""prometheus-client's multiprocess mode as compose runs it: every container runs `addon` as PID 1
(ENTRYPOINT ["addon"]) and all share one PROMETHEUS_MULTIPROC_DIR (the `metrics` volume). Each
process here is a real one, given PID 1 and its container's host name; the test process scrapes
the directory as the web service's `/metrics` does. And a directory that cannot take the
metrics stops `addon` at start, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addon import metrics
from addon.cli import cli
from tests.test_metrics import scraped

ROOT = Path(__file__).resolve().parent.parent
JOBS = ("saleor_mailchimp_jobs_total", (("kind", "test.shared"), ("outcome", "done")))
IN_FLIGHT = ("saleor_mailchimp_mailchimp_requests_in_flight", (("account", "acc"),))

# One container's `addon`: its values made (their files opened) at start, then a count (a job
# ended, a Mailchimp request in flight) on "count", and an exit on "exit" (atexit runs) or
# "kill" (it does not: SIGKILL, out of memory).
CONTAINER = """
import os, socket, sys
host, pid = sys.argv[1], int(sys.argv[2])
os.getpid = lambda: pid  # before prometheus-client is imported: its default identifier
socket.gethostname = lambda: host
from addon import metrics
job = metrics.JOBS.labels("test.shared", "done")
in_flight = metrics.MAILCHIMP_IN_FLIGHT.labels("acc")
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "count":
        job.inc()
        in_flight.inc()
    elif line.strip() == "kill":
        os._exit(0)
    elif line.strip() == "exit":
        break
    print("done", flush=True)
"""


class Container:
    def __init__(self, directory: Path, host: str, pid: int = 1) -> None:
        environment = {
            **os.environ,
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
            "PYTHONPATH": str(ROOT),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", CONTAINER, host, str(pid)],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.expect("ready")

    def expect(self, line: str) -> None:
        assert self.process.stdout is not None
        got = self.process.stdout.readline().strip()
        assert got == line, f"the process said {got!r} (exit code {self.process.poll()})"

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def count(self) -> None:
        self.send("count")
        self.expect("done")

    def end(self, how: str = "exit") -> None:
        self.send(how)
        assert self.process.wait(timeout=60) == 0

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared directory, which `metrics.render` here reads as a web process's would."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return tmp_path


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return scraped(metrics.render().decode())


def test_containers_all_pid_1_add_up(directory: Path) -> None:
    web, worker = Container(directory, "web"), Container(directory, "worker")
    try:
        web.count()
        worker.count()
        assert scrape()[JOBS] == 2 and scrape()[IN_FLIGHT] == 2
        assert {"counter_web-1.db", "counter_worker-1.db"} <= set(os.listdir(directory))

        # The worker's container stops: its jobs stay counted, its requests are no longer in
        # flight, and the web process's still are.
        worker.end()
        assert scrape()[JOBS] == 2 and scrape()[IN_FLIGHT] == 1
        web.end()
        assert scrape()[JOBS] == 2 and scrape().get(IN_FLIGHT, 0) == 0
    finally:
        web.close()
        worker.close()


def test_a_restarted_container_drops_its_last_in_flight_count_and_counts_on(
    directory: Path,
) -> None:
    """A container killed outright could not take its in-flight gauge away; restarted (same host
    name, PID 1 again), its new process does, and counts on from its counters."""
    first = Container(directory, "web")
    first.count()
    first.end("kill")
    assert scrape()[IN_FLIGHT] == 1  # nobody can know it died
    again = Container(directory, "web")
    try:
        assert scrape()[JOBS] == 1 and scrape().get(IN_FLIGHT, 0) == 0
        again.count()
        assert scrape()[JOBS] == 2 and scrape()[IN_FLIGHT] == 1
    finally:
        again.close()


def test_the_process_identifier_is_host_and_pid() -> None:
    identifier = metrics.process_identifier()
    assert identifier.endswith(f"-{os.getpid()}") and "_" not in identifier


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["migrate"], ["sync", "-c", "x"]])
def test_a_missing_or_unwritable_directory_stops_addon_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """Else every Mailchimp request, webhook and job outcome would raise FileNotFoundError."""
    monkeypatch.chdir(tmp_path)  # no developer .env

    def started(*_: object) -> None:
        raise AssertionError("started past the checks")

    monkeypatch.setattr("addon.cli.configure_logging", started)  # the next step of a start
    missing = tmp_path / "no-such-directory"
    result = CliRunner().invoke(cli, command, env={"PROMETHEUS_MULTIPROC_DIR": str(missing)})
    assert result.exit_code == 2, result.output
    said = "".join(result.output.split())  # the console wraps long lines anywhere
    assert f"PROMETHEUS_MULTIPROC_DIR={missing}doesnotexist" in said


def test_the_directory_is_checked_for_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert metrics.multiprocess_dir_problem() is None
    monkeypatch.setattr("tempfile.TemporaryFile", _refused)
    assert "is not writable by this process (Permission denied)" in str(
        metrics.multiprocess_dir_problem()
    )
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    assert metrics.multiprocess_dir_problem() is None  # each process counts for itself


def _refused(*_: object, **__: object) -> None:
    raise PermissionError(13, "Permission denied")  # what a read-only or foreign directory says
