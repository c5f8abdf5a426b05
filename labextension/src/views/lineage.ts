/**
 * The lineage view: the notebook's sources -> frames -> models -> metrics as an SVG graph
 * (laid out by ../layout), and the same lineage as a plain text list under it, for narrow
 * panels, screen readers and copying.
 */
import { Widget } from '@lumino/widgets';

import {
  buildGraph,
  describeFeatures,
  describeLabel,
  NodeKind,
  shortName,
  sourceColumns
} from '../graph';
import {
  HEADER_HEIGHT,
  ILayout,
  IPlacedNode,
  layout,
  LINE_HEIGHT,
  MARGIN,
  TITLE_HEIGHT
} from '../layout';
import { IFlockContent, IFlockModel, ILineage } from '../tokens';

const SVG_NS = 'http://www.w3.org/2000/svg';
const HEADINGS: Record<NodeKind, string> = {
  source: 'sources',
  frame: 'frames',
  model: 'models',
  metric: 'metrics'
};
/** The node fonts (see style/base.css), to cut long names with an ellipsis where they overflow. */
const FONTS = {
  title: { weight: '600 ', size: 12, family: '--jp-ui-font-family' },
  subtitle: { weight: '', size: 11, family: '--jp-ui-font-family' },
  line: { weight: '', size: 10.5, family: '--jp-code-font-family' }
};
type FontName = keyof typeof FONTS;
let measuring: CanvasRenderingContext2D | null | undefined;

/** Width of `value` in `font`: measured on a canvas, or estimated where there is none. */
function textWidth(value: string, font: FontName): number {
  if (measuring === undefined) {
    measuring = document.createElement('canvas').getContext('2d');
  }
  const { weight, size, family } = FONTS[font];
  if (!measuring) {
    return value.length * size * 0.6;
  }
  const css = getComputedStyle(document.body).getPropertyValue(family).trim() || 'sans-serif';
  measuring.font = `${weight}${size}px ${css}`;
  return measuring.measureText(value).width;
}

/** The line above the graph: why there is nothing to draw, or ''. */
export function lineageMessage(content: IFlockContent, loaded: boolean): string {
  if (!loaded) {
    return 'Load flock in this notebook to see its lineage.';
  }
  if (content.error) {
    return content.error;
  }
  const lineage = content.lineage;
  if (!lineage) {
    return 'Reading the lineage…';
  }
  if (!lineage.data_sources.length && !lineage.models.length && !lineage.metrics.length) {
    return 'No data sources, models or metrics yet: run a cell that reads data or trains a model.';
  }
  return '';
}

/** The lineage as lines of text, one per source, model and metric. */
export function lineageLines(lineage: ILineage): string[] {
  const names = new Map<string, string>();
  const lines: string[] = [];
  for (const source of lineage.data_sources) {
    names.set(source.id, source.source);
    const columns = sourceColumns(source, lineage.models, lineage.data_sources);
    lines.push(
      `source ${source.source} (${source.kind})` + (columns.length ? `: columns ${columns.join(', ')}` : '')
    );
  }
  for (const model of lineage.models) {
    names.set(model.id, model.var ?? shortName(model.class));
    const from = model.training_data.sources.map(id => names.get(id) ?? id).join(', ');
    const label = describeLabel(model.training_data.label);
    lines.push(
      `model ${shortName(model.class)}${model.var ? ` ${model.var}` : ''}` +
        (from ? ` from ${from}` : '') +
        `: features ${describeFeatures(model.training_data.features)}` +
        (label !== null ? `; label ${label}` : '')
    );
  }
  for (const metric of lineage.metrics) {
    const of = metric.models.map(id => names.get(id) ?? id).join(', ');
    lines.push(
      `metric ${shortName(metric.function)}${metric.var ? ` ${metric.var}` : ''}` +
        (of ? ` of ${of}` : '')
    );
  }
  return lines;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number>,
  parent?: Element
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  parent?.appendChild(element);
  return element;
}

/** `value`, cut with an ellipsis where it would overflow its node. */
function fit(value: string, font: FontName, room: number): string {
  if (textWidth(value, font) <= room) {
    return value;
  }
  let keep = value.length - 1;
  while (keep > 1 && textWidth(`${value.slice(0, keep)}…`, font) > room) {
    keep--;
  }
  return `${value.slice(0, keep)}…`;
}

function text(parent: Element, node: IPlacedNode, y: number, value: string, font: FontName) {
  const element = svg('text', { x: node.x + 10, y, class: `jp-FlockGraph-${font}` }, parent);
  element.textContent = fit(value, font, node.width - 16);
}

