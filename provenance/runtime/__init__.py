"""How a run runs: the worker pool (``pool``), texts spilled to disk (``spill``), memory
handed back, workers tied to their run (``lifeline``) and owner-held locks.
"""
