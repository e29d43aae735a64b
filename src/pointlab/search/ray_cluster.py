"""A sweep's populations trained as Ray tasks on a Ray cluster; the driver keeps the study.
`RayCluster` is an executor of the sweep (`jobs.Executor`), as `jobs.LocalExecutor` is here.

Design, the way Ray's documentation advises for many small pieces of work:
- The driver (the `pointlab sweep --ray` process) does what a sweep always does with its store:
  it claims WAITING trials, sends heartbeats for every trial it holds while they train, records
  each result, and chooses and retrains the best. The store's guarantees (a trial is trained once;
  a killed driver's trials go stale and are re-queued; a rerun resumes) are therefore unchanged,
  on SQLite or on a PostgreSQL server that every machine reaches.
- Claimed trials become populations (`jobs.plan_jobs`): one architecture each, split so that
  every worker slot of the cluster (a CPU, or a GPU with `--gpus-per-task`) gets about one
  population per claim. A task is then a whole population, milliseconds of Ray overhead against
  seconds of training, instead of one task a trial.
- The data go to Ray's object store once per sweep (`ray.put`); a task gets the job and a
  reference to them, trains with `engine.train_population`, and returns each trial's score and
  where it ran (node address, host, process). Results are recorded as tasks finish (`ray.wait`).
- Successive halving prunes inside a task on the rung losses known when its claim began;
  populations that run at the same time do not see each other's losses, as they would in one
  process, so a halving sweep on Ray may prune a little differently. Other strategies train the
  same trials to the same scores: a member trains the same whatever population it is in.
- Nothing imports Ray unless `--ray` was asked for.
- A cluster address where nothing answers is refused within `PROBE_TIMEOUT` seconds (`probe`):
  Ray itself retries for minutes, printing warnings, and Ctrl-C takes many seconds to stop it.

Not here: claiming trials (`sweep`, `store`), planning and training populations (`jobs`),
output.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from typing import Any

from pointlab.errors import SettingError, UserError
from pointlab.search.jobs import Job, plan_jobs, train_job
from pointlab.search.store import Store

PROBE_TIMEOUT = 5.0  # seconds to reach a cluster's head


def _train_remote(job: Job, data, device: str) -> tuple[list[tuple[float, bool, dict]], dict]:
    """Runs on a Ray worker: one population; its trials' scores and where it ran."""
    import ray

    X, y = data
    scores = train_job(job, X, y, device)
    where = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "node": ray.util.get_node_ip_address(),
        "node_id": ray.get_runtime_context().get_node_id(),
    }
    return scores, where


def probe(address: str | None) -> None:
    """Refuse at once a head address (host:port, ray://host:port, auto) where nothing listens."""
    target = address.removeprefix("ray://") if address else None
    if target == "auto":
        try:  # where `ray.init("auto")` would look: RAY_ADDRESS, or the newest local cluster
            from ray._private.services import canonicalize_bootstrap_address

            target = canonicalize_bootstrap_address("auto")
        except Exception:  # none found: ray.init says so at once
            return
    if not target or target == "local":
        return
    host, _, port = target.rpartition(":")
    if not port.isdigit():
        return  # not host:port: ray.init says what is wrong with it
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise UserError(
            f"--ray {address}: no Ray cluster answers at {target} ({reason}); start it first "
            "(`ray start --head` on the head machine), or leave out ADDRESS for a local one"
        ) from None


class RayCluster:
    """A connection to a Ray cluster that trains a sweep's populations as tasks."""

    def __init__(
        self,
        address: str | None,
        *,
        cpus_per_task: float = 1.0,
        gpus_per_task: float = 0.0,
    ) -> None:
        # The nodes run pointlab's environment already: under `uv run`, Ray would otherwise
        # package this folder and build a new environment for every worker.
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        import ray

        if cpus_per_task <= 0 or gpus_per_task < 0:
            raise SettingError("{cpus_per_task} must be > 0 and {gpus_per_task} >= 0")
        self.ray = ray
        if not ray.is_initialized():
            probe(address)
            try:
                ray.init(
                    address=address,
                    logging_level=logging.ERROR,
                    log_to_driver=False,
                    configure_logging=False,
                )
            except (ConnectionError, RuntimeError, ValueError) as error:
                first = (str(error).strip() or "no answer").splitlines()[0]
                where = "{ray}" + (f" {SettingError.literal(address)}" if address else "")
                raise SettingError(
                    f"{where}: cannot reach the cluster ({SettingError.literal(first)})", ray="Ray"
                ) from None
        resources = ray.cluster_resources()
        slots = (
            resources.get("GPU", 0) / gpus_per_task
            if gpus_per_task
            else resources.get("CPU", 0) / cpus_per_task
        )
        if slots < 1:
            kind = "GPU" if gpus_per_task else "CPU"
            shown = SettingError.literal(resources)
            raise SettingError(
                f"{{ray}}: the cluster has no {kind} for a task ({shown})", ray="Ray"
            )
        self.slots = int(slots)
        self.device = "cuda" if gpus_per_task else "cpu"
        self.remote = ray.remote(num_cpus=cpus_per_task, num_gpus=gpus_per_task, max_retries=0)(
            _train_remote
        )
        self._data: dict[int, Any] = {}

    def nodes(self) -> list[str]:
        """Addresses of the cluster's live nodes."""
        return sorted(n["NodeManagerAddress"] for n in self.ray.nodes() if n.get("Alive"))

    def per_job(self, n_trials: int) -> int:
        """Trials a population, so that every worker slot gets about one."""
        return max(1, math.ceil(n_trials / self.slots))

    def train_claimed(self, setup, split_, store: Store, claimed, device, progress) -> None:
        """Train claimed trials as Ray tasks, recording each trial as its task returns."""
        jobs = plan_jobs(setup, split_, store, claimed, "cpu", per_job=self.per_job)
        key = id(split_)
        if key not in self._data:
            self._data = {key: self.ray.put((split_.X, split_.y))}
        pending = {self.remote.remote(job, self._data[key], self.device): job for job in jobs}
        try:
            while pending:
                ready, _ = self.ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready[0])
                try:
                    scores, where = self.ray.get(ready[0])
                except self.ray.exceptions.RayError as error:
                    lines = str(error).strip().splitlines()
                    failure = SettingError.literal(lines[-1])
                    raise SettingError(
                        f"{{ray}}: a training task failed ({failure})", ray="Ray"
                    ) from None
                for i, (value, pruned, attrs) in zip(job.trials, scores, strict=True):
                    attrs["result"]["worker"] = f"{where['host']}:{where['pid']}"
                    attrs["result"]["node"] = where["node"]
                    store.finish(claimed[i], value, pruned, attrs)
                if progress:
                    progress(*store.counts(), setup.base.epochs, setup.base.epochs)
        except BaseException:
            for ref in pending:
                self.ray.cancel(ref, force=True)
            raise
