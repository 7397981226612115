// Local SMSC for `npm start` and the integration tests: a real SMPP 3.4 server (the `smpp`
// package's server side) on a TCP socket. It binds transceivers, answers submit_sm, sends
// delivery receipts, records what it received, and can be scripted per destination number
// to fail the way real SMSCs and networks do.
//
// Numbers can also be scripted through their last four digits, so a run started through
// the REST API (where a test cannot call script()) still hits failures; the other digits
// are free, so every test can use its own numbers (819012340001, 819055550001, …). An
// explicit script() for the number wins.
//
//   ends in  behaviour
//   -------  ------------------------------------------------------------------------------
//   0001     never-confirm: accepted, no receipt ever
//   0002     fail: receipt stat:UNDELIV err:001 (absent subscriber: handset off / out of range)
//   0003     fail: receipt stat:UNDELIV err:005 (unidentified subscriber: hard)
//   0004     fail: receipt stat:REJECTD err:000
//   0005     fail: receipt stat:EXPIRED err:000
//   0011     throttle: submit_sm_resp 0x58 (ESME_RTHROTTLED) once, accepted afterwards
//   0012     queue-full: submit_sm_resp 0x14 (ESME_RMSGQFUL) once, accepted afterwards
//   0013     invalid-destination: submit_sm_resp 0x0B (ESME_RINVDSTADR), always
//   0014     drop-bind: the connection is closed on the submit, once; accepted afterwards
//   0021     fail-part 2: the receipt of part 2 says UNDELIV err:001, the others DELIVRD
//   0031     slow: submit_sm_resp after 500 ms, then delivered
//   other    deliver: accepted, receipt stat:DELIVRD err:000 after receiptDelayMs
//
// An "attempt" is one submit_sm to the number (each part of a long message is one).
// throttle / queue-full / drop-bind refuse the first `times` attempts (default 1) and then
// behave as deliver. Attempt counters reset on script() and clearScripts().
//
// Message ids are hex in submit_sm_resp and, by default, decimal in the receipt text,
// as several real SMSCs do, with the receipted_message_id TLV in the submit_sm_resp form.
//
// What other SMSCs do that a client must handle, each switched on by an option or a method:
// receipts sent as data_sm (TLVs only, no text), a receipted_message_id TLV without its
// NUL terminator or naming an id of the SMSC's own, and PDUs with a command id SMPP does
// not define (sendUnknownCommand). Receipt TLVs are written by the simulator itself, in
// the order receipted_message_id, message_state, network_error_code.
import { encodeGsm7, encodeUcs2 } from '../channels/sms/smpp-pdu';
import { PDU, createServer, type DecodedMessage, type Server, type Session } from 'smpp';

export type SmscBehaviour =
  | { kind: 'deliver'; delayMs?: number }
  | { kind: 'fail'; stat: string; err: string; delayMs?: number }
  | { kind: 'never-confirm' }
  | { kind: 'throttle'; times?: number }
  | { kind: 'queue-full'; times?: number }
  | { kind: 'invalid-destination' }
  | { kind: 'drop-bind'; times?: number }
  | { kind: 'fail-part'; part: number; stat?: string; err?: string }
  | { kind: 'slow'; responseDelayMs: number };

export interface ReceivedSubmit {
  destination: string;
  source: string;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  /** short_message decoded by its data_coding, UDH removed. */
  text: string;
  /** The concatenation information element, when the part carries one. */
  udh: { ref: number; total: number; seq: number } | null;
  /** The id answered; null when refused or dropped. */
  messageId: string | null;
  /** command_status answered; -1 when the connection was dropped instead. */
  status: number;
  receivedAt: Date;
}

export interface SentReceipt {
  /** The id as submit_sm_resp gave it. */
  messageId: string;
  /** The PDU that carried it. */
  command: 'deliver_sm' | 'data_sm';
  /** The client's command_status in its response; null while unanswered. */
  responseStatus: number | null;
  handset: string;
  stat: string;
  err: string;
  /** The receipt text as sent. */
  text: string;
  sentAt: Date;
}

