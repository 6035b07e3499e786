// The status page's graph layout, in a worker: dagre takes seconds at 2,000 nodes, and the page stays usable meanwhile.
// In: { nodes: [name], edges: [{from, to}], widths: [px] }. Out: { width, height, nodes: [[x, y, w, h]] in the order
// given, edges: [[from, to, [x, y, x, y, ...]]] }, or { error }.
'use strict';
importScripts('/ui/assets/dagre.min.js');
onmessage = (e) => {
  try {
    const { nodes, edges, widths } = e.data;
    const g = new dagre.graphlib.Graph();
    const big = nodes.length > 500;
    // Above 500 nodes dagre ranks with longest-path (2,000 nodes: 3.9 s instead of 61 s with network-simplex) and
    // leaves out the ordering's iterative sweeps (4.5 s with them, 1.9 s without), on the loaded 2-core machine.
    g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: big ? 50 : 70, marginx: 20, marginy: 20, ranker: big ? 'longest-path' : 'network-simplex' });
    g.setDefaultEdgeLabel(() => ({}));
    nodes.forEach((n, i) => g.setNode(n, { width: widths[i], height: 28 }));
    for (const d of edges) g.setEdge(d.from, d.to);
    dagre.layout(g, big ? { disableOptimalOrderHeuristic: true } : {});
    const info = g.graph();
    postMessage({
      width: info.width ?? 100, height: info.height ?? 100,
      nodes: nodes.map((n) => { const v = g.node(n); return [v.x, v.y, v.width, v.height]; }),
      edges: g.edges().map((d) => [d.v, d.w, g.edge(d).points.flatMap((p) => [p.x, p.y])]),
    });
  } catch (err) {
    postMessage({ error: String(err && err.message ? err.message : err) });
  }
};
