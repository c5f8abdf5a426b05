/**
 * FlockContent keeps what flock knows about the active notebook (lineage, models, conversions)
 * in step with its kernel: fetched when flock is loaded, again on every `lineage_updated` push,
 * and dropped when the panel stops following that kernel. FlockModel owns it and the comm;
 * this class only sends requests through the function it is given.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { FlockReply, IConversion, IFlockContent, RequestType } from './tokens';

type Requester = (type: RequestType, extra?: { model?: string }) => Promise<FlockReply>;

const EMPTY: IFlockContent = {
  lineage: null,
  models: [],
  conversions: new Map(),
  error: null,
  fetching: false
};

export class FlockContent {
  constructor(request: Requester) {
    this._request = request;
  }

  get state(): IFlockContent {
    return this._state;
  }

  get changed(): ISignal<this, IFlockContent> {
    return this._changed;
  }

  /** Forget everything (another notebook, a restarted kernel, flock unloaded). */
  clear(): void {
    this._generation++;
    this._again = false;
    this._inFlight = false;
    if (this._state !== EMPTY) {
      this._set(EMPTY);
    }
  }

  /** Ask for lineage and models again; a call while a fetch runs queues one more fetch. */
  async fetch(): Promise<void> {
    if (this._inFlight) {
      this._again = true;
      return;
    }
    const generation = this._generation;
    this._inFlight = true;
    this._set({ ...this._state, fetching: true });
    let next: Partial<IFlockContent>;
    try {
      const [lineage, models] = await Promise.all([
        this._request('lineage'),
        this._request('models')
      ]);
      if (lineage.type !== 'lineage' || models.type !== 'models') {
        const wrong = [lineage, models].find(reply => reply.type === 'error');
        throw new Error(wrong && wrong.type === 'error' ? wrong.error : 'unexpected reply type');
      }
      next = { lineage: lineage.lineage, models: models.models, error: null };
    } catch (error) {
      next = { error: `Could not read the lineage: ${describe(error)}` };
    }
    if (generation !== this._generation) {
      return;
    }
    this._inFlight = false;
    this._set({ ...this._state, ...next, fetching: false });
    if (this._again) {
      this._again = false;
      await this.fetch();
    }
  }

  /** Convert one model; the report (or the kernel's error text) lands in `state.conversions`. */
  async convert(modelId: string): Promise<void> {
    if (this._state.conversions.get(modelId)?.running) {
      return;
    }
    const generation = this._generation;
    this._setConversion(modelId, { running: true, reply: null, error: null });
    let done: IConversion;
    try {
      const reply = await this._request('convert', { model: modelId });
      if (reply.type === 'convert') {
        done = { running: false, reply, error: null };
      } else {
        const error = reply.type === 'error' ? reply.error : `a ${reply.type} reply to convert`;
        done = { running: false, reply: null, error };
      }
    } catch (error) {
      done = { running: false, reply: null, error: describe(error) };
    }
    if (generation === this._generation) {
      this._setConversion(modelId, done);
      if (done.reply) {
        void this.fetch(); // the conversion may have created or found the model's run
      }
    }
  }

  private _setConversion(modelId: string, conversion: IConversion): void {
    const conversions = new Map(this._state.conversions);
    conversions.set(modelId, conversion);
    this._set({ ...this._state, conversions });
  }

  private _set(state: IFlockContent): void {
    this._state = state;
    this._changed.emit(state);
  }

  private _request: Requester;
  private _state: IFlockContent = EMPTY;
  private _generation = 0;
  private _inFlight = false;
  private _again = false;
  private _changed = new Signal<this, IFlockContent>(this);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
