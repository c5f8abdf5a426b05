/**
 * A small layered layout for the lineage graph (pure, no DOM): one group of columns per node
 * kind (sources, frames, models, metrics, left to right); frames that derive from other frames
 * get a column further right. Within a column, nodes are ordered by the mean position of their
 * neighbours (a few barycenter sweeps, which removes most crossings in graphs this small) and
 * moved down towards the middle of their inputs.
 */
import { IDrawnGraph, IDrawnNode, NodeKind } from './graph';

/** Node widths: frames hold one variable name, the others a name and a list of columns. */
export const NODE_WIDTH: Record<NodeKind, number> = { source: 148, frame: 100, model: 148, metric: 148 };
export const COLUMN_GAP = 28;
export const ROW_GAP = 12;
export const MARGIN = 8;
/** Room above the first row for the column headings. */
export const HEADER_HEIGHT = 22;
export const TITLE_HEIGHT = 18;
export const LINE_HEIGHT = 14;
const PADDING = 6;

const KIND_ORDER: NodeKind[] = ['source', 'frame', 'model', 'metric'];
const SWEEPS = 3;

export interface IPlacedNode extends IDrawnNode {
  x: number;
  y: number;
  width: number;
  height: number;
  column: number;
}

export interface IColumnHeading {
  kind: NodeKind;
  x: number;
}

export interface ILayout {
  nodes: IPlacedNode[];
  edges: Array<{ from: IPlacedNode; to: IPlacedNode }>;
  headings: IColumnHeading[];
  width: number;
  height: number;
}

export function nodeHeight(node: IDrawnNode): number {
  const subtitle = node.subtitle ? LINE_HEIGHT : 0;
  return PADDING * 2 + TITLE_HEIGHT + subtitle + node.lines.length * LINE_HEIGHT;
}

/** Column index of every node: kinds left to right, frames layered by their frame inputs. */
function assignColumns(graph: IDrawnGraph): Map<string, number> {
  const kind = new Map(graph.nodes.map(n => [n.id, n.kind]));
  const depth = new Map<string, number>();
  const frameInputs = new Map<string, string[]>();
  for (const [from, to] of graph.edges) {
    if (kind.get(from) === 'frame' && kind.get(to) === 'frame') {
      frameInputs.set(to, [...(frameInputs.get(to) ?? []), from]);
    }
  }
  const frameDepth = (id: string, path: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) {
      return known;
    }
    path.add(id);
    const inputs = (frameInputs.get(id) ?? []).filter(input => !path.has(input));
    const value = inputs.length ? 1 + Math.max(...inputs.map(i => frameDepth(i, path))) : 0;
    path.delete(id);
    depth.set(id, value);
    return value;
  };
  const frames = graph.nodes.filter(n => n.kind === 'frame');
  const frameColumns = frames.length ? 1 + Math.max(...frames.map(n => frameDepth(n.id, new Set()))) : 0;
  const present = new Set(graph.nodes.map(n => n.kind));
  const first = new Map<NodeKind, number>();
  let next = 0;
  for (const k of KIND_ORDER) {
    if (present.has(k)) {
      first.set(k, next);
      next += k === 'frame' ? frameColumns : 1;
    }
  }
  return new Map(
    graph.nodes.map(n => [n.id, (first.get(n.kind) ?? 0) + (n.kind === 'frame' ? (depth.get(n.id) ?? 0) : 0)])
  );
}

function mean(values: number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

export function layout(graph: IDrawnGraph): ILayout {
  const columnOf = assignColumns(graph);
  const count = graph.nodes.length ? Math.max(...columnOf.values()) + 1 : 0;
  const columns: IDrawnNode[][] = Array.from({ length: count }, () => []);
  for (const node of graph.nodes) {
    columns[columnOf.get(node.id) as number].push(node);
  }
  const inputs = new Map<string, string[]>();
  const outputs = new Map<string, string[]>();
  for (const [from, to] of graph.edges) {
    inputs.set(to, [...(inputs.get(to) ?? []), from]);
    outputs.set(from, [...(outputs.get(from) ?? []), to]);
  }
  // barycenter sweeps: order each column by the mean row of its neighbours
  const row = new Map<string, number>();
  columns.forEach(column => column.forEach((n, i) => row.set(n.id, i)));
  const sortBy = (column: IDrawnNode[], neighbours: Map<string, string[]>) => {
    const key = new Map(
      column.map(n => {
        const rows = (neighbours.get(n.id) ?? []).map(id => row.get(id) as number);
        return [n.id, mean(rows) ?? (row.get(n.id) as number)];
      })
    );
    column.sort((a, b) => (key.get(a.id) as number) - (key.get(b.id) as number));
    column.forEach((n, i) => row.set(n.id, i));
  };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    columns.slice(1).forEach(column => sortBy(column, inputs));
    columns.slice(0, -1).reverse().forEach(column => sortBy(column, outputs));
  }
  // rows: stack each column, moving a node down towards the middle of its inputs
  const placed = new Map<string, IPlacedNode>();
  const left: number[] = [];
  for (let c = 0; c < count; c++) {
    const previous = c === 0 ? [] : columns[c - 1].map(n => NODE_WIDTH[n.kind]);
    left.push(c === 0 ? MARGIN : left[c - 1] + Math.max(...previous) + COLUMN_GAP);
  }
  columns.forEach((column, c) => {
    let bottom = MARGIN + HEADER_HEIGHT;
    for (const node of column) {
      const height = nodeHeight(node);
      const centres = (inputs.get(node.id) ?? [])
        .map(id => placed.get(id))
        .filter((p): p is IPlacedNode => p !== undefined)
        .map(p => p.y + p.height / 2);
      const wanted = (mean(centres) ?? 0) - height / 2;
      const y = Math.max(bottom, wanted);
      placed.set(node.id, { ...node, x: left[c], y, width: NODE_WIDTH[node.kind], height, column: c });
      bottom = y + height + ROW_GAP;
    }
  });
  const nodes = [...placed.values()];
  const headings: IColumnHeading[] = [];
  for (const node of nodes) {
    if (!headings.some(h => h.kind === node.kind)) {
      headings.push({ kind: node.kind, x: node.x });
    } else {
      const heading = headings.find(h => h.kind === node.kind) as IColumnHeading;
      heading.x = Math.min(heading.x, node.x);
    }
  }
  return {
    nodes,
    edges: graph.edges.map(([from, to]) => ({
      from: placed.get(from) as IPlacedNode,
      to: placed.get(to) as IPlacedNode
    })),
    headings,
    width: nodes.length ? Math.max(...nodes.map(n => n.x + n.width)) + MARGIN : 0,
    height: nodes.length ? Math.max(...nodes.map(n => n.y + n.height)) + MARGIN : 0
  };
}
