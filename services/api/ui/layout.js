// The status page's graph layout, in a worker, so the page stays usable while it works. d3-dag's layered (Sugiyama)
// layout, its published browser build. In: { nodes: [name], edges: [{from, to}], widths: [px] }. Out: { width,
// height, nodes: [[x, y, w, h]] in the order given, edges: [[from, to, [x, y, x, y, ...]]] }, or { error }.
'use strict';
importScripts('/ui/assets/d3-dag.min.js');
const HEIGHT = 28;
const MARGIN = 20;

/**
 * The operators by size. Up to 100 nodes the simplex layering and coordinates give the tidiest picture (100 nodes:
 * ~120 ms). Beyond, longest-path layering and greedy coordinates, linear in the graph; above 500 nodes one
 * crossing-reduction sweep instead of 24 (2,000 nodes, 3,224 edges: ~250 ms in node on the loaded 2-core machine,
 * where dagre's fastest settings took ~1 s and 24 sweeps ~1.8 s).
 */
function operator(n) {
  if (n <= 100) return d3.sugiyama().layering(d3.layeringSimplex()).decross(d3.decrossTwoLayer()).coord(d3.coordSimplex());
  const decross = n > 500 ? d3.decrossTwoLayer().passes(1) : d3.decrossTwoLayer();
  return d3.sugiyama().layering(d3.layeringLongestPath()).decross(decross).coord(d3.coordGreedy());
}

onmessage = (e) => {
  try {
    const { nodes, edges, widths } = e.data;
    const index = new Map(nodes.map((n, i) => [n, i]));
    // d3-dag refuses an edge to an unknown node and a repeated edge: a cut workflow (the API's limit) and a task that
    // names a dependency twice are still drawn.
    const parents = nodes.map(() => new Set());
    for (const d of edges) if (index.has(d.from) && index.has(d.to) && d.from !== d.to) parents[index.get(d.to)].add(d.from);
    const dag = d3.graphStratify()(nodes.map((id, i) => ({ id, parentIds: [...parents[i]] })));
    // Laid out top-down and turned a quarter (tweakFlip): the layers become columns, left to right as the work runs.
    const size = (node) => [HEIGHT, widths[index.get(node.data.id)]];
    const laid = operator(nodes.length).nodeSize(size).gap([14, nodes.length > 500 ? 50 : 70])
      .tweaks([d3.tweakShape(size, d3.shapeRect), d3.tweakFlip('diagonal')])(dag);
    const at = new Array(nodes.length);
    for (const node of dag.nodes()) at[index.get(node.data.id)] = [node.x + MARGIN, node.y + MARGIN, widths[index.get(node.data.id)], HEIGHT];
    const out = [];
    for (const link of dag.links()) out.push([link.source.data.id, link.target.data.id, link.points.flatMap(([x, y]) => [x + MARGIN, y + MARGIN])]);
    postMessage({ width: laid.width + 2 * MARGIN, height: laid.height + 2 * MARGIN, nodes: at, edges: out });
  } catch (err) {
    postMessage({ error: String(err && err.message ? err.message : err) });
  }
};
