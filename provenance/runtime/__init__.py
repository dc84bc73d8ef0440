"""How a run runs: the worker pool (``parallel``), texts spilled to disk (``spill``), memory
handed back, workers tied to their run (``lifeline``) and owner-held locks.
"""
