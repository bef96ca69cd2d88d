"""Poll several sources at once (`watcher run --once`): a bounded thread pool, so five
unreachable hosts cost one timeout, not five in a row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from watcher.pipeline.run import RunResult, run_source
from watcher.runtime import Runtime


def run_sources(
    rt: Runtime,
    names: Sequence[str],
    jobs: int = 4,
    on_done: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Run each source (at most `jobs` at a time); results in the order of `names`.

    `on_done` sees each result as it finishes (progress, summaries). `run_source` never
    raises for a source's own failure; anything else (the database refusing a lease) becomes
    that source's error result, so one source never hides the others' outcomes."""
    rt.http()  # one shared client, created before the threads race to create it
    results: dict[str, RunResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(names) or 1))) as pool:
        futures = {pool.submit(run_source, rt, name): name for name in names}
        for future in as_completed(futures):
            name = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - reported per source, never swallowed
                result = RunResult(name, "error", error=f"{type(exc).__name__}: {exc}")
            results[name] = result
            if on_done is not None:
                on_done(result)
    return [results[n] for n in names]