export interface SmscSimulatorOptions {
  /** 0 = random free port. */
  port?: number;
  host?: string;
  systemId?: string;
  password?: string;
  /** Delay of a receipt after its submit_sm_resp. Default 20 ms. */
  receiptDelayMs?: number;
  /** Close a session that sent no PDU for this long, like a real SMSC's inactivity timer. 0 = never (default). */
  idleTimeoutMs?: number;
  /** How submit_sm_resp ids are written. Default 'hex'. */
  messageIds?: 'hex' | 'decimal';
  /** How the receipt text's id: is written. Default 'decimal'. */
  receiptTextId?: 'same' | 'decimal';
  /** Send the receipted_message_id TLV. Default true. */
  receiptTlv?: boolean;
  /**
   * How the receipted_message_id TLV is written: 'terminated' (SMPP 3.4, default),
   * 'unterminated' (the length covers the id only, no NUL), or 'unrelated' (an id of the
   * SMSC's own that no submit_sm_resp gave; the text's id: is still the right one).
   */
  receiptTlvForm?: 'terminated' | 'unterminated' | 'unrelated';
  /** The PDU receipts go in. 'data_sm' carries no text: message_state and network_error_code TLVs only. Default 'deliver_sm'. */
  receiptVia?: 'deliver_sm' | 'data_sm';
  /** How many of the most recent submits to keep; submitCount() counts all. */
  keepSubmits?: number;
  logger?: (line: string) => void;
}

const STATUS = {
  OK: 0x00,
  INVALID_BIND_STATUS: 0x04,
  ALREADY_BOUND: 0x05,
  INVALID_DESTINATION: 0x0b,
  BIND_FAILED: 0x0d,
  QUEUE_FULL: 0x14,
  THROTTLED: 0x58,
} as const;
const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
const DROPPED = -1;

const MESSAGE_STATE: Readonly<Record<string, number>> = {
  ENROUTE: 1,
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
};

const CONVENTIONS: ReadonlyMap<string, SmscBehaviour> = new Map<string, SmscBehaviour>([
  ['0001', { kind: 'never-confirm' }],
  ['0002', { kind: 'fail', stat: 'UNDELIV', err: '001' }],
  ['0003', { kind: 'fail', stat: 'UNDELIV', err: '005' }],
  ['0004', { kind: 'fail', stat: 'REJECTD', err: '000' }],
  ['0005', { kind: 'fail', stat: 'EXPIRED', err: '000' }],
  ['0011', { kind: 'throttle', times: 1 }],
  ['0012', { kind: 'queue-full', times: 1 }],
  ['0013', { kind: 'invalid-destination' }],
  ['0014', { kind: 'drop-bind', times: 1 }],
  ['0021', { kind: 'fail-part', part: 2, stat: 'UNDELIV', err: '001' }],
  ['0031', { kind: 'slow', responseDelayMs: 500 }],
]);

interface Client {
  session: Session;
  systemId: string | null;
  /** submit_sm received and not yet answered. */
  outstanding: number;
  idleTimer: NodeJS.Timeout | null;
}

interface QueuedReceipt {
  systemId: string;
  preferred: Client;
  pdu: () => PDU;
  record: SentReceipt;
}

export class SmscSimulator {
  private readonly opts: Required<Omit<SmscSimulatorOptions, 'logger' | 'host'>> & { host: string };
  private readonly log: (line: string) => void;
  private server: Server | null = null;
  private readonly clients = new Set<Client>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly scripts = new Map<string, SmscBehaviour>();
  private readonly attempts = new Map<string, number>();
  private readonly received: ReceivedSubmit[] = [];
  private readonly sentReceipts: SentReceipt[] = [];
  private readonly undelivered: QueuedReceipt[] = [];
  private readonly submitListeners = new Set<(s: ReceivedSubmit) => void>();
  private totalSubmits = 0;
  private nextId = 0xa0000000;
  private binds = 0;
  private refusedBinds = 0;
  private enquireLinks = 0;
  private outstandingHighWater = 0;
  private answerEnquireLink = true;
  private nextSequence = 0;

