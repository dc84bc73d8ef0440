"""The outlet network: who republished whom, as GraphML and DOT.

Nodes are outlets; an edge runs from a source outlet to each outlet that
republished it, weighted by the documents, passages and rewrites it took. The edges
are the report's syndication rows (``report.syndication``), so the table and the
picture agree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..records import SyndicationRow
from .safe_text import xml_document

#: An edge of the network is a row of the syndication table.
Edge = SyndicationRow


def nodes_of(edges: list[Edge]) -> list[str]:
    """Every outlet on an edge, sorted."""
    return sorted({e.source for e in edges} | {e.republisher for e in edges})


def to_graphml(edges: list[Edge]) -> str:
    """GraphML (directed), readable by Gephi, yEd, networkx and igraph."""
    ns = "http://graphml.graphdrawing.org/xmlns"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}graphml")
    keys = [("label", "node", "string"), ("documents", "edge", "int"), ("passages", "edge", "int"),
            ("rewrites", "edge", "int"), ("weight", "edge", "int"), ("first_date", "edge", "string"),
            ("last_date", "edge", "string")]
    for name, scope, kind in keys:
        ET.SubElement(root, f"{{{ns}}}key", id=name, attrib={"for": scope, "attr.name": name,
                                                               "attr.type": kind})
    graph = ET.SubElement(root, f"{{{ns}}}graph", id="outlets", edgedefault="directed")
    ids = {name: f"n{i}" for i, name in enumerate(nodes_of(edges))}
    for name, node_id in ids.items():
        node = ET.SubElement(graph, f"{{{ns}}}node", id=node_id)
        ET.SubElement(node, f"{{{ns}}}data", key="label").text = name
    for i, e in enumerate(edges):
        edge = ET.SubElement(graph, f"{{{ns}}}edge", id=f"e{i}", source=ids[e.source],
                             target=ids[e.republisher])
        for key, value in (("documents", e.documents), ("passages", e.passages), ("rewrites", e.rewrites),
                           ("weight", e.weight),
                           ("first_date", e.first_date), ("last_date", e.last_date)):
            if value is not None:
                ET.SubElement(edge, f"{{{ns}}}data", key=key).text = str(value)
    return xml_document(root)


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def to_dot(edges: list[Edge]) -> str:
    """Graphviz DOT: ``dot -Tsvg outlets.dot > outlets.svg`` draws it."""
    lines = ["digraph outlets {", "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="Helvetica"];']
    for name in nodes_of(edges):
        lines.append(f"  {_dot_id(name)};")
    for e in edges:
        label = f"{e.documents} docs, {e.passages} passages"
        if e.rewrites:
            label += f", {e.rewrites} rewrites"
        lines.append(f"  {_dot_id(e.source)} -> {_dot_id(e.republisher)} "
                     f"[label={_dot_id(label)}, weight={e.weight}, penwidth={1 + min(e.weight, 8) * 0.5}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
