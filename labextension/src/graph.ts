/**
 * The lineage graph the panel draws, derived from flock.lineage/1 JSON (pure, no DOM).
 *
 * The kernel's graph is variable-level (every assignment is a node). The panel keeps what
 * explains a model: data sources, the frames between them and the models (variables downstream
 * of a source and upstream of a model or metric, but not downstream of a model), the models
 * with their feature and label columns, and the metrics. Edges are the kernel's edges projected
 * onto those nodes through the hidden ones, without the ones implied by longer paths.
 */
import {
  FeatureSpec,
  IDataSource,
  ILineage,
  ILineageMetric,
  ILineageModel,
  LabelSpec
} from './tokens';

/** The four kinds of columns, left to right. */
export type NodeKind = 'source' | 'frame' | 'model' | 'metric';

export interface IDrawnNode {
  id: string;
  kind: NodeKind;
  /** Bold first line: file or table, variable, model class, metric function. */
  title: string;
  /** Second line: kind of source, variable. */
  subtitle: string;
  /** Further lines: columns of a source, features and label of a model. */
  lines: string[];
  /** Sort key in notebook order (cell, then line). */
  order: number;
}

export interface IDrawnGraph {
  nodes: IDrawnNode[];
  edges: Array<[string, string]>;
}

/** Most lines listed inside one node; the rest is summed up as "+N more". */
const MAX_LINES = 6;

export function shortName(dotted: string | null | undefined): string {
  const name = dotted ?? '';
  return name.slice(name.lastIndexOf('.') + 1);
}

/** "features: a, b" and "label: y" of one model, in words. */
export function describeFeatures(features: FeatureSpec): string {
  if ('columns' in features) {
    return features.columns.join(', ');
  }
  if ('all_except' in features) {
    return `all columns except ${features.all_except.join(', ') || 'none'}`;
  }
  if ('positional' in features) {
    return `positional (${features.positional})`;
  }
  return `unknown (${features.unknown})`;
}

export function describeLabel(label: LabelSpec): string | null {
  if (label === null || label === undefined) {
    return null;
  }
  if (typeof label === 'string') {
    return label;
  }
  return 'columns' in label ? label.columns.join(', ') : `positional (${label.positional})`;
}

/**
 * Columns a source provides: as read when known, else the ones its models used (less the
 * columns another source of the same model is known to provide).
 */
export function sourceColumns(source: IDataSource, models: ILineageModel[], sources: IDataSource[]): string[] {
  if (source.columns && source.columns.length) {
    return source.columns;
  }
  const elsewhere = new Set(sources.filter(s => s.id !== source.id).flatMap(s => s.columns ?? []));
  const used: string[] = [];
  for (const model of models) {
    if (!model.training_data.sources.includes(source.id)) {
      continue;
    }
    const { features, label } = model.training_data;
    const names = [
      ...('columns' in features ? features.columns : []),
      ...(typeof label === 'string' ? [label] : label && 'columns' in label ? label.columns : [])
    ];
    for (const name of names) {
      if (!used.includes(name) && !elsewhere.has(name)) {
        used.push(name);
      }
    }
  }
  return used;
}

function capped(lines: string[]): string[] {
  return lines.length <= MAX_LINES
    ? lines
    : [...lines.slice(0, MAX_LINES - 1), `+${lines.length - MAX_LINES + 1} more`];
}

function order(cell: number | undefined, line: number | undefined): number {
  return (cell ?? 0) * 100000 + (line ?? 0);
}

function sourceNode(source: IDataSource, lineage: ILineage): IDrawnNode {
  const title = source.kind === 'sql' && source.tables.length ? source.tables.join(', ') : source.source;
  return {
    id: source.id,
    kind: 'source',
    title,
    subtitle: source.kind,
    lines: capped(sourceColumns(source, lineage.models, lineage.data_sources)),
    order: order(source.cell, source.line)
  };
}

