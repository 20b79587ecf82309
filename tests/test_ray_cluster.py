"""``voiceskin distill ... --ray`` on a real two-node Ray cluster on this
machine (issue 19).

Each test starts a head node and one worker node (``ray start``, 127.0.0.1,
one CPU each, a private temp dir) and stops them afterwards (``ray stop
--force``, also on failure). Two tiny voices × two tiers (a few training
steps) are distilled through the real CLI in a child process:

* through ``--ray auto`` (RAY_ADDRESS names the cluster): checkpoints, QA,
  report and bundles come back to the output folder, work ran on both
  nodes, and the students and bundles are bit-identical to the local
  ``-j 2`` run's; a rerun skips every tier and the QA;
* through ``--ray HOST:PORT`` while the worker node's raylet and its
  training process are killed mid-training: Ray retries the task on the
  head, the job completes, and the retried students are still identical to
  the local run's.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from small_voice import small_voice

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
RAY = str(Path(sys.executable).with_name("ray"))

STEPS = 40          # enough training for the kill to land mid-run; a few seconds per tier
TIERS = ("low", "medium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _voice(tmp: Path, vid: str, target: str, inputs: dict[str, int], held: str) -> Path:
    return small_voice(tmp / vid, vid, target, inputs, 2, display_name=f"Tiny {vid}",
                       corpus={"heldout_speakers": [held]},
                       training={"steps": STEPS, "batch_size": 2, "segment_seconds": 0.3,
                                 "learning_rate": 0.003, "device": "cpu"},
                       tiers=TIERS)


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two tiny voices: slt from three input people, awb (a male target)
    from three others; the target is never an input."""
    tmp = tmp_path_factory.mktemp("voices")
    return [_voice(tmp, "tiny.slt", "slt", {"kal": 1, "esp_gb_f2": 1, "rms": 1}, "rms"),
            _voice(tmp, "tiny.awb", "awb", {"ked": 1, "esp_us_m3": 1, "fi_mv": 1}, "fi_mv")]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    # a loopback-only test cluster: no token auth (Ray >= 2.5x turns it on when
    # ~/.ray/auth_token exists, which a plain local ray.init() writes)
    env["RAY_AUTH_MODE"] = "disabled"
    env.update(extra)
    return env


def _cli(args: list[str], env: dict[str, str] | None = None, timeout: float = 900
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "voiceskin_tooling.cli", *args], cwd=ROOT, env=env or _env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def local_run(voices: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: the same voices distilled locally (-j 2, no Ray)."""
    out = tmp_path_factory.mktemp("local")
    r = _cli(["distill", *map(str, voices), "-o", str(out), "-j", "2", "-q", "--no-qa"])
    assert r.returncode == 0, r.stdout + r.stderr
    return out


class Cluster:
    def __init__(self) -> None:
        self.port = _free_port()
        self.worker_nm_port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp = tempfile.mkdtemp(prefix="vskray", dir="/tmp")  # short: unix socket paths
        self.env = _env(RAY_TMPDIR=self.temp)

    def start(self) -> None:
        common = ["--num-cpus", "1", "--num-gpus", "0", "--object-store-memory", str(150 * 2 ** 20),
                  "--disable-usage-stats"]
        self._run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port",
                   str(self.port), "--temp-dir", self.temp, "--include-dashboard", "false",
                   "--dashboard-port", str(_free_port()), *common])
        self._run([RAY, "start", "--address", self.address, "--node-ip-address", "127.0.0.1",
                   "--node-manager-port", str(self.worker_nm_port), *common])

    def _run(self, cmd: list[str]) -> None:
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"

    def pids(self) -> set[int]:
        """This cluster's processes: those naming its temp dir (GCS, raylets,
        monitors) and everything they started (workers, agents)."""
        pids = {pid for pid, cmd in _processes() if self.temp in cmd}
        todo = list(pids)
        while todo:
            new = set(_children(todo.pop())) - pids
            pids |= new
            todo += new
        return pids

    def stop(self) -> None:
        """Ends this cluster's processes by PID (``ray stop --force`` would
        end every Ray process of this user on the machine, not only ours)."""
        pids = self.pids()
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            end = time.time() + wait
            while time.time() < end and any(Path(f"/proc/{p}").exists() and not _zombie(p) for p in pids):
                time.sleep(0.2)
        left = [p for p in pids if Path(f"/proc/{p}").exists() and not _zombie(p)]
        shutil.rmtree(self.temp, ignore_errors=True)
        assert not left, f"Ray processes still running after SIGKILL: {left}"

    def worker_raylet(self) -> int | None:
        """PID of the worker node's raylet (found by its node-manager port)."""
        for pid, cmd in _processes():
            if "raylet" in cmd.split(" ", 1)[0] and f"--node_manager_port={self.worker_nm_port}" in cmd:
                return pid
        return None


