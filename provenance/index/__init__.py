"""A stored index of a corpus, and checks of new files against it: what an index holds and
its backends (SQLite, Redis), its parameters, ``index build``/``add`` and ``check``.
"""
