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
  lineage: ILineage;
}

/*
 * The lineage JSON, mirroring flock_nbext/schemas/lineage.schema.json (flock.lineage/1).
 * Only the fields the panel reads are typed; the kernel may send more.
 */

/** Where a notebook read data: a file, SQL tables, a bundled dataset. */
export interface IDataSource {
  id: string;
  kind: 'csv' | 'parquet' | 'excel' | 'json' | 'sql' | 'sklearn_dataset' | 'other';
  /** Path, table or query text as written. */
  source: string;
  tables: string[];
  /** The columns read, when known. */
  columns: string[] | null;
  var: string | null;
  line: number;
  cell?: number;
}

/** Which columns a model was trained on. */
export type FeatureSpec =
  | { columns: string[] }
  | { all_except: string[] }
  | { positional: string }
  | { unknown: string };

/** Which column(s) a model learned to predict. */
export type LabelSpec = string | null | { positional: string } | { columns: string[] };

/** A model built (and maybe fitted) in the notebook. */
export interface ILineageModel {
  id: string;
  var: string | null;
  /** Public fully-qualified class name, e.g. lightgbm.LGBMClassifier. */
  class: string;
  line: number;
  cell?: number;
  fit_cell?: number;
  /** As written: resolved literals, or source text when computed. */
  hyperparameters: { [name: string]: unknown };
  training_data: { sources: string[]; features: FeatureSpec; label: LabelSpec };
}

/** A metric call, attributed to the model(s) it evaluates. */
export interface ILineageMetric {
  id: string;
  /** Fully-qualified, e.g. sklearn.metrics.accuracy_score. */
  function: string;
  var: string | null;
  model: string | null;
  models: string[];
  line: number;
  cell?: number;
}

/** A node of the variable-level data-flow graph. */
export interface IGraphNode {
  id: string;
  kind: 'source' | 'variable' | 'model' | 'metric';
  label: string;
  line?: number;
  cell?: number;
}

/** `source` flows into `target`. */
export interface IGraphEdge {
  source: string;
  target: string;
}

/** The lineage of the notebook's kernel session. */
export interface ILineage {
  schema: 'flock.lineage/1';
  data_sources: IDataSource[];
  models: ILineageModel[];
  metrics: ILineageMetric[];
  graph: { nodes: IGraphNode[]; edges: IGraphEdge[] };
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

/** A conversion the panel asked for (one per model id). */
export interface IConversion {
  readonly running: boolean;
  /** The kernel's report, once it answered. */
  readonly reply: IConvertReply | null;
  /** Why it failed, as the kernel said it. */
  readonly error: string | null;
}

/** What flock knows about the active notebook: fetched when flock loads and on lineage_updated. */
export interface IFlockContent {
  /** null until fetched, and while flock is not loaded. */
  readonly lineage: ILineage | null;
  readonly models: ReadonlyArray<IModelEntry>;
  /** Conversions by model id. */
  readonly conversions: ReadonlyMap<string, IConversion>;
  /** Why the last fetch failed, or null. */
  readonly error: string | null;
  /** Whether a fetch is under way. */
  readonly fetching: boolean;
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
  /** Lineage, models and conversions of the active notebook. */
  readonly content: IFlockContent;
  readonly contentChanged: ISignal<IFlockModel, IFlockContent>;
  /** Ask the kernel to convert one model (by lineage id); the outcome lands in `content`. */
  convert(modelId: string): Promise<void>;
}

export const IFlockModel = new Token<IFlockModel>(
  'flock-nbext:IFlockModel',
  'The flock model: comm with the active notebook kernel and its state.'
);
