"""A worker function for ``test_processes``: it starts sending its result and dies halfway
through (as a worker stopped mid-write by ``pool.stop`` does)."""

from __future__ import annotations

import gc
import multiprocessing.queues
import os
import struct
import time


def write_half_a_result() -> None:
    results = [o for o in gc.get_objects() if type(o) is multiprocessing.queues.SimpleQueue]
    for queue in results:  # the pool's result queue: a length saying 1 MiB, then 10 bytes
        os.write(queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 10)
    time.sleep(120)
