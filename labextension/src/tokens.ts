/**
 * Payload types of the `flock` comm and the model token other plugins depend on.
 *
 * The message shapes mirror flock_nbext/schemas/comm.schema.json (schema id "flock.comm/1");
 * when that file changes, this one changes with it.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

/** The comm target the kernel side registers when `%load_ext flock` runs. */
export const COMM_TARGET = 'flock';

/** What the panel may ask the kernel. */
export type RequestType = 'status' | 'lineage' | 'models' | 'convert';

/** A request; the kernel answers with the same `id`. */
export interface IFlockRequest {
  id: string;
  type: RequestType;
  /** convert: the model id (from models/lineage) to convert. */
  model?: string;
}

/** Reply to a `status` request. */
export interface IStatusReply {
  id?: string | null;
  type: 'status';
  loaded: boolean;
  version: string;
  /** Whether tracking is on. */
  enabled: boolean;
  experiment?: string | null;
  tracking_uri?: string | null;
  /** Whether the panel parts of flock are active in this kernel. */
  panel?: boolean;
}

/** Reply to a malformed, unknown or failed request. */
export interface IErrorReply {
  id?: string | null;
  type: 'error';
  error: string;
}

/** Reply to a `lineage` request: the notebook's lineage JSON (schema flock.lineage/1). */
export interface ILineageReply {
  id?: string | null;
  type: 'lineage';
  lineage: { schema: 'flock.lineage/1'; [key: string]: unknown };
}

/** One model flock knows of in this kernel. */
export interface IModelEntry {
  /** Lineage id of the model. */
  id: string;
  var?: string | null;
  class?: string | null;
  /** Whether flock saw this model trained in this kernel. */
  trained: boolean;
  cell?: number | null;
  /** MLflow run of its latest fit (null until logged). */
  run_id?: string | null;
}

/** Reply to a `models` request. */
export interface IModelsReply {
  id?: string | null;
  type: 'models';
  models: IModelEntry[];
}

/** Reply to a `convert` request: the chosen ONNX candidate and the report. */
export interface IConvertReply {
  id?: string | null;
  type: 'convert';
  model: string;
  candidate: string;
  speedup?: { [name: string]: number };
  run_id?: string | null;
  /** Whether it was logged as an onnx model to the model's run. */
  logged: boolean;
  /** One report row per candidate and one for the original. */
  rows: Array<{ [key: string]: unknown }>;
  /** The report as a Markdown table. */
  table?: string;
}

/** Pushed (no id) after every executed cell: ask for lineage/models again. */
export interface ILineageUpdated {
  type: 'lineage_updated';
}

/** A message the kernel sends without being asked (no id). */
export type IPushMessage = ILineageUpdated;

/** Any reply to a request. */
export type FlockReply =
  | IStatusReply
  | ILineageReply
  | IModelsReply
  | IConvertReply
  | IErrorReply;

/** Any message the kernel sends on the comm. */
export type FlockMessage = FlockReply | IPushMessage;

/** Where the panel stands with the active notebook's kernel. */
export type FlockPhase =
  | 'no-notebook'
  | 'kernel-not-ready'
  | 'checking'
  | 'not-loaded'
  | 'loading'
  | 'loaded'
  | 'error';

/** Everything the panel renders; replaced as a whole on each change. */
export interface IFlockState {
  readonly phase: FlockPhase;
  /** The active notebook's path, or null when none is open. */
  readonly notebook: string | null;
  /** The last status reply, when flock is loaded. */
  readonly status: IStatusReply | null;
  /** One line saying what went wrong, in the error phase. */
  readonly error: string | null;
}

/** The model that owns the comm with the active notebook's kernel. */
export interface IFlockModel {
  readonly state: IFlockState;
  readonly stateChanged: ISignal<IFlockModel, IFlockState>;
  /** Messages the kernel pushes without being asked (e.g. lineage_updated). */
  readonly pushed: ISignal<IFlockModel, IPushMessage>;
  /** Ask the kernel again whether flock is loaded. */
  refresh(): Promise<void>;
  /** Run `%load_ext flock` in the active notebook's kernel, then ask again. */
  loadFlock(): Promise<void>;
  /** Send one request on the comm and resolve with the reply carrying its id. */
  request(type: RequestType, extra?: { model?: string }): Promise<FlockReply>;
}

export const IFlockModel = new Token<IFlockModel>(
  'flock-nbext:IFlockModel',
  'The flock model: comm with the active notebook kernel and its state.'
);