def _processes() -> Iterator[tuple[int, str]]:
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        yield int(d.name), cmd


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()


def _students(out: Path, vid: str) -> dict[str, Any]:
    from voiceskin_tooling.distill import load_student

    return {t: load_student(out / vid / "tiers" / f"{t}.pt")[0] for t in TIERS}


def _assert_same_students(a: Path, b: Path, voices: list[Path]) -> None:
    """Same cache contents, same weights, bit-identical bundles (without the
    QA/provenance section, which holds timings)."""
    import torch

    from voiceskin_tooling.distill import load_cache
    from voiceskin_tooling.pack import bundle_bytes
    from voiceskin_tooling.voicedef import load_voice

    for toml in voices:
        v = load_voice(toml)
        ca = sorted((a / v.id / "cache").glob("master-*.pt"))
        cb = sorted((b / v.id / "cache").glob("master-*.pt"))
        # one cache each (its key names the corpus folder, which lives under each run's -o)
        assert len(ca) == len(cb) == 1
        ua, ub = load_cache(ca[0])["utts"], load_cache(cb[0])["utts"]
        assert [u["path"] for u in ua] == [u["path"] for u in ub]
        for x, y in zip(ua, ub):
            for k in ("input", "master", "f0", "voicing"):
                assert torch.equal(x[k], y[k]), (v.id, x["path"], k)
        sa, sb = _students(a, v.id), _students(b, v.id)
        for t in TIERS:
            da, db = sa[t].state_dict(), sb[t].state_dict()
            assert da.keys() == db.keys()
            for k in da:
                assert torch.equal(da[k], db[k]), (v.id, t, k)
        assert bundle_bytes(v, sa) == bundle_bytes(v, sb)