  constructor(options: SmscSimulatorOptions = {}) {
    this.opts = {
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      systemId: options.systemId ?? 'orchestrator',
      password: options.password ?? 'secret',
      receiptDelayMs: options.receiptDelayMs ?? 20,
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
      messageIds: options.messageIds ?? 'hex',
      receiptTextId: options.receiptTextId ?? 'decimal',
      receiptTlv: options.receiptTlv ?? true,
      receiptTlvForm: options.receiptTlvForm ?? 'terminated',
      receiptVia: options.receiptVia ?? 'deliver_sm',
      keepSubmits: options.keepSubmits ?? Infinity,
    };
    this.log = options.logger ?? (() => undefined);
  }

  async start(): Promise<{ port: number; host: string }> {
    const server = createServer((session) => this.accept(session));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('SMSC simulator has no TCP address');
    this.log(`smsc listening on ${this.opts.host}:${address.port}`);
    return { port: address.port, host: this.opts.host };
  }

  /** Closes every client connection at once (no unbind) and the listening socket. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    this.server = null;
    for (const client of this.clients) {
      if (client.idleTimer) clearTimeout(client.idleTimer);
      client.session.destroy();
    }
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Changes how later receipts are sent (a running simulator, e.g. the test harness's). */
  configureReceipts(
    options: Pick<SmscSimulatorOptions, 'receiptVia' | 'receiptTlvForm' | 'receiptTextId' | 'receiptTlv'>,
  ): void {
    if (options.receiptVia !== undefined) this.opts.receiptVia = options.receiptVia;
    if (options.receiptTlvForm !== undefined) this.opts.receiptTlvForm = options.receiptTlvForm;
    if (options.receiptTextId !== undefined) this.opts.receiptTextId = options.receiptTextId;
    if (options.receiptTlv !== undefined) this.opts.receiptTlv = options.receiptTlv;
  }

  script(number: string, behaviour: SmscBehaviour): void {
    this.scripts.set(number, behaviour);
    this.attempts.delete(number);
  }

  clearScripts(): void {
    this.scripts.clear();
    this.attempts.clear();
  }

  /** The behaviour a submit to this number gets (script, else the suffix convention, else deliver). */
  behaviourFor(number: string): SmscBehaviour {
    return this.scripts.get(number) ?? CONVENTIONS.get(number.slice(-4)) ?? { kind: 'deliver' };
  }

  submits(): readonly ReceivedSubmit[] {
    return this.received;
  }

  submitCount(): number {
    return this.totalSubmits;
  }

  messagesTo(number: string): ReceivedSubmit[] {
    return this.received.filter((s) => s.destination === number);
  }

