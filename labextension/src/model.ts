/**
 * FlockModel follows the active notebook and knows whether flock is loaded in its kernel.
 *
 * It owns the comm (through FlockConnection) and emits `stateChanged`; widgets only render
 * the state and call `refresh()` / `loadFlock()`. It never starts, restarts or changes kernels.
 */
import { ISessionContext } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { CommClosedError, FlockConnection } from './connection';
import { FlockContent } from './content';
import {
  FlockReply,
  IFlockContent,
  IFlockModel,
  IFlockState,
  IPushMessage,
  RequestType
} from './tokens';

/** The code the "Load flock" button runs in the kernel. */
export const LOAD_CODE = '%load_ext flock';

/** Cell code after which a kernel without flock may have it (checked when the kernel is idle). */
const MAY_LOAD_FLOCK = /(load_ext|reload_ext)\s+flock/;

const READY_STATUSES: ReadonlyArray<Kernel.Status> = ['idle', 'busy'];

export class FlockModel implements IFlockModel {
  constructor(tracker: INotebookTracker) {
    this._tracker = tracker;
    this._content = new FlockContent((type, extra) => this.request(type, extra));
    this._content.changed.connect((_, content) => this._contentChanged.emit(content), this);
    tracker.currentChanged.connect(this._onCurrentChanged, this);
    this._follow(tracker.currentWidget);
  }

  get state(): IFlockState {
    return this._state;
  }

  get stateChanged(): ISignal<IFlockModel, IFlockState> {
    return this._stateChanged;
  }

  get pushed(): ISignal<IFlockModel, IPushMessage> {
    return this._pushed;
  }

  get content(): IFlockContent {
    return this._content.state;
  }

  get contentChanged(): ISignal<IFlockModel, IFlockContent> {
    return this._contentChanged;
  }

