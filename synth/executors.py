"""Where the designs of a sweep run: a pool of local processes or a Dask distributed cluster.

:func:`open_executor` gives a :class:`concurrent.futures.Executor` either way, so that a
sweep is one loop (``submit`` + ``as_completed``) for any executor; an executor object of
the caller's own (any ``concurrent.futures``-style one) is used as it is.

- ``process``: a :class:`~concurrent.futures.ProcessPoolExecutor` of ``jobs`` workers;
- ``dask``: each design a task on a Dask cluster (``pip install 'quantrtl[cluster]'``):
  the scheduler at ``scheduler`` (``tcp://host:8786``), or without one a ``LocalCluster``
  of ``jobs`` worker processes with one thread each, closed at the end.  The workers share
  the content-hash cache through the work root (a folder every worker sees at the same
  path: docs/cluster.md).

Anything that keeps the executor from starting is an :class:`ExecutorError` of one line.
"""

from __future__ import annotations

import argparse
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Iterator

from quantrtl.spec import check_choice

__all__ = ["EXECUTORS", "DEFAULT_TIMEOUT", "ExecutorError", "open_executor",
           "add_executor_options"]

EXECUTORS = ("process", "dask")
DEFAULT_TIMEOUT = 30.0           # seconds to reach a scheduler


class ExecutorError(RuntimeError):
    """The executor cannot start (Dask missing, the scheduler unreachable); one line."""


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """``--executor``, ``--scheduler`` and ``--scheduler-timeout``, for every CLI that
    runs designs in parallel (``-j`` gives a local pool's or LocalCluster's workers)."""
    parser.add_argument("--executor", choices=EXECUTORS, default="process",
                        help="process: a local process pool (default); dask: a Dask "
                             "distributed cluster (--scheduler, else a LocalCluster of -j "
                             "workers)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --executor dask: the scheduler to use (tcp://host:8786)")
    parser.add_argument("--scheduler-timeout", type=float, default=DEFAULT_TIMEOUT,
                        metavar="SECONDS", help=f"how long to try to reach --scheduler "
                                                f"(default {DEFAULT_TIMEOUT:g})")


def check_executor_options(executor: str, scheduler: str | None, timeout: float) -> None:
    """``ValueError`` for a combination that cannot run."""
    check_choice("executor", executor, EXECUTORS)
    if scheduler and executor != "dask":
        raise ValueError("--scheduler needs --executor dask")
    if not timeout > 0:
        raise ValueError(f"--scheduler-timeout={timeout} is out of range: allowed (0, ...]")


@contextmanager
def open_executor(executor: str | Executor = "process", *, jobs: int = 1,
                  scheduler: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT) -> Iterator[Executor]:
    """The executor named by ``executor`` (:data:`EXECUTORS`), shut down at the end of the
    ``with``; an :class:`~concurrent.futures.Executor` passed in is yielded unchanged (its
    owner shuts it down)."""
    if isinstance(executor, Executor):
        yield executor
        return
    check_executor_options(executor, scheduler, timeout)
    if executor == "process":
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            yield pool
        return
    with _dask_client(jobs, scheduler, timeout) as client:
        pool = client.get_executor(pure=False)      # a rerun (--fresh) is a new task
        try:
            yield pool
        finally:
            pool.shutdown(wait=False)


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ExecutorError(f"--executor dask needs dask and distributed "
                            f"(pip install 'quantrtl[cluster]'): {exc}") from None
    return distributed


@contextmanager
def _dask_client(jobs: int, scheduler: str | None, timeout: float):
    distributed = _import_distributed()
    cluster = None
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler} within "
                                f"{timeout:g} s ({reason})") from None
    else:
        # Like the process pool: -j processes of one thread; no memory limit of Dask's
        # own (the pool has none either) and no dashboard (it needs bokeh).  The scheduler
        # serves its HTTP routes (health, metrics) even without a dashboard, at port 8787
        # unless told: a second cluster on the machine then warns "Port 8787 is already in
        # use" and moves.  A free loopback port instead.
        cluster = distributed.LocalCluster(n_workers=max(1, jobs), threads_per_worker=1,
                                           processes=True, memory_limit=0,
                                           dashboard_address=None,
                                           scheduler_kwargs={"dashboard_address":
                                                             "127.0.0.1:0"})
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