  /**
   * The messages a handset would show: concatenated parts joined by reference in seq
   * order, one entry per message, in arrival order. A part arriving again (a resend)
   * replaces its earlier copy; refused and dropped submits never reached the handset.
   */
  reassembled(number: string): string[] {
    const messages: Array<{ key: string | null; total: number; parts: Map<number, string> }> = [];
    const open = new Map<string, (typeof messages)[number]>();
    for (const s of this.messagesTo(number)) {
      if (s.status !== STATUS.OK) continue;
      if (!s.udh) {
        messages.push({ key: null, total: 1, parts: new Map([[1, s.text]]) });
        continue;
      }
      const key = `${s.udh.ref}/${s.udh.total}`;
      let message = open.get(key);
      if (!message || message.parts.size === message.total) {
        message = { key, total: s.udh.total, parts: new Map() };
        messages.push(message);
        open.set(key, message);
      }
      message.parts.set(s.udh.seq, s.text);
    }
    return messages.map((m) =>
      [...m.parts.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, text]) => text)
        .join(''),
    );
  }

  receipts(): readonly SentReceipt[] {
    return this.sentReceipts;
  }

  onSubmit(listener: (submit: ReceivedSubmit) => void): () => void {
    this.submitListeners.add(listener);
    return () => this.submitListeners.delete(listener);
  }

  bindCount(): number {
    return this.binds;
  }

  refusedBindCount(): number {
    return this.refusedBinds;
  }

  enquireLinkCount(): number {
    return this.enquireLinks;
  }

  /** The most submit_sm any one session had waiting for their response at once. */
  maxOutstanding(): number {
    return this.outstandingHighWater;
  }

  openSessions(): number {
    return this.clients.size;
  }

  /** Stop (or resume) answering enquire_link, as a hung SMSC would. */
  setAnswerEnquireLink(answer: boolean): void {
    this.answerEnquireLink = answer;
  }

  /**
   * A long reply as a handset sends it: `parts` in order, each a deliver_sm (or data_sm) carrying a
   * concatenation UDH with one reference. Resolves with each part's command_status.
   */
  async sendConcatenatedMobileOriginated(
    mo: {
      from: string;
      to: string;
      parts: string[];
      encoding: 'gsm' | 'ucs2';
      via?: 'deliver_sm' | 'data_sm';
      ref?: number;
    },
    timeoutMs = 10_000,
  ): Promise<Array<number | null>> {
    const ref = mo.ref ?? Math.floor(Math.random() * 256);
    const statuses: Array<number | null> = [];
    for (const [i, text] of mo.parts.entries()) {
      statuses.push(
        await this.sendMobileOriginated(
          { ...mo, text, concat: { ref, total: mo.parts.length, seq: i + 1 } },
          timeoutMs,
        ),
      );
    }
    return statuses;
  }

  /**
   * A handset's reply (mobile-originated): deliver_sm with short_message, or data_sm with
   * message_payload, in GSM 03.38 (data_coding 0) or UCS-2 (8). Sent to one bound session;
   * resolves with the client's command_status, or null when it does not answer in timeoutMs.
   */
  async sendMobileOriginated(
    mo: {
      from: string;
      to: string;
      text: string;
      encoding: 'gsm' | 'ucs2';
      via?: 'deliver_sm' | 'data_sm';
      /** A part of a concatenated reply: its UDH (IE 0x00, 8-bit reference) goes before the text. */
      concat?: { ref: number; total: number; seq: number };
    },
    timeoutMs = 10_000,
  ): Promise<number | null> {
    const target = [...this.clients].find((c) => c.systemId !== null);
    if (!target) throw new Error('no bound session to send to');
    const dataCoding = mo.encoding === 'gsm' ? 0x00 : 0x08;
    const text = mo.encoding === 'gsm' ? encodeGsm7(mo.text) : encodeUcs2(mo.text);
    const body = mo.concat
      ? Buffer.concat([Buffer.from([0x05, 0x00, 0x03, mo.concat.ref, mo.concat.total, mo.concat.seq]), text])
      : text;
    const address = {
      source_addr_ton: 0x01,
      source_addr_npi: 0x01,
      source_addr: mo.from,
      dest_addr_ton: /^\d+$/.test(mo.to) ? 0x01 : 0x05,
      destination_addr: mo.to,
      // 0x40: UDH indicator, the short message starts with its user data header.
      esm_class: mo.concat ? 0x40 : 0x00,
      data_coding: dataCoding,
    };
    const pdu =
      mo.via === 'data_sm'
        ? withRawTlvs(new PDU('data_sm', address), tlv(0x0424, body))
        : new PDU('deliver_sm', { ...address, short_message: body });
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      const sent = target.session.send(pdu, (resp) => {
        clearTimeout(timer);
        resolve(resp.command_status);
      });
      if (!sent) {
        clearTimeout(timer);
        resolve(null);
      }
    });
  }

  /**
   * Sends a PDU with a command id SMPP does not define to every bound session; resolves
   * with the first response (command id and status), or null when none comes in timeoutMs.
   */
  async sendUnknownCommand(
    commandId: number,
    timeoutMs = 10_000,
  ): Promise<{ commandId: number; commandStatus: number } | null> {
    const targets = [...this.clients].filter((c) => c.systemId !== null);
    if (targets.length === 0) throw new Error('no bound session to send to');
    return new Promise((resolve) => {
      const cleanups: Array<() => void> = [];
      const done = (answer: { commandId: number; commandStatus: number } | null): void => {
        clearTimeout(timer);
        for (const cleanup of cleanups) cleanup();
        resolve(answer);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      for (const client of targets) {
        const sequence = (this.nextSequence = (this.nextSequence % 0x7fffffff) + 1) + 0x40000000;
        const header = Buffer.alloc(16);
        header.writeUInt32BE(16, 0);
        header.writeUInt32BE(commandId >>> 0, 4);
        header.writeUInt32BE(0, 8);
        header.writeUInt32BE(sequence, 12);
        const onPdu = (pdu: PDU): void => {
          if (pdu.sequence_number === sequence && pdu.isResponse()) {
            done({ commandId: pdu.command_id >>> 0, commandStatus: pdu.command_status });
          }
        };
        client.session.on('pdu', onPdu);
        cleanups.push(() => client.session.off('pdu', onPdu));
        client.session.socket.write(header);
      }
    });
  }

  /** Closes every client connection abruptly, as a network failure would. */
  dropAll(): void {
    for (const client of this.clients) client.session.destroy();
  }

  // --- sessions ----------------------------------------------------------------

  private accept(session: Session): void {
    const client: Client = { session, systemId: null, outstanding: 0, idleTimer: null };
    this.clients.add(client);
    this.touch(client);
    session.on('error', (err) => this.log(`smsc session error: ${err.message}`));
    session.on('close', () => {
      if (client.idleTimer) clearTimeout(client.idleTimer);
      this.clients.delete(client);
    });
    session.on('pdu', () => this.touch(client));
    session.on('bind_transceiver', (pdu) => this.bind(client, pdu));
    for (const other of ['bind_transmitter', 'bind_receiver']) {
      // Receipts need the same session to carry both directions.
      session.on(other, (pdu) => {
        this.refusedBinds += 1;
        session.send(pdu.response({ command_status: STATUS.BIND_FAILED }));
      });
    }
    session.on('enquire_link', (pdu) => {
      this.enquireLinks += 1;
      if (this.answerEnquireLink) session.send(pdu.response());
    });
    session.on('unbind', (pdu) => {
      client.systemId = null;
      session.send(pdu.response(), () => session.close());
    });
    session.on('submit_sm', (pdu) => this.submit(client, pdu));
    session.on('unknown', (pdu) => session.send(pdu.response()));
  }

  private touch(client: Client): void {
    if (this.opts.idleTimeoutMs <= 0) return;
    if (client.idleTimer) clearTimeout(client.idleTimer);
    client.idleTimer = setTimeout(() => {
      this.log(`smsc closing a session idle for ${this.opts.idleTimeoutMs} ms`);
      client.session.destroy();
    }, this.opts.idleTimeoutMs);
  }

  private bind(client: Client, pdu: PDU): void {
    if (client.systemId !== null) {
      client.session.send(pdu.response({ command_status: STATUS.ALREADY_BOUND }));
      return;
    }
    if (pdu.system_id !== this.opts.systemId || pdu.password !== this.opts.password) {
      this.refusedBinds += 1;
      this.log(`smsc bind refused for ${JSON.stringify(pdu.system_id)}`);
      const session = client.session;
      session.send(pdu.response({ command_status: STATUS.BIND_FAILED }), () => session.close());
      return;
    }
    client.systemId = this.opts.systemId;
    this.binds += 1;
    client.session.send(pdu.response({ system_id: 'smsc-simulator' }));
    this.flushUndelivered();
  }

  // --- submit_sm -----------------------------------------------------------------

  private submit(client: Client, pdu: PDU): void {
    const session = client.session;
    if (client.systemId === null) {
      session.send(pdu.response({ command_status: STATUS.INVALID_BIND_STATUS }));
      return;
    }
    client.outstanding += 1;
    this.outstandingHighWater = Math.max(this.outstandingHighWater, client.outstanding);
    const number = pdu.destination_addr ?? '';
    const attempt = (this.attempts.get(number) ?? 0) + 1;
    this.attempts.set(number, attempt);
    const behaviour = this.behaviourFor(number);
    const { text, udh } = decodeShortMessage(pdu);
    const record: ReceivedSubmit = {
      destination: number,
      source: pdu.source_addr ?? '',
      dataCoding: pdu.data_coding ?? 0,
      esmClass: pdu.esm_class ?? 0,
      registeredDelivery: pdu.registered_delivery ?? 0,
      text,
      udh,
      messageId: null,
      status: STATUS.OK,
      receivedAt: new Date(),
    };
    this.remember(record);

    const refuse = (status: number): void => {
      record.status = status;
      this.respond(client, pdu, { command_status: status });
      this.notify(record);
    };
    const refusing = (times: number | undefined): boolean => attempt <= (times ?? 1);
    switch (behaviour.kind) {
      case 'drop-bind':
        if (refusing(behaviour.times)) {
          record.status = DROPPED;
          this.log(`smsc dropping the connection on a submit to ${number}`);
          session.destroy();
          this.notify(record);
          return;
        }
        break;
      case 'throttle':
        if (refusing(behaviour.times)) return refuse(STATUS.THROTTLED);
        break;
      case 'queue-full':
        if (refusing(behaviour.times)) return refuse(STATUS.QUEUE_FULL);
        break;
      case 'invalid-destination':
        return refuse(STATUS.INVALID_DESTINATION);
      default:
        break;
    }

    const messageId = this.takeMessageId();
    record.messageId = messageId;
    const accept = (): void => {
      // A response that cannot be written (the client went away meanwhile) accepted nothing.
      if (!this.respond(client, pdu, { message_id: messageId })) {
        record.status = DROPPED;
        record.messageId = null;
      } else if ((record.registeredDelivery & 0x03) !== 0) {
        this.scheduleReceipt(client, record, behaviour);
      }
      this.notify(record);
    };
    if (behaviour.kind === 'slow') this.later(behaviour.responseDelayMs, accept);
    else accept();
  }

  private respond(
    client: Client,
    request: PDU,
    fields: { command_status?: number; message_id?: string },
  ): boolean {
    client.outstanding -= 1;
    return client.session.send(request.response(fields));
  }

  private remember(record: ReceivedSubmit): void {
    this.totalSubmits += 1;
    this.received.push(record);
    if (this.received.length > this.opts.keepSubmits) this.received.shift();
  }

  /** Listeners hear of a submit once it is answered (or dropped), so they see the outcome. */
  private notify(record: ReceivedSubmit): void {
    for (const listener of this.submitListeners) listener(record);
  }

  private takeMessageId(): string {
    const n = this.nextId++;
    return this.opts.messageIds === 'hex' ? n.toString(16).toUpperCase() : String(n);
  }

  // --- receipts ----------------------------------------------------------------------

  private scheduleReceipt(client: Client, submit: ReceivedSubmit, behaviour: SmscBehaviour): void {
    let stat = 'DELIVRD';
    let err = '000';
    let delayMs = this.opts.receiptDelayMs;
    switch (behaviour.kind) {
      case 'never-confirm':
        return;
      case 'fail':
        ({ stat, err } = behaviour);
        delayMs = behaviour.delayMs ?? delayMs;
        break;
      case 'fail-part':
        if ((submit.udh?.seq ?? 1) === behaviour.part) {
          stat = behaviour.stat ?? 'UNDELIV';
          err = behaviour.err ?? '001';
        }
        break;
      case 'deliver':
        delayMs = behaviour.delayMs ?? delayMs;
        break;
      default:
        break;
    }
    const messageId = submit.messageId!;
    const textId =
      this.opts.receiptTextId === 'decimal' && this.opts.messageIds === 'hex'
        ? BigInt(`0x${messageId}`).toString(10)
        : messageId;
    const now = new Date();
    const date = receiptDate(now);
    const delivered = stat === 'DELIVRD' ? '001' : '000';
    const echo = submit.text.slice(0, 20).replace(/[^A-Za-z0-9 .,!?-]/g, '.');
    const text =
      `id:${textId} sub:001 dlvrd:${delivered} submit date:${receiptDate(submit.receivedAt)} ` +
      `done date:${date} stat:${stat} err:${err} text:${echo}`;
    const command = this.opts.receiptVia;
    const record: SentReceipt = {
      messageId,
      command,
      responseStatus: null,
      handset: submit.destination,
      stat,
      err,
      text: command === 'data_sm' ? '' : text,
      sentAt: now,
    };
    const tlvs: Buffer[] = [];
    if (this.opts.receiptTlv) {
      const form = this.opts.receiptTlvForm;
      const id = form === 'unrelated' ? `route-${messageId}` : messageId;
      tlvs.push(tlv(0x001e, Buffer.from(form === 'unterminated' ? id : `${id}\0`, 'latin1')));
    }
    tlvs.push(tlv(0x0427, Buffer.of(MESSAGE_STATE[stat] ?? MESSAGE_STATE.UNKNOWN!)));
    if (command === 'data_sm' && err !== '000') {
      // network_error_code: network type 3 (GSM), then the error as a 2-octet number.
      const value = Buffer.alloc(3);
      value[0] = 0x03;
      value.writeUInt16BE(Number(err), 1);
      tlvs.push(tlv(0x0423, value));
    }
    const address = {
      source_addr_ton: 0x01,
      source_addr_npi: 0x01,
      source_addr: submit.destination,
      destination_addr: submit.source,
      esm_class: ESM_CLASS_DELIVERY_RECEIPT,
      data_coding: 0x00,
    };
    const pdu = (): PDU =>
      withRawTlvs(
        command === 'data_sm'
          ? new PDU('data_sm', address)
          : new PDU('deliver_sm', { ...address, short_message: Buffer.from(text, 'ascii') }),
        Buffer.concat(tlvs),
      );
    this.later(delayMs, () => {
      this.undelivered.push({
        systemId: client.systemId ?? this.opts.systemId,
        preferred: client,
        pdu,
        record,
      });
      this.flushUndelivered();
    });
  }

  /**
   * Receipts go to the session that submitted the message, else to any session bound
   * with the same system_id; with none bound they wait for the next bind, as an SMSC
   * keeps them for a reconnecting client.
   */
  private flushUndelivered(): void {
    for (const queued of this.undelivered.splice(0)) {
      const target =
        (queued.preferred.systemId === queued.systemId && this.clients.has(queued.preferred)
          ? queued.preferred
          : undefined) ?? [...this.clients].find((c) => c.systemId === queued.systemId);
      const record = queued.record;
      const answered = (resp: PDU): void => {
        record.responseStatus = resp.command_status;
      };
      if (!target || !target.session.send(queued.pdu(), answered)) {
        this.undelivered.push(queued);
        continue;
      }
      queued.record.sentAt = new Date();
      this.sentReceipts.push(queued.record);
    }
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }
}