  convert(modelId: string): Promise<void> {
    return this._content.convert(modelId);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  async refresh(): Promise<void> {
    const generation = ++this._generation;
    this._dropConnection();
    this._recheckWhenIdle = false;
    const notebook = this._panel?.context.path ?? null;
    if (notebook === null) {
      this._set({ phase: 'no-notebook', notebook, status: null, error: null });
      return;
    }
    const kernel = this._readyKernel();
    if (!kernel) {
      this._set({ phase: 'kernel-not-ready', notebook, status: null, error: null });
      return;
    }
    this._set({ phase: 'checking', notebook, status: null, error: null });
    let opened: Awaited<ReturnType<typeof FlockConnection.open>>;
    try {
      opened = await FlockConnection.open(kernel);
    } catch (error) {
      if (generation === this._generation) {
        this._set({ phase: 'error', notebook, status: null, error: describeError(error) });
      }
      return;
    }
    if (generation !== this._generation) {
      opened?.connection.close();
      return;
    }
    if (opened === null) {
      this._set({ phase: 'not-loaded', notebook, status: null, error: null });
      return;
    }
    const { connection, reply } = opened;
    this._connection = connection;
    connection.closed.connect(this._onConnectionClosed, this);
    connection.pushed.connect(this._onPushed, this);
    if (reply.type === 'status') {
      this._set({ phase: 'loaded', notebook, status: reply, error: null });
    } else {
      const problem = reply.type === 'error' ? reply.error : `a ${reply.type} reply to a status request`;
      this._set({ phase: 'error', notebook, status: null, error: `flock answered: ${problem}` });
    }
  }

  async loadFlock(): Promise<void> {
    const kernel = this._readyKernel();
    if (!kernel || this._state.phase === 'loading' || this._state.phase === 'loaded') {
      return;
    }
    const generation = ++this._generation;
    this._set({ ...this._state, phase: 'loading', error: null });
    let problem: string | null = null;
    const printed: string[] = [];
    try {
      const future = kernel.requestExecute({
        code: LOAD_CODE,
        silent: false,
        store_history: false
      });
      future.onIOPub = msg => {
        if (KernelMessage.isStreamMsg(msg)) {
          printed.push(msg.content.text);
        }
      };
      const reply = await future.done;
      const content = reply.content;
      if (content.status === 'error') {
        problem = `${content.ename}: ${content.evalue}`;
      } else if (content.status === 'aborted') {
        problem = 'the kernel aborted the request';
      }
    } catch (error) {
      problem = describeError(error);
    }
    if (generation !== this._generation) {
      return;
    }
    if (problem !== null) {
      this._set({ ...this._state, phase: 'error', error: `Could not load flock: ${problem}` });
      return;
    }
    const refreshed = this.refresh();
    const mine = this._generation;
    await refreshed;
    if (mine === this._generation && this._state.phase === 'not-loaded') {
      // %load_ext ran without an error but registered no comm target (it printed why, if anything)
      const why = printed.join('').trim() || `${LOAD_CODE} ran, but the kernel has no flock comm target`;
      this._set({ ...this._state, phase: 'error', error: `flock did not load: ${why}` });
    }
  }

  request(type: RequestType, extra: { model?: string } = {}): Promise<FlockReply> {
    if (!this._connection || this._connection.isClosed) {
      return Promise.reject(new Error('flock is not loaded in this kernel'));
    }
    return this._connection.request(type, extra);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._generation++;
    this._follow(null, false);
    this._tracker.currentChanged.disconnect(this._onCurrentChanged, this);
    this._content.clear();
    Signal.clearData(this._content);
    Signal.clearData(this);
  }

  private _onCurrentChanged(_: INotebookTracker, panel: NotebookPanel | null): void {
    this._follow(panel);
  }

  /** Switch to `panel` (or to none), moving the signal connections with it. */
  private _follow(panel: NotebookPanel | null, refresh = true): void {
    if (this._panel) {
      const old = this._panel.sessionContext;
      old.kernelChanged.disconnect(this._onKernelChanged, this);
      old.statusChanged.disconnect(this._onKernelActivity, this);
      old.connectionStatusChanged.disconnect(this._onKernelActivity, this);
      old.iopubMessage.disconnect(this._onIOPub, this);
      this._panel.context.pathChanged.disconnect(this._onPathChanged, this);
    }
    this._panel = panel;
    this._dropConnection();
    if (panel) {
      const session = panel.sessionContext;
      session.kernelChanged.connect(this._onKernelChanged, this);
      session.statusChanged.connect(this._onKernelActivity, this);
      session.connectionStatusChanged.connect(this._onKernelActivity, this);
      session.iopubMessage.connect(this._onIOPub, this);
      panel.context.pathChanged.connect(this._onPathChanged, this);
    }
    if (refresh) {
      void this.refresh();
    }
  }

  private _onKernelChanged(): void {
    void this.refresh();
  }

  /** Kernel status or connection changed: go "not ready", or ask again once it is ready. */
  private _onKernelActivity(): void {
    const kernel = this._readyKernel();
    const phase = this._state.phase;
    if (!kernel) {
      if (phase !== 'no-notebook' && phase !== 'kernel-not-ready') {
        this._generation++;
        this._dropConnection();
        this._set({ ...this._state, phase: 'kernel-not-ready', status: null, error: null });
      }
      return;
    }
    const idle = kernel.status === 'idle';
    if (phase === 'kernel-not-ready' || (idle && this._recheckWhenIdle)) {
      void this.refresh();
    }
  }

  /** A cell that may load flock ran: ask again when the kernel is idle. */
  private _onIOPub(_: ISessionContext, msg: KernelMessage.IMessage): void {
    const phase = this._state.phase;
    if (msg.header.msg_type !== 'execute_input' || (phase !== 'not-loaded' && phase !== 'error')) {
      return;
    }
    const code = (msg as KernelMessage.IExecuteInputMsg).content.code;
    if (MAY_LOAD_FLOCK.test(code)) {
      this._recheckWhenIdle = true;
    }
  }

  private _onPathChanged(): void {
    this._set({ ...this._state, notebook: this._panel?.context.path ?? null });
  }

  /** The kernel closed the comm (`%unload_ext flock`) or the kernel went away. */
  private _onConnectionClosed(connection: FlockConnection): void {
    if (connection === this._connection) {
      this._connection = null;
      void this.refresh();
    }
  }

  private _onPushed(_: FlockConnection, message: IPushMessage): void {
    if (message.type === 'lineage_updated' && this._state.phase === 'loaded') {
      void this._content.fetch();
    }
    this._pushed.emit(message);
  }

  private _readyKernel(): Kernel.IKernelConnection | null {
    const kernel = this._panel?.sessionContext.session?.kernel ?? null;
    if (!kernel || kernel.isDisposed || kernel.connectionStatus !== 'connected') {
      return null;
    }
    return READY_STATUSES.includes(kernel.status) ? kernel : null;
  }

  private _dropConnection(): void {
    const connection = this._connection;
    this._connection = null;
    if (connection) {
      connection.closed.disconnect(this._onConnectionClosed, this);
      connection.close();
    }
  }

  private _set(state: IFlockState): void {
    const wasLoaded = this._state.phase === 'loaded';
    this._state = state;
    if (state.phase !== 'loaded') {
      this._content.clear();
    }
    this._stateChanged.emit(state);
    if (state.phase === 'loaded' && !wasLoaded) {
      void this._content.fetch();
    }
  }

  private _tracker: INotebookTracker;
  private _content: FlockContent;
  private _panel: NotebookPanel | null = null;
  private _connection: FlockConnection | null = null;
  private _generation = 0;
  private _recheckWhenIdle = false;
  private _isDisposed = false;
  private _state: IFlockState = { phase: 'no-notebook', notebook: null, status: null, error: null };
  private _stateChanged = new Signal<IFlockModel, IFlockState>(this);
  private _pushed = new Signal<IFlockModel, IPushMessage>(this);
  private _contentChanged = new Signal<IFlockModel, IFlockContent>(this);
}

function describeError(error: unknown): string {
  if (error instanceof CommClosedError) {
    return 'the kernel closed the flock comm';
  }
  return error instanceof Error ? error.message : String(error);
}
