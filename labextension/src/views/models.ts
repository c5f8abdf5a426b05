/**
 * The models view: one card per model flock tracks in the notebook (variable, class,
 * MLflow run, hyperparameters, the metrics computed on it) with a Convert button that asks the
 * kernel for an ONNX conversion and shows its report (chosen candidate, max diff, speedups)
 * or the kernel's error text.
 */
import { Widget } from '@lumino/widgets';

import { shortName } from '../graph';
import {
  IConversion,
  IConvertReply,
  IFlockContent,
  IFlockModel,
  ILineage,
  IModelEntry
} from '../tokens';

/** The MLflow UI page of a run, when the tracking URI is a server the browser can open. */
export function runUrl(trackingUri: string | null | undefined, runId: string): string | null {
  if (!trackingUri || !/^https?:\/\//i.test(trackingUri)) {
    return null;
  }
  return `${trackingUri.replace(/\/+$/, '')}/#/runs/${encodeURIComponent(runId)}`;
}

/** A report or hyperparameter value as text ('' for none). */
export function show(value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function formatNumber(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return show(value) || '–';
  }
  if (value === 0 || (Number.isInteger(value) && Math.abs(value) < 1e6)) {
    return value.toLocaleString('en-US');
  }
  const size = Math.abs(value);
  if (size >= 1e6) {
    return value.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  }
  return size < 1e-3 ? value.toExponential(1) : String(Number(value.toPrecision(3)));
}

/** "batch 1: 14.1× faster" lines of a conversion's speedups (batch_n is the batch size). */
export function speedupLines(reply: IConvertReply): string[] {
  const speedup = reply.speedup ?? {};
  const lines: string[] = [];
  for (const [name, value] of Object.entries(speedup)) {
    if (name === 'batch_n') {
      continue;
    }
    const what =
      name === 'batch1' ? 'batch 1' : name === 'batchN' ? `batch ${formatNumber(speedup.batch_n ?? 'N')}` : name;
    lines.push(`${what}: ${value.toFixed(1)}× ${value >= 1 ? 'faster' : 'as fast'}`);
  }
  return lines;
}

/** The conversion report in a few lines: chosen candidate, max diff, speedups, logging. */
export function reportLines(reply: IConvertReply): string[] {
  const chosen = reply.rows.find(row => row.chosen === true);
  const lines = [`chosen: ${reply.candidate}`];
  if (chosen && chosen.max_abs_diff !== undefined) {
    lines.push(`max diff vs original: ${formatNumber(chosen.max_abs_diff)}`);
  }
  lines.push(...speedupLines(reply));
  lines.push(reply.logged ? `logged as onnx_model to run ${reply.run_id ?? ''}`.trim() : 'not logged to MLflow');
  return lines;
}

const REPORT_COLUMNS: Array<[string, string]> = [
  ['candidate', 'candidate'],
  ['status', 'status'],
  ['max_abs_diff', 'max diff'],
  ['batch1_p50_us', 'batch-1 p50 µs'],
  ['batchN_rows_per_s', 'rows/s'],
  ['reason', 'note']
];

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  textContent = '',
  testId?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = textContent;
  if (testId) {
    node.dataset.testid = testId;
  }
  return node;
}

function reportTable(reply: IConvertReply): HTMLTableElement {
  const table = element('table', 'jp-FlockConvert-table');
  const head = table.createTHead().insertRow();
  for (const [, title] of REPORT_COLUMNS) {
    head.appendChild(element('th', '', title));
  }
  const body = table.createTBody();
  for (const row of reply.rows) {
    const tr = body.insertRow();
    tr.dataset.chosen = row.chosen === true ? 'true' : 'false';
    for (const [key] of REPORT_COLUMNS) {
      const value = row[key];
      const shown = key === 'candidate' || key === 'status' || key === 'reason' ? show(value) : formatNumber(value);
      tr.insertCell().textContent = key === 'candidate' && row.chosen === true ? `${shown} *` : shown;
    }
  }
  return table;
}

function conversionNode(conversion: IConversion | undefined, tableOpen: boolean): HTMLElement | null {
  if (!conversion) {
    return null;
  }
  if (conversion.running) {
    return element('div', 'jp-FlockConvert-running', 'Converting… (trying candidates, checking, timing)', 'flock-convert-running');
  }
  if (conversion.error !== null || !conversion.reply) {
    return element('div', 'jp-FlockConvert-error', conversion.error ?? 'no report', 'flock-convert-error');
  }
  const report = element('div', 'jp-FlockConvert-report', '', 'flock-convert-report');
  const lines = reportLines(conversion.reply);
  report.appendChild(element('div', 'jp-FlockConvert-chosen', lines[0], 'flock-convert-candidate'));
  for (const line of lines.slice(1)) {
    report.appendChild(element('div', 'jp-FlockConvert-line', line));
  }
  const details = element('details', 'jp-FlockConvert-details');
  details.open = tableOpen;
  details.append(element('summary', '', 'all candidates'), reportTable(conversion.reply));
  report.appendChild(details);
  return report;
}