function tlv(tag: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(tag, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value]);
}

/** The PDU as the package encodes it, then these TLV bytes as given, command_length fixed. */
function withRawTlvs(pdu: PDU, raw: Buffer): PDU {
  const encode = pdu.toBuffer.bind(pdu);
  pdu.toBuffer = () => {
    const body = Buffer.concat([encode(), raw]);
    body.writeUInt32BE(body.length, 0);
    return body;
  };
  return pdu;
}

function decodeShortMessage(pdu: PDU): Pick<ReceivedSubmit, 'text' | 'udh'> {
  const value: Buffer | string | DecodedMessage | undefined = pdu.short_message ?? pdu.message_payload;
  if (value === undefined) return { text: '', udh: null };
  if (typeof value === 'string') return { text: value, udh: null };
  if (Buffer.isBuffer(value)) return { text: value.toString('latin1'), udh: null };
  const text = typeof value.message === 'string' ? value.message : value.message.toString('latin1');
  let udh: ReceivedSubmit['udh'] = null;
  for (const ie of value.udh ?? []) {
    // IEI 0x00: concatenation with an 8-bit reference; 0x08: with a 16-bit one.
    if (ie[0] === 0x00 && ie[1] === 3 && ie.length >= 5) {
      udh = { ref: ie[2]!, total: ie[3]!, seq: ie[4]! };
    } else if (ie[0] === 0x08 && ie[1] === 4 && ie.length >= 6) {
      udh = { ref: ie.readUInt16BE(2), total: ie[4]!, seq: ie[5]! };
    }
  }
  return { text, udh };
}

/** SMPP 3.4 Appendix B receipt date: YYMMDDhhmm, in the simulator's clock (UTC). */
function receiptDate(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    two(d.getUTCFullYear() % 100) +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes())
  );
}
