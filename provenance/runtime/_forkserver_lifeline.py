"""Imported in multiprocessing's fork server only (``pool.pool`` preloads it, first):
ties the fork server to the run that started it (``lifeline.guard_fork_server``)."""

from .lifeline import guard_fork_server

guard_fork_server()