export class ModelsView extends Widget {
  constructor(model: IFlockModel) {
    super();
    this._model = model;
    this.addClass('jp-FlockModels');
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
    const loaded = this._model.state.phase === 'loaded';
    let message = '';
    if (!loaded) {
      message = 'Load flock in this notebook to see its models.';
    } else if (content.error) {
      message = content.error;
    } else if (!content.lineage) {
      message = 'Reading the models…';
    } else if (!content.models.length) {
      message = 'No models yet: create and fit one in a cell.';
    }
    const nodes: HTMLElement[] = [];
    if (message) {
      nodes.push(element('div', 'jp-FlockModels-message', message, 'flock-models-message'));
    } else {
      for (const entry of content.models) {
        nodes.push(this._card(entry, content));
      }
    }
    this.node.replaceChildren(...nodes);
  }

  private _card(entry: IModelEntry, content: IFlockContent): HTMLElement {
    const lineage = content.lineage as ILineage;
    const node = lineage.models.find(m => m.id === entry.id);
    const card = element('div', 'jp-FlockModel', '', 'flock-model');
    card.dataset.id = entry.id;
    const name = element('div', 'jp-FlockModel-name');
    name.append(
      element('span', 'jp-FlockModel-var', entry.var ?? '(unnamed)'),
      element('span', 'jp-FlockModel-class', shortName(entry.class ?? node?.class), 'flock-model-class')
    );
    name.title = entry.class ?? node?.class ?? '';
    card.appendChild(name);
    const meta = entry.trained ? 'trained in this kernel' : 'not trained yet';
    card.appendChild(element('div', 'jp-FlockModel-meta', meta));

    const run = element('div', 'jp-FlockModel-run', '', 'flock-model-run');
    if (entry.run_id) {
      run.append('MLflow run ');
      const url = runUrl(this._model.state.status?.tracking_uri, entry.run_id);
      const id = element(url ? 'a' : 'code', 'jp-FlockModel-runid', entry.run_id);
      if (url && id instanceof HTMLAnchorElement) {
        id.href = url;
        id.target = '_blank';
        id.rel = 'noopener noreferrer';
      }
      run.appendChild(id);
    } else {
      run.textContent = 'no MLflow run yet';
    }
    card.appendChild(run);

    const params = Object.entries(node?.hyperparameters ?? {});
    if (params.length) {
      const list = element('div', 'jp-FlockModel-params', '', 'flock-model-params');
      list.textContent = params.map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(', ');
      card.append(element('div', 'jp-FlockModel-heading', 'hyperparameters'), list);
    }
    const metrics = lineage.metrics.filter(m => m.model === entry.id || m.models.includes(entry.id));
    if (metrics.length) {
      const list = element('ul', 'jp-FlockModel-metrics', '', 'flock-model-metrics');
      for (const metric of metrics) {
        const name = shortName(metric.function);
        list.appendChild(element('li', '', metric.var ? `${name} (${metric.var})` : name));
      }
      card.append(element('div', 'jp-FlockModel-heading', 'metrics'), list);
    }

    const conversion = content.conversions.get(entry.id);
    const button = element('button', 'jp-Button jp-mod-styled jp-FlockModel-convert', 'Convert', 'flock-convert-button');
    button.disabled = !entry.trained || conversion?.running === true;
    button.title = entry.trained
      ? 'Convert to ONNX: try the candidates, check them against the original, time them'
      : 'Fit this model first';
    button.addEventListener('click', () => void this._model.convert(entry.id));
    card.appendChild(button);
    const outcome = conversionNode(conversion, this._openTables.has(entry.id));
    // keep "all candidates" open across re-renders
    outcome?.querySelector('details')?.addEventListener('toggle', event => {
      const open = (event.target as HTMLDetailsElement).open;
      if (open) {
        this._openTables.add(entry.id);
      } else {
        this._openTables.delete(entry.id);
      }
    });
    if (outcome) {
      card.appendChild(outcome);
    }
    return card;
  }

  private _model: IFlockModel;
  private _openTables = new Set<string>();
}
