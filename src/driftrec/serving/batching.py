"""Micro-batching: concurrent requests collected for a millisecond or two, answered by one batched call.

A sequence model encodes 64 histories in about the time of a few single ones, and FAISS searches many
queries in one BLAS call; one request per forward pass wastes both and lets 100 requests in flight fight
over 2 cores. The batcher runs the batched function in one dedicated worker thread, so batches never run
concurrently with each other, while the event loop keeps accepting requests (the next batch fills up
while the current one runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["MicroBatcher"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """``await submit(x)`` returns ``run([..., x, ...])[i]``; ``run`` may return an exception per item.

    ``max_size``: most items per call; ``window_s``: how long the first item of a batch waits for
    company when fewer than ``max_size`` are queued (0: take only what is already queued). Start and
    stop inside the running event loop (the app's lifespan).
    """

    def __init__(
        self,
        run: Callable[[list[T]], Sequence[R | BaseException]],
        max_size: int = 64,
        window_s: float = 0.001,
    ) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be >= 1, got {max_size}")
        if window_s < 0:
            raise ValueError(f"window_s must be >= 0, got {window_s}")
        self._run = run
        self.max_size = max_size
        self.window_s = window_s
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.batches = 0
        self.items = 0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="driftrec-batch")
        self._task = asyncio.create_task(self._loop(), name="driftrec-micro-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._queue is not None:
            while not self._queue.empty():
                _, future = self._queue.get_nowait()
                if not future.done():
                    future.set_exception(RuntimeError("the service is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def submit(self, item: T) -> R:
        if self._queue is None or self._task is None:
            raise RuntimeError("MicroBatcher.submit before start()")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def _collect(self) -> list[tuple[T, asyncio.Future[R]]]:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        batch = [await self._queue.get()]
        deadline = loop.time() + self.window_s
        while len(batch) < self.max_size:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            live = [(x, f) for x, f in batch if not f.done()]  # a cancelled client needs no answer
            if not live:
                continue
            try:
                results = await loop.run_in_executor(self._executor, self._run, [x for x, _ in live])
                if len(results) != len(live):
                    raise RuntimeError(f"batched call returned {len(results)} results for {len(live)} items")
            except Exception as exc:  # the whole call failed: every caller gets the error
                log.exception("batched call failed")
                results = [exc] * len(live)
            self.batches += 1
            self.items += len(live)
            for (_, future), result in zip(live, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
