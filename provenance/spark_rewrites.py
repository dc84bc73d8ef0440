"""The rewrite stage as Spark stages."""
