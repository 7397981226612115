// Minimal types for the `smpp` package (0.5.x ships none and there is no @types/smpp):
// only what channels/sms/transport.ts and dev/smsc-simulator.ts use.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  /** A decoded short_message / message_payload: the package splits off the UDH itself. */
  export interface DecodedMessage {
    /** One Buffer per information element: [IEI, length, ...data]. */
    udh?: Buffer[];
    message: string | Buffer;
  }

  export interface PduFields {
    command_status?: number;
    sequence_number?: number;
    system_id?: string;
    password?: string;
    system_type?: string;
    interface_version?: number;
    service_type?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    source_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    destination_addr?: string;
    esm_class?: number;
    protocol_id?: number;
    priority_flag?: number;
    registered_delivery?: number;
    /** Must be set when short_message is a Buffer: left null it is written as 0 silently. */
    data_coding?: number;
    /** A Buffer is sent as is; a string or object is re-encoded by the package. */
    short_message?: Buffer | string | DecodedMessage;
    message_id?: string;
    receipted_message_id?: string;
    message_state?: number;
    network_error_code?: Buffer;
    message_payload?: Buffer | DecodedMessage;
  }

  export class PDU implements PduFields {
    constructor(command: string, options?: PduFields);
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    system_id?: string;
    password?: string;
    system_type?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    source_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    destination_addr?: string;
    esm_class?: number;
    registered_delivery?: number;
    data_coding?: number;
    short_message?: Buffer | string | DecodedMessage;
    message_id?: string;
    receipted_message_id?: string;
    message_state?: number;
    network_error_code?: Buffer;
    message_payload?: Buffer | DecodedMessage;
    isResponse(): boolean;
    response(options?: PduFields): PDU;
    toBuffer(): Buffer;
  }

  export class Session extends EventEmitter {
    socket: Socket;
    /** Returns false, and forgets responseCallback, when the socket is not writable. */
    send(pdu: PDU, responseCallback?: (resp: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    on(event: 'connect' | 'close', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string, listener: (pdu: PDU) => void): this;
  }

  export class Server extends NetServer {
    sessions: Session[];
    on(event: 'session', listener: (session: Session) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
  }

  export interface ConnectOptions {
    host?: string;
    port?: number;
    url?: string;
    tls?: boolean;
    auto_enquire_link_period?: number;
  }

  /** How a TLV value is read (within its length), written and sized. */
  export interface TlvType {
    read(buffer: Buffer, offset: number, length: number): unknown;
    write(value: unknown, buffer: Buffer, offset: number): void;
    size(value: unknown): number;
    default?: unknown;
  }

  export interface TlvDefinition {
    id: number;
    tag?: string;
    type: TlvType;
    multiple?: boolean;
  }

  /** The package's TLV table, by tag; shared by every session in the process. */
  export const tlvs: Record<string, TlvDefinition>;
  /** The package's value types; `types.tlv.cstring` reads up to a NUL, ignoring the TLV length. */
  export const types: { tlv: Record<string, TlvType> };
  /** Registers (or replaces) the TLV with this tag, by tag and by id. */
  export function addTLV(tag: string, options: TlvDefinition): void;

  export function connect(options: ConnectOptions, listener?: () => void): Session;
  export function createServer(listener?: (session: Session) => void): Server;
  export function createServer(options: object, listener?: (session: Session) => void): Server;
}