def test_ray_distill_two_voices_matches_local(cluster: Cluster, voices: list[Path], local_run: Path,
                                              tmp_path: Path) -> None:
    from voiceskin.format import read_bundle, write_bundle

    from voiceskin_tooling.pack import bundle_bytes
    from voiceskin_tooling.voicedef import load_voice

    out = tmp_path / "out"
    env = dict(cluster.env, RAY_ADDRESS=cluster.address)
    t0 = time.time()
    r = _cli(["distill", *map(str, voices), "-o", str(out), "-q", "--no-fail", "--ray", "auto"], env)
    assert r.returncode == 0, r.stdout + r.stderr[-5000:]
    first_s = time.time() - t0
    assert "Ray cluster: 2 node(s), 2 CPU(s)" in r.stderr

    nodes: set[str] = set()
    for toml in voices:
        v = load_voice(toml)
        vd = out / v.id
        dist = json.loads((vd / "distill.json").read_text())
        assert dist["ray"]["trained"] == list(TIERS) and dist["ray"]["skipped"] == []
        nodes |= set(dist["ray"]["convert_nodes"]) | {dist["training"][t]["ray"]["node"] for t in TIERS}
        assert dist["training"]["low"]["steps"] == STEPS
        qa = json.loads((vd / "qa.json").read_text())
        for t in TIERS:
            s = qa["tiers"][t]["heldout"]
            assert s["utterances"] >= 1 and np.isfinite(s["logmel_ratio"])
        assert (vd / "report.html").is_file() and list((vd / "examples").glob("*.wav"))
        # the bundle the Ray run packed: its tiers are the local run's, bit for bit
        spec = read_bundle((vd / f"{v.id}-{v.version}.vskin").read_bytes())
        assert spec.qa is not None and spec.qa["tiers"].keys() == set(TIERS)
        spec.qa = None
        assert write_bundle(spec) == bundle_bytes(v, _students(local_run, v.id))
    assert len(nodes) == 2, f"work ran on {nodes}: expected the head and the worker node"
    _assert_same_students(out, local_run, voices)

    # a rerun finds every cache and checkpoint done: nothing is trained or QA'd again
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.pt")}
    t0 = time.time()
    r = _cli(["distill", *map(str, voices), "-o", str(out), "-q", "--no-fail", "--ray", "auto"], env)
    assert r.returncode == 0, r.stdout + r.stderr[-5000:]
    rerun_s = time.time() - t0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.pt")} == mtimes
    for toml in voices:
        dist = json.loads((out / load_voice(toml).id / "distill.json").read_text())
        assert dist["ray"]["trained"] == [] and dist["ray"]["skipped"] == list(TIERS)
        assert dist["ray"]["qa_skipped"] and dist["ray"]["convert_nodes"] == []
    print(f"ray distill: first run {first_s:.1f} s, rerun {rerun_s:.1f} s")


def test_ray_distill_survives_losing_a_worker_node(cluster: Cluster, voices: list[Path],
                                                   local_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [PY, "-m", "voiceskin_tooling.cli", "distill", *map(str, voices), "-o", str(out), "-q",
            "--no-qa", "--ray", cluster.address]
    proc = subprocess.Popen(args, cwd=ROOT, env=cluster.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    killed: list[str] = []
    try:
        raylet = cluster.worker_raylet()
        assert raylet is not None, "worker node's raylet not found"
        deadline = time.time() + 600
        victim = None
        while victim is None and proc.poll() is None and time.time() < deadline:
            for c in _children(raylet):
                if "ray::train:" in _cmdline(c) or "_train_task" in _cmdline(c):
                    victim = c
            time.sleep(0.2)
        assert victim is not None, "no training task ever ran on the worker node"
        time.sleep(3.0)   # mid-training
        assert proc.poll() is None
        for pid in (raylet, victim):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(_cmdline(pid) or str(pid))
            except ProcessLookupError:
                pass
        stdout, stderr = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert killed
    assert proc.returncode == 0, stdout + stderr[-5000:]
    from voiceskin_tooling.voicedef import load_voice

    attempts = {}
    for toml in voices:
        v = load_voice(toml)
        dist = json.loads((out / v.id / "distill.json").read_text())
        for t in TIERS:
            attempts[f"{v.id}/{t}"] = dist["training"][t]["ray"]["attempts"]
    assert any(len(a) >= 2 for a in attempts.values()), f"no task was retried: {attempts}"
    # retried on the surviving node, the students are still the local run's
    _assert_same_students(out, local_run, voices)


def test_without_ray_flag_ray_is_not_imported() -> None:
    """The local path never imports Ray (it is an optional extra)."""
    code = ("import sys; from voiceskin_tooling import cli, distill; "
            "a = cli.build_parser().parse_args(['distill', 'x.toml', '-j', '2']); "
            "assert a.ray is None; "
            "b = cli.build_parser().parse_args(['distill', 'x.toml', 'y.toml', '--ray']); "
            "assert b.ray == '' and b.voices == ['x.toml', 'y.toml']; "
            "assert 'ray' not in sys.modules, 'ray imported'")
    r = subprocess.run([PY, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