function drawNode(parent: Element, node: IPlacedNode): void {
  const group = svg('g', { class: `jp-FlockGraph-node jp-FlockGraph-${node.kind}` }, parent);
  group.dataset.testid = `flock-node-${node.kind}`;
  group.dataset.id = node.id;
  svg('title', {}, group).textContent = [node.title, node.subtitle, ...node.lines].join('\n');
  svg('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 4 }, group);
  svg('rect', { x: node.x, y: node.y, width: 4, height: node.height, class: 'jp-FlockGraph-accent' }, group);
  let y = node.y + 6 + TITLE_HEIGHT - 5;
  text(group, node, y, node.title, 'title');
  if (node.subtitle) {
    y += LINE_HEIGHT;
    text(group, node, y, node.subtitle, 'subtitle');
  }
  for (const line of node.lines) {
    y += LINE_HEIGHT;
    text(group, node, y, line, 'line');
  }
}

function edgePath(from: IPlacedNode, to: IPlacedNode): string {
  const y1 = from.y + from.height / 2;
  const y2 = to.y + to.height / 2;
  if (to.x > from.x) {
    const x1 = from.x + from.width;
    const x2 = to.x - 2;
    const bend = Math.max(16, (x2 - x1) / 2);
    return `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
  }
  // same column (or backwards): an arc on the right-hand side
  const x = from.x + from.width;
  const end = to.x + to.width;
  return `M${x},${y1} C${x + 24},${y1} ${end + 24},${y2} ${end + 2},${y2}`;
}

/** The laid-out graph as an SVG element drawn at its natural size. */
export function drawGraph(placed: ILayout): SVGSVGElement {
  const root = svg('svg', {
    width: placed.width,
    height: placed.height,
    viewBox: `0 0 ${placed.width} ${placed.height}`,
    class: 'jp-FlockGraph',
    role: 'img',
    'aria-label': 'lineage graph'
  });
  const defs = svg('defs', {}, root);
  const marker = svg(
    'marker',
    { id: 'jp-FlockGraph-arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto' },
    defs
  );
  svg('path', { d: 'M0,0 L8,4 L0,8 z', class: 'jp-FlockGraph-arrowhead' }, marker);
  for (const heading of placed.headings) {
    const label = svg('text', { x: heading.x, y: MARGIN + HEADER_HEIGHT - 10, class: 'jp-FlockGraph-heading' }, root);
    label.textContent = HEADINGS[heading.kind];
  }
  const edges = svg('g', { class: 'jp-FlockGraph-edges' }, root);
  for (const edge of placed.edges) {
    svg('path', { d: edgePath(edge.from, edge.to), 'marker-end': 'url(#jp-FlockGraph-arrow)' }, edges);
  }
  for (const node of placed.nodes) {
    drawNode(root, node);
  }
  return root;
}

export class LineageView extends Widget {
  constructor(model: IFlockModel) {
    super();
    this._model = model;
    this.addClass('jp-FlockLineage');
    this._message = document.createElement('div');
    this._message.className = 'jp-FlockLineage-message';
    this._message.dataset.testid = 'flock-lineage-message';
    this._graph = document.createElement('div');
    this._graph.className = 'jp-FlockLineage-graph';
    this._graph.dataset.testid = 'flock-lineage-graph';
    const details = document.createElement('details');
    details.className = 'jp-FlockLineage-text';
    const summary = document.createElement('summary');
    summary.textContent = 'Lineage as text';
    this._list = document.createElement('ul');
    this._list.dataset.testid = 'flock-lineage-list';
    details.append(summary, this._list);
    this._details = details;
    this.node.append(this._message, this._graph, details);
    model.contentChanged.connect(this._render, this);
    model.stateChanged.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    this._model.contentChanged.disconnect(this._render, this);
    this._model.stateChanged.disconnect(this._render, this);
    super.dispose();
  }

  private _render(): void {
    const content = this._model.content;
    const message = lineageMessage(content, this._model.state.phase === 'loaded');
    this._message.textContent = message;
    this._message.hidden = message === '';
    this._message.dataset.error = content.error ? 'true' : 'false';
    const lineage = message === '' ? content.lineage : null;
    if (lineage === this._shown) {
      return;
    }
    this._shown = lineage;
    this._graph.replaceChildren(...(lineage ? [drawGraph(layout(buildGraph(lineage)))] : []));
    this._list.replaceChildren(
      ...(lineage ? lineageLines(lineage) : []).map(line => {
        const item = document.createElement('li');
        item.textContent = line;
        return item;
      })
    );
    this._details.hidden = lineage === null;
  }

  private _model: IFlockModel;
  private _message: HTMLDivElement;
  private _graph: HTMLDivElement;
  private _list: HTMLUListElement;
  private _details: HTMLDetailsElement;
  private _shown: ILineage | null | undefined = undefined;
}
