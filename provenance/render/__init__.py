"""Everything a run writes: the JSON/CSV report, terminal tables, the HTML report, graphs,
check formats (GitHub, JUnit, SARIF, Markdown), the cleaned corpus, and atomic writes.
"""
