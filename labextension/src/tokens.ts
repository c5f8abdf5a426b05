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
  [key: string]: string | undefined;
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

/** A message the kernel sends without being asked (no id). */
export interface IPushMessage {
  type: 'lineage_updated';
  [key: string]: unknown;
}

/** Any reply to a request; later features add their reply types here. */
export type FlockReply = IStatusReply | IErrorReply;

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
