/**
 * The status view: which notebook the panel follows, whether flock is loaded in its kernel,
 * and the "Load flock" button. The texts are part of the UI contract (browser tests read them).
 */
import { Widget } from '@lumino/widgets';

import { IFlockModel, IFlockState } from '../tokens';

/** What the view shows for one state. */
export interface IStatusText {
  /** The status line. */
  text: string;
  /** A second line with details (tracking, experiment, store), or ''. */
  detail: string;
  /** Whether the "Load flock" button is shown. */
  canLoad: boolean;
  /** Whether a request to the kernel is under way (the button is then disabled). */
  busy: boolean;
}

/** The status line and details for `state` (pure, so it reads like the UI). */
export function describeState(state: IFlockState): IStatusText {
  switch (state.phase) {
    case 'no-notebook':
      return { text: 'No notebook open', detail: '', canLoad: false, busy: false };
    case 'kernel-not-ready':
      return { text: 'Kernel not ready', detail: '', canLoad: false, busy: false };
    case 'checking':
      return { text: 'Asking the kernel about flock…', detail: '', canLoad: false, busy: true };
    case 'not-loaded':
      return { text: 'flock is not loaded in this kernel', detail: '', canLoad: true, busy: false };
    case 'loading':
      return { text: 'Loading flock…', detail: '', canLoad: true, busy: true };
    case 'error':
      return { text: state.error ?? 'flock reported an error', detail: '', canLoad: true, busy: false };
    case 'loaded': {
      const status = state.status;
      const details = [status?.enabled ? 'tracking on' : 'tracking off'];
      if (status?.experiment) {
        details.push(`experiment ${status.experiment}`);
      }
      if (status?.tracking_uri) {
        details.push(status.tracking_uri);
      }
      return {
        text: `flock ${status?.version ?? ''} is loaded`,
        detail: details.join(' · '),
        canLoad: false,
        busy: false
      };
    }
  }
}

export class StatusView extends Widget {
  constructor(model: IFlockModel) {
    super();
    this._model = model;
    this.addClass('jp-FlockStatus');
    this._notebook = this._append('div', 'jp-FlockStatus-notebook', 'flock-notebook');
    this._text = this._append('div', 'jp-FlockStatus-text', 'flock-status');
    this._detail = this._append('div', 'jp-FlockStatus-detail', 'flock-detail');
    this._button = this._append('button', 'jp-FlockStatus-load', 'flock-load-button');
    this._button.className += ' jp-Button jp-mod-styled jp-mod-accept';
    this._button.textContent = 'Load flock';
    this._button.title = 'Run %load_ext flock in this notebook’s kernel';
    this._button.addEventListener('click', () => void this._model.loadFlock());
    model.stateChanged.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    this._model.stateChanged.disconnect(this._render, this);
    super.dispose();
  }

  private _append<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    className: string,
    testId: string
  ): HTMLElementTagNameMap[K] {
    const element = document.createElement(tag);
    element.className = className;
    element.dataset.testid = testId;
    this.node.appendChild(element);
    return element;
  }

  private _render(): void {
    const state = this._model.state;
    const shown = describeState(state);
    this._notebook.textContent = state.notebook ?? '';
    this._notebook.title = state.notebook ?? '';
    this._text.textContent = shown.text;
    this._text.dataset.phase = state.phase;
    this._detail.textContent = shown.detail;
    this._detail.hidden = shown.detail === '';
    this._button.hidden = !shown.canLoad;
    this._button.disabled = shown.busy;
  }

  private _model: IFlockModel;
  private _notebook: HTMLDivElement;
  private _text: HTMLDivElement;
  private _detail: HTMLDivElement;
  private _button: HTMLButtonElement;
}