function modelNode(model: ILineageModel): IDrawnNode {
  const label = describeLabel(model.training_data.label);
  const features = model.training_data.features;
  const lines =
    'columns' in features
      ? ['features:', ...capped(features.columns).map(name => `  ${name}`)]
      : [`features: ${describeFeatures(features)}`];
  if (label !== null) {
    lines.push(`label: ${label}`);
  }
  return {
    id: model.id,
    kind: 'model',
    title: shortName(model.class),
    subtitle: model.var ?? '',
    lines,
    order: order(model.cell, model.line)
  };
}

function metricNode(metric: ILineageMetric): IDrawnNode {
  return {
    id: metric.id,
    kind: 'metric',
    title: shortName(metric.function),
    subtitle: metric.var ?? '',
    lines: [],
    order: order(metric.cell, metric.line)
  };
}

/** Ids reachable from `starts` along `next` (the starts themselves excluded unless reached). */
function reach(starts: string[], next: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length) {
    for (const id of next.get(stack.pop() as string) ?? []) {
      if (!seen.has(id)) {
        seen.add(id);
        stack.push(id);
      }
    }
  }
  return seen;
}

function adjacency(edges: Array<[string, string]>, reverse = false): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [a, b] of edges) {
    const [from, to] = reverse ? [b, a] : [a, b];
    map.set(from, [...(map.get(from) ?? []), to]);
  }
  return map;
}

/** Drop u->w when w is also reachable from u through another drawn node. */
function withoutImpliedEdges(edges: Array<[string, string]>): Array<[string, string]> {
  const next = adjacency(edges);
  return edges.filter(([u, w]) => {
    const others = (next.get(u) ?? []).filter(v => v !== w);
    return !others.includes(w) && !reach(others, next).has(w);
  });
}

export function buildGraph(lineage: ILineage): IDrawnGraph {
  const { graph, models } = lineage;
  const kernelEdges: Array<[string, string]> = graph.edges.map(e => [e.source, e.target]);
  for (const metric of lineage.metrics) {
    for (const model of metric.models) {
      kernelEdges.push([model, metric.id]);
    }
  }
  for (const model of models) {
    for (const source of model.training_data.sources) {
      kernelEdges.push([source, model.id]);
    }
  }
  const forward = adjacency(kernelEdges);
  const backward = adjacency(kernelEdges, true);
  const nodes: IDrawnNode[] = [
    ...lineage.data_sources.map(source => sourceNode(source, lineage)),
    ...models.map(modelNode),
    ...lineage.metrics.map(metricNode)
  ];
  const sourceIds = lineage.data_sources.map(s => s.id);
  const modelIds = models.map(m => m.id);
  const afterSource = reach(sourceIds, forward);
  const beforeModel = reach([...modelIds, ...lineage.metrics.map(m => m.id)], backward);
  const afterModel = reach(modelIds, forward);
  const known = new Set(nodes.map(n => n.id));
  // the variable a source is read into says no more than the source node itself
  const readInto = new Set(
    lineage.data_sources.flatMap(source =>
      (forward.get(source.id) ?? []).filter(id => graph.nodes.some(n => n.id === id && n.label === source.var))
    )
  );
  for (const node of graph.nodes) {
    const keep =
      node.kind === 'variable' &&
      !known.has(node.id) &&
      !readInto.has(node.id) &&
      (afterSource.has(node.id) || sourceIds.length === 0) &&
      beforeModel.has(node.id) &&
      !afterModel.has(node.id);
    if (keep) {
      nodes.push({
        id: node.id,
        kind: 'frame',
        title: node.label,
        subtitle: '',
        lines: [],
        order: order(node.cell, node.line)
      });
      known.add(node.id);
    }
  }
  // project the kernel's edges onto the drawn nodes, walking through the hidden ones
  const drawnEdges: Array<[string, string]> = [];
  for (const node of nodes) {
    const seen = new Set<string>();
    const stack = [...(forward.get(node.id) ?? [])];
    while (stack.length) {
      const id = stack.pop() as string;
      if (seen.has(id)) {
        continue;
      }
      seen.add(id);
      if (known.has(id)) {
        if (id !== node.id) {
          drawnEdges.push([node.id, id]);
        }
      } else {
        stack.push(...(forward.get(id) ?? []));
      }
    }
  }
  nodes.sort((a, b) => a.order - b.order);
  return { nodes, edges: withoutImpliedEdges(drawnEdges) };
}
