"""Handing a thread's freed heap memory back to the kernel (glibc only; a no-op elsewhere).

glibc gives each thread that allocates a lot its own arena, and keeps memory freed there for reuse:
after a thread has freed a 19 MiB buffer, those pages stay resident in its arena (neither free() nor
malloc_trim() returns the top of a thread's arena while the trim threshold is above it, and glibc
raises that threshold dynamically after large frees). `shrink_arenas` lowers the threshold for a
moment, makes each given thread free one block so glibc trims that thread's arena, and then sets the
thresholds to fixed values that keep normal frees from trimming (so steady work reuses its memory);
malloc_trim then returns what is free elsewhere in the heap.
"""

from __future__ import annotations

import ctypes
import os
import threading
from concurrent.futures import Executor

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest: blocks below it come from (reusable) arenas
_TRIM_THRESHOLD = 64 * 1024 * 1024  # normal frees keep up to this much at an arena's top
_PROBE = 256 * 1024  # above the fast bins, below the mmap threshold: its free consolidates with the top


class GlibcHeap:
    def __init__(self, libc: ctypes.CDLL) -> None:
        self._malloc = libc.malloc
        self._malloc.restype, self._malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
        self._free = libc.free
        self._free.restype, self._free.argtypes = None, [ctypes.c_void_p]
        self._mallopt = libc.mallopt
        self._mallopt.restype, self._mallopt.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_int]
        self._trim = libc.malloc_trim
        self._trim.restype, self._trim.argtypes = ctypes.c_int, [ctypes.c_size_t]
        self._lock = threading.Lock()

    def shrink_arenas(self, executor: Executor, threads: int, timeout: float = 0.05) -> None:
        """Return the free memory of the arenas of `threads` idle threads of `executor` (fire and forget).

        One task per thread, meeting at a barrier so that each runs on a different thread; if a thread
        is busy, the barrier times out (the others wait that long, 50 ms) and no arena is shrunk. Either
        way glibc's thresholds end up fixed (mmap 32 MiB, trim 64 MiB) for the whole process: its
        dynamic adjustment stays off from the first call on.
        """
        if threads <= 0:
            return
        start = threading.Barrier(threads, action=self._lower_threshold, timeout=timeout)
        done = threading.Barrier(threads, action=self._trim_and_restore, timeout=timeout)
        for _ in range(threads):
            executor.submit(self._shrink_this_threads_arena, start, done)

    def _shrink_this_threads_arena(self, start: threading.Barrier, done: threading.Barrier) -> None:
        try:
            start.wait()
            block = self._malloc(_PROBE)
            if block:
                self._free(block)
            done.wait()
        except threading.BrokenBarrierError:
            self._restore_thresholds()

    def _lower_threshold(self) -> None:
        with self._lock:
            self._mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
            self._mallopt(_M_TRIM_THRESHOLD, 0)

    def _trim_and_restore(self) -> None:
        self._trim(0)  # also free pages inside the arenas' bins and the main heap's top
        self._restore_thresholds()

    def _restore_thresholds(self) -> None:
        with self._lock:
            self._mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


def _load() -> GlibcHeap | None:
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        return GlibcHeap(ctypes.CDLL(None))  # the process's own symbols: glibc's malloc
    except (ValueError, OSError, AttributeError):  # not glibc (musl, macOS): memory simply stays cached
        return None


glibc_heap: GlibcHeap | None = _load()
