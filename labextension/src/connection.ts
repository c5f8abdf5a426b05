/**
 * One open `flock` comm with one kernel: requests go out with an id, replies are matched
 * back to them, and anything the kernel sends unasked is forwarded as a push.
 */
import { Kernel } from '@jupyterlab/services';
import { JSONObject, UUID } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

import {
  COMM_TARGET,
  FlockMessage,
  FlockReply,
  IFlockRequest,
  IPushMessage,
  RequestType
} from './tokens';

/** Raised for requests that were pending when the comm closed. */
export class CommClosedError extends Error {
  constructor() {
    super('the flock comm was closed');
  }
}

interface IPending {
  resolve: (reply: FlockReply) => void;
  reject: (error: Error) => void;
}

export class FlockConnection {
  /**
   * Open a comm to the kernel's `flock` target and ask for its status.
   *
   * Resolves with the connection and the kernel's reply, or with null when flock is not
   * loaded there: the kernel then has no `flock` target and closes the comm at once.
   * (`requestCommInfo` cannot tell this: it lists open comms, not registered targets.)
   */
  static async open(
    kernel: Kernel.IKernelConnection
  ): Promise<{ connection: FlockConnection; reply: FlockReply } | null> {
    const connection = new FlockConnection(kernel);
    try {
      const reply = await connection._send({ id: UUID.uuid4(), type: 'status' }, true);
      return { connection, reply };
    } catch (error) {
      if (error instanceof CommClosedError) {
        return null;
      }
      connection.close();
      throw error;
    }
  }

  private constructor(kernel: Kernel.IKernelConnection) {
    this._comm = kernel.createComm(COMM_TARGET);
    this._comm.onMsg = msg => this._onMessage(msg.content.data as unknown as FlockMessage);
    this._comm.onClose = () => this._onClosed();
  }

  /** Emitted once when the comm closes, from either side (e.g. `%unload_ext flock`). */
  get closed(): ISignal<this, void> {
    return this._closed;
  }

  /** Messages the kernel sent without being asked. */
  get pushed(): ISignal<this, IPushMessage> {
    return this._pushed;
  }

  get isClosed(): boolean {
    return this._isClosed;
  }

  /** Send one request; resolves with the reply carrying the same id. */
  request(type: RequestType, extra: { model?: string } = {}): Promise<FlockReply> {
    return this._send({ id: UUID.uuid4(), type, ...extra }, false);
  }

  /** Close the comm; pending requests are rejected with CommClosedError. */
  close(): void {
    if (this._isClosed) {
      return;
    }
    try {
      this._comm.close();
    } catch {
      // the kernel connection is already gone (restart, shutdown)
    }
    this._onClosed();
  }

  private _send(request: IFlockRequest, opening: boolean): Promise<FlockReply> {
    if (this._isClosed) {
      return Promise.reject(new CommClosedError());
    }
    const reply = new Promise<FlockReply>((resolve, reject) => {
      this._pending.set(request.id, { resolve, reject });
    });
    const data: JSONObject = { id: request.id, type: request.type };
    if (request.model !== undefined) {
      data.model = request.model;
    }
    if (opening) {
      this._comm.open(data);
    } else {
      this._comm.send(data);
    }
    return reply;
  }

  private _onMessage(message: FlockMessage): void {
    const id = 'id' in message && typeof message.id === 'string' ? message.id : null;
    const pending = id === null ? undefined : this._pending.get(id);
    if (pending && id !== null) {
      this._pending.delete(id);
      pending.resolve(message as FlockReply);
    } else if (message && typeof message.type === 'string') {
      this._pushed.emit(message as IPushMessage);
    }
  }

  private _onClosed(): void {
    if (this._isClosed) {
      return;
    }
    this._isClosed = true;
    for (const pending of this._pending.values()) {
      pending.reject(new CommClosedError());
    }
    this._pending.clear();
    this._closed.emit();
    Signal.clearData(this);
  }

  private _comm: Kernel.IComm;
  private _isClosed = false;
  private _pending = new Map<string, IPending>();
  private _closed = new Signal<this, void>(this);
  private _pushed = new Signal<this, IPushMessage>(this);
}
