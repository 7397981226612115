// The SMS transport: one SMPP 3.4 transceiver bind over the `smpp` package. It submits a
// message (split and encoded here), returns a classified outcome and reports delivery
// receipts; it decides no policy (retries, validity): that is domain/ and the workflow's.
//
// The package is a thin PDU codec with a socket. Everything a long-lived client needs is
// here: bind timeout, keep-alive, reconnect with backoff, a submit window, and failing
// submits whose connection dropped (the package silently forgets their callbacks).
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, PDU, type DecodedMessage, type Session } from 'smpp';
import {
  classifyReceipt,
  describeSubmitStatus,
  messageIdKeys,
  normalizeMessageId,
  normalizeErr,
  parseDeliveryReceipt,
  SmppStatus,
  statFromMessageState,
  SUBMIT_NO_RESPONSE,
  SUBMIT_NOT_SENT,
  SUBMIT_REFUSED,
  SUBMIT_SKIPPED,
  summarizeSubmit,
  type MessageIdFormat,
  type ReceiptOutcome,
  type SmsSubmitOutcome,
} from '../../domain/smpp-status';
import { buildSubmitParts, type SubmitPart } from './smpp-pdu';
import { readCStringTlvsByLength } from './smpp-tlv';

export interface SmsTransportOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  /** Most submit_sm awaiting their response at once (the SMSC's window). Default 10. */
  windowSize?: number;
  /** enquire_link period while bound; one still unanswered at the next tick drops the link. Default 30 s. */
  enquireLinkMs?: number;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. Default 1 s. */
  reconnectMs?: number;
  /** Default 30 s. */
  reconnectMaxMs?: number;
  /**
   * Per part: the longest wait for a bound session and a window slot, and then, once
   * written, for its submit_sm_resp. Either expiry is a retryable failure. Default 10 s.
   */
  submitTimeoutMs?: number;
  /** TCP connect plus bind_transceiver_resp. Default 10 s. */
  bindTimeoutMs?: number;
  /** How far the SMSC's receipt dates are ahead of UTC, in minutes (540 for JST). Default 0. */
  receiptUtcOffsetMinutes?: number;
  /**
   * How this SMSC writes message ids. Unset, receipts are matched to submitted ids by
   * value in whichever base gives a unique match (the receipted_message_id TLV, when
   * present, is taken as written like submit_sm_resp, as SMPP 3.4 says).
   */
  messageIdFormat?: { submitResp: MessageIdFormat; receiptText: MessageIdFormat };
  /** Submitted ids kept for receipt correlation, oldest dropped first. Default 100,000. */
  maxTrackedMessageIds?: number;
  logger?: (line: string) => void;
}

export interface SmsMessage {
  /** Destination: international digits without "+" (domain/phone smppAddress). */
  to: string;
  /** Sender: digits, or an alphanumeric sender id. */
  from: string;
  text: string;
  /** The caller's id for the send; appears in logs. */
  referenceId: string;
}

export interface SmsSubmitPartResult {
  /** The SMSC's message id when the part was accepted. */
  messageId: string | null;
  /** submit_sm_resp command_status, or a negative client status (domain/smpp-status SUBMIT_*). */
  status: number;
}

export interface SmsSubmitResult {
  /** One entry per part, in order; parts after a failed one are SUBMIT_SKIPPED. */
  parts: SmsSubmitPartResult[];
  outcome: SmsSubmitOutcome;
  /** SPEC §6 wording ('' when submitted: the receipt decides). */
  detail: string;
  /** The technical cause of a failure, for logs ('' when submitted). */
  reason: string;
}

export interface SmsReceipt {
  /** The id as submit_sm_resp gave it when the receipt matched a submit of this client, else as received. */
  messageId: string;
  /** As the receipt says it (text stat, else derived from the message_state TLV). */
  stat: string;
  /** Three digits ('' when the receipt has none). */
  err: string;
  doneAt: Date | null;
  delivered: boolean;
  outcome: ReceiptOutcome;
  /** The handset the message was for (the receipt's source_addr). */
  handset: string;
  /** Whether messageId was matched to a message this client submitted. */
  correlated: boolean;
}

/** A mobile-originated message: a handset's reply, decoded by its data_coding. */
export interface SmsReply {
  /** The handset (source_addr). */
  from: string;
  /** The number or sender id it was sent to (destination_addr). */
  to: string;
  text: string;
  dataCoding: number;
  receivedAt: Date;
  /** One part of a concatenated reply (UDH IE 0x00 or 0x08); null for a whole message. */
  concat?: { ref: number; total: number; seq: number } | null;
}

export interface SmsTransport {
  submit(message: SmsMessage): Promise<SmsSubmitResult>;
  /**
   * Receipts are acknowledged once the listeners return; an async listener is not
   * awaited, so persist synchronously-started work yourself. Returns an unsubscribe.
   */
  onReceipt(listener: (receipt: SmsReceipt) => void): () => void;
  /** Mobile-originated messages, acknowledged like receipts. Returns an unsubscribe. */
  onReply(listener: (reply: SmsReply) => void): () => void;
  /** The same receipts as 'receipt' events, and replies as 'reply' events. */
  readonly receipts: EventEmitter;
  isBound(): boolean;
  /** Unbinds, closes the socket and stops reconnecting; waiting submits fail as retryable. */
  close(): Promise<void>;
}

export function createSmsTransport(options: SmsTransportOptions): SmsTransport {
  return new SmppTransceiver(options);
}

// The smpp package defaults interface_version to 0x50 (SMPP 5.0); this client speaks 3.4.
const SMPP_VERSION_34 = 0x34;
const ESM_CLASS_TYPE_MASK = 0x3c;
const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
const UNBIND_GRACE_MS = 1_000;
// Requests this client answers itself; any other request from the SMSC is answered as an
// invalid command (SMPP 3.4 §4.3: generic_nack when the command id is unknown, else the
// command's own response with ESME_RINVCMDID), so the SMSC never waits on a timeout.
const ANSWERED_REQUESTS: ReadonlySet<string> = new Set(['enquire_link', 'unbind', 'deliver_sm', 'data_sm']);
// Requests SMPP 3.4 defines without a response.
const UNANSWERED_REQUESTS: ReadonlySet<string> = new Set(['alert_notification', 'outbind']);
const RESPONSE_BIT = 0x80000000;

interface PartOutcome {
  status: number;
  messageId: string | null;
  reason: string;
}

/** One TCP connection and its bind. */
interface Link {
  session: Session;
  bound: boolean;
  /** Fail every submit written on this link and still unanswered. */
  pending: Set<(reason: string) => void>;
  enquireUnanswered: boolean;
  enquireTimer: NodeJS.Timeout | null;
  closed: Promise<void>;
}

class SmppTransceiver implements SmsTransport {
  readonly receipts = new EventEmitter();
  private readonly opts: Required<Omit<SmsTransportOptions, 'systemType' | 'messageIdFormat' | 'logger'>>;
  private readonly log: (line: string) => void;
  private readonly window: SubmitWindow;
  private readonly ids: SubmittedIds;
  private link: Link | null = null;
  private closing = false;
  private failedAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private readonly bindWaiters = new Set<(link: Link | null) => void>();
  // Concatenation reference: random start so a restarted worker does not reuse the
  // references its previous run just sent to the same handsets.
  private nextRef = randomInt(256);

  constructor(private readonly options: SmsTransportOptions) {
    this.opts = {
      host: options.host,
      port: options.port,
      systemId: options.systemId,
      password: options.password,
      windowSize: options.windowSize ?? 10,
      enquireLinkMs: options.enquireLinkMs ?? 30_000,
      reconnectMs: options.reconnectMs ?? 1_000,
      reconnectMaxMs: options.reconnectMaxMs ?? 30_000,
      submitTimeoutMs: options.submitTimeoutMs ?? 10_000,
      bindTimeoutMs: options.bindTimeoutMs ?? 10_000,
      receiptUtcOffsetMinutes: options.receiptUtcOffsetMinutes ?? 0,
      maxTrackedMessageIds: options.maxTrackedMessageIds ?? 100_000,
    };
    if (!Number.isInteger(this.opts.windowSize) || this.opts.windowSize < 1) {
      throw new Error(`windowSize must be a positive integer, got ${this.opts.windowSize}`);
    }
    this.log = options.logger ?? (() => undefined);
    readCStringTlvsByLength();
    this.window = new SubmitWindow(this.opts.windowSize);
    this.ids = new SubmittedIds(this.opts.maxTrackedMessageIds, options.messageIdFormat);
    this.connect();
  }

  isBound(): boolean {
    return this.link?.bound === true;
  }

  onReceipt(listener: (receipt: SmsReceipt) => void): () => void {
    this.receipts.on('receipt', listener);
    return () => this.receipts.off('receipt', listener);
  }

  onReply(listener: (reply: SmsReply) => void): () => void {
    this.receipts.on('reply', listener);
    return () => this.receipts.off('reply', listener);
  }

  async submit(message: SmsMessage): Promise<SmsSubmitResult> {
    if (!/^\d{6,20}$/.test(message.to)) {
      return refused(`destination ${JSON.stringify(message.to)} is not international digits`);
    }
    if (message.from.length === 0) return refused('no sender');
    if (message.text.length === 0) return refused('empty body');
    let parts: SubmitPart[];
    try {
      parts = buildSubmitParts(message.text, this.takeRef());
    } catch (err) {
      return refused(err instanceof Error ? err.message : String(err));
    }

    // Parts go one after another, stopping at the first failure: a message refused on
    // its first part leaves nothing on the handset, so it can simply be sent again.
    const results: SmsSubmitPartResult[] = [];
    let reason = '';
    for (const [i, part] of parts.entries()) {
      if (reason) {
        results.push({ messageId: null, status: SUBMIT_SKIPPED });
        continue;
      }
      const r = await this.submitPart(message, part);
      results.push({ messageId: r.messageId, status: r.status });
      if (r.status !== SmppStatus.OK) {
        reason = parts.length > 1 ? `part ${i + 1}/${parts.length}: ${r.reason}` : r.reason;
      }
    }
    const { outcome, detail } = summarizeSubmit(results.map((r) => r.status));
    if (outcome !== 'submitted') this.log(`sms ${message.referenceId}: ${outcome}, ${reason}`);
    return { parts: results, outcome, detail, reason };
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      for (const waiter of [...this.bindWaiters]) waiter(null);
      this.window.cancelWaiters();
    }
    const link = this.link;
    if (!link) return;
    if (link.bound) {
      link.bound = false;
      const unbound = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, UNBIND_GRACE_MS);
        const sent = link.session.send(new PDU('unbind'), () => {
          clearTimeout(timer);
          resolve();
        });
        if (!sent) {
          clearTimeout(timer);
          resolve();
        }
      });
      await unbound;
    }
    link.session.destroy();
    await link.closed;
  }

  private takeRef(): number {
    const ref = this.nextRef;
    this.nextRef = (this.nextRef + 1) % 256;
    return ref;
  }

  // --- connection ----------------------------------------------------------

  private connect(): void {
    if (this.closing) return;
    const session = connect({ host: this.opts.host, port: this.opts.port });
    let markClosed!: () => void;
    const link: Link = {
      session,
      bound: false,
      pending: new Set(),
      enquireUnanswered: false,
      enquireTimer: null,
      closed: new Promise((resolve) => (markClosed = resolve)),
    };
    this.link = link;

    const bindTimer = setTimeout(() => {
      this.lastError = `no bind within ${this.opts.bindTimeoutMs} ms`;
      session.destroy();
    }, this.opts.bindTimeoutMs);

    session.on('connect', () => {
      const sent = session.send(
        new PDU('bind_transceiver', {
          system_id: this.opts.systemId,
          password: this.opts.password,
          system_type: this.options.systemType ?? '',
          interface_version: SMPP_VERSION_34,
        }),
        (resp) => {
          clearTimeout(bindTimer);
          if (this.closing) {
            session.destroy();
            return;
          }
          if (resp.command_status !== SmppStatus.OK) {
            this.lastError = `bind rejected: ${describeSubmitStatus(resp.command_status)}`;
            this.log(`smpp ${this.opts.host}:${this.opts.port} ${this.lastError}`);
            session.destroy();
            return;
          }
          this.onBound(link);
        },
      );
      if (!sent) session.destroy();
    });
    // Besides socket errors, the package emits 'error' for a PDU it cannot parse and then
    // stops reading that socket for good; either way the link is done.
    session.on('error', (err) => {
      this.lastError = err.message;
      this.log(`smpp ${this.opts.host}:${this.opts.port} error: ${err.message}`);
      session.destroy();
    });
    session.on('close', () => {
      clearTimeout(bindTimer);
      this.onClosed(link);
      markClosed();
    });
    session.on('enquire_link', (pdu) => {
      session.send(pdu.response());
    });
    session.on('unbind', (pdu) => {
      link.bound = false;
      session.send(pdu.response());
      session.close();
    });
    // Receipts come as deliver_sm, or as data_sm (SMPP 3.4 §4.7), which some SMSCs prefer.
    session.on('deliver_sm', (pdu) => this.onDeliver(link, pdu));
    session.on('data_sm', (pdu) => this.onDeliver(link, pdu));
    session.on('pdu', (pdu) => this.answerUnsupported(link, pdu));
  }

  private onBound(link: Link): void {
    link.bound = true;
    this.failedAttempts = 0;
    this.lastError = null;
    this.log(`smpp bound to ${this.opts.host}:${this.opts.port} as ${this.opts.systemId}`);
    link.enquireTimer = setInterval(() => {
      if (link.enquireUnanswered) {
        this.lastError = `enquire_link unanswered for ${this.opts.enquireLinkMs} ms`;
        this.log(`smpp ${this.lastError}, reconnecting`);
        link.session.destroy();
        return;
      }
      link.enquireUnanswered = true;
      const sent = link.session.send(new PDU('enquire_link'), () => {
        link.enquireUnanswered = false;
      });
      if (!sent) link.session.destroy();
    }, this.opts.enquireLinkMs);
    for (const waiter of [...this.bindWaiters]) waiter(link);
  }

  private onClosed(link: Link): void {
    link.bound = false;
    if (link.enquireTimer) clearInterval(link.enquireTimer);
    for (const fail of [...link.pending]) fail('connection lost before submit_sm_resp');
    if (this.link !== link) return;
    this.link = null;
    if (this.closing) return;
    const base = Math.min(this.opts.reconnectMs * 2 ** this.failedAttempts, this.opts.reconnectMaxMs);
    // Up to 20% jitter so a fleet of workers does not reconnect in step after an SMSC restart.
    const delay = Math.round(base * (1 + Math.random() * 0.2));
    this.failedAttempts += 1;
    this.log(`smpp link closed${this.lastError ? ` (${this.lastError})` : ''}, reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private waitForBind(deadline: number): Promise<Link | null> {
    if (this.closing) return Promise.resolve(null);
    if (this.link?.bound) return Promise.resolve(this.link);
    return new Promise((resolve) => {
      const waiter = (link: Link | null): void => {
        clearTimeout(timer);
        this.bindWaiters.delete(waiter);
        resolve(link);
      };
      const timer = setTimeout(() => waiter(null), Math.max(0, deadline - Date.now()));
      this.bindWaiters.add(waiter);
    });
  }

  // --- submit ----------------------------------------------------------------

  private async submitPart(message: SmsMessage, part: SubmitPart): Promise<PartOutcome> {
    const deadline = Date.now() + this.opts.submitTimeoutMs;
    for (;;) {
      const link = await this.waitForBind(deadline);
      if (!link) {
        return {
          status: SUBMIT_NOT_SENT,
          messageId: null,
          reason: this.closing
            ? 'transport closed'
            : `not bound within ${this.opts.submitTimeoutMs} ms (${this.lastError ?? 'not connected'})`,
        };
      }
      const release = await this.window.acquire(deadline);
      if (!release) {
        return {
          status: SUBMIT_NOT_SENT,
          messageId: null,
          reason: this.closing
            ? 'transport closed'
            : `no free window slot within ${this.opts.submitTimeoutMs} ms (window ${this.opts.windowSize})`,
        };
      }
      // The link may have dropped while this part waited for a slot.
      if (!link.bound || this.link !== link) {
        release();
        continue;
      }
      const outcome = await this.write(link, message, part, release);
      if (outcome) return outcome;
      // Not written: the socket is going away. Stop treating the link as bound so the
      // next turn waits for the re-bind instead of spinning on this link.
      link.bound = false;
      link.session.destroy();
    }
  }

  /** Resolves null when the PDU could not be written at all. */
  private write(
    link: Link,
    message: SmsMessage,
    part: SubmitPart,
    release: () => void,
  ): Promise<PartOutcome | null> {
    const numericSender = /^\d+$/.test(message.from);
    const pdu = new PDU('submit_sm', {
      // Long digit strings are international numbers; short ones are short codes.
      source_addr_ton: numericSender ? (message.from.length > 6 ? 0x01 : 0x03) : 0x05,
      source_addr_npi: numericSender && message.from.length > 6 ? 0x01 : 0x00,
      source_addr: message.from,
      dest_addr_ton: 0x01,
      dest_addr_npi: 0x01,
      destination_addr: message.to,
      esm_class: part.esmClass,
      registered_delivery: 0x01, // a final receipt for every part: each is billed and may fail alone
      data_coding: part.dataCoding,
      short_message: part.shortMessage,
    });
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: PartOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        link.pending.delete(failPending);
        release();
        resolve(outcome);
      };
      const failPending = (reason: string): void =>
        finish({ status: SUBMIT_NO_RESPONSE, messageId: null, reason });
      const written = link.session.send(pdu, (resp) => {
        if (resp.command_status !== SmppStatus.OK) {
          finish({
            status: resp.command_status,
            messageId: null,
            reason: describeSubmitStatus(resp.command_status),
          });
          return;
        }
        const messageId = resp.message_id ? resp.message_id : null;
        if (messageId) this.ids.add(messageId);
        finish({ status: SmppStatus.OK, messageId, reason: '' });
      });
      const timer = setTimeout(
        () => failPending(`no submit_sm_resp within ${this.opts.submitTimeoutMs} ms`),
        this.opts.submitTimeoutMs,
      );
      if (!written) {
        settled = true;
        clearTimeout(timer);
        release();
        resolve(null);
        return;
      }
      link.pending.add(failPending);
    });
  }

  // --- receipts ----------------------------------------------------------------

  private answerUnsupported(link: Link, pdu: PDU): void {
    if (ANSWERED_REQUESTS.has(pdu.command) || UNANSWERED_REQUESTS.has(pdu.command)) return;
    // An unknown id with the response bit set answers nothing of ours: nothing to nack.
    if ((pdu.command_id & RESPONSE_BIT) !== 0) return;
    const commandId = `0x${(pdu.command_id >>> 0).toString(16).padStart(8, '0')}`;
    this.log(`smpp answering ${pdu.command} (${commandId}) from the SMSC with ESME_RINVCMDID`);
    // For an unknown id the package's response() is generic_nack; it carries the status.
    link.session.send(pdu.response({ command_status: SmppStatus.INVALID_COMMAND_ID }));
  }

  /** deliver_sm or data_sm: a delivery receipt, else a mobile-originated message. */
  private onDeliver(link: Link, pdu: PDU): void {
    try {
      const type = (pdu.esm_class ?? 0) & ESM_CLASS_TYPE_MASK;
      if (type === 0) {
        this.emitReply(pdu);
        return;
      }
      if (type !== ESM_CLASS_DELIVERY_RECEIPT) {
        // Intermediate notifications and SME acknowledgements: nothing a send waits on.
        this.log(`smpp ignoring a ${pdu.command} with esm_class 0x${(pdu.esm_class ?? 0).toString(16)}`);
        return;
      }
      const receipt = this.readReceipt(pdu);
      if (!receipt) {
        this.log(`smpp unreadable delivery receipt: ${JSON.stringify(messageText(pdu))}`);
        return;
      }
      if (receipt.outcome.final && receipt.correlated) this.ids.forget(receipt.messageId);
      try {
        this.receipts.emit('receipt', receipt);
      } catch (err) {
        this.log(`sms receipt listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    } finally {
      // Always acknowledged: an SMSC re-sends an unacknowledged receipt, and one we cannot
      // read will not read better the second time.
      link.session.send(pdu.response());
    }
  }

  private emitReply(pdu: PDU): void {
    const reply: SmsReply = {
      from: pdu.source_addr ?? '',
      to: pdu.destination_addr ?? '',
      text: messageText(pdu),
      dataCoding: pdu.data_coding ?? 0,
      receivedAt: new Date(),
      concat: concatenation(pdu.short_message) ?? concatenation(pdu.message_payload),
    };
    try {
      this.receipts.emit('reply', reply);
    } catch (err) {
      this.log(`sms reply listener failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private readReceipt(pdu: PDU): SmsReceipt | null {
    const parsed = parseDeliveryReceipt(messageText(pdu), this.opts.receiptUtcOffsetMinutes);
    const stat =
      parsed?.stat ??
      (pdu.message_state !== undefined ? statFromMessageState(pdu.message_state) : null) ??
      null;
    // The TLV is read within its length (smpp-tlv.ts); some SMSCs pad it with spaces.
    const tlvId = pdu.receipted_message_id?.trim() || null;
    const textId = parsed?.id ?? null;
    const rawId = tlvId ?? textId;
    if (stat === null || rawId === null) return null;
    const err = parsed ? normalizeErr(parsed.err) : networkErr(pdu.network_error_code);
    // The TLV first, as SMPP 3.4 says; when it names none of our submits (an SMSC that puts
    // an internal id there), the text's id: may still.
    const submitted =
      (tlvId !== null ? this.ids.find(tlvId, 'tlv') : null) ??
      (textId !== null && textId !== tlvId ? this.ids.find(textId, 'text') : null);
    const outcome = classifyReceipt(stat, err);
    return {
      messageId: submitted ?? rawId,
      stat,
      err,
      doneAt: parsed?.doneDate ?? null,
      delivered: outcome.result === 'delivered',
      outcome,
      handset: pdu.source_addr ?? '',
      correlated: submitted !== null,
    };
  }
}

function refused(reason: string): SmsSubmitResult {
  const { outcome, detail } = summarizeSubmit([SUBMIT_REFUSED]);
  return { parts: [{ messageId: null, status: SUBMIT_REFUSED }], outcome, detail, reason };
}

/** The concatenation information element of a decoded message (8- or 16-bit reference), if any. */
function concatenation(
  m: Buffer | string | DecodedMessage | undefined,
): { ref: number; total: number; seq: number } | null {
  if (m === undefined || typeof m === 'string' || Buffer.isBuffer(m)) return null;
  for (const ie of m.udh ?? []) {
    if (ie[0] === 0x00 && ie.length >= 5) return { ref: ie[2]!, total: ie[3]!, seq: ie[4]! };
    if (ie[0] === 0x08 && ie.length >= 6) return { ref: ie.readUInt16BE(2), total: ie[4]!, seq: ie[5]! };
  }
  return null;
}

function messageText(pdu: PDU): string {
  const toText = (m: Buffer | string | DecodedMessage | undefined): string => {
    if (m === undefined) return '';
    if (typeof m === 'string') return m;
    if (Buffer.isBuffer(m)) return m.toString('latin1');
    return typeof m.message === 'string' ? m.message : m.message.toString('latin1');
  };
  return toText(pdu.short_message) || toText(pdu.message_payload);
}

/** network_error_code TLV: network type octet, then a 2-octet error code. */
function networkErr(value: Buffer | undefined): string {
  if (!value || value.length < 3) return '';
  return normalizeErr(String(value.readUInt16BE(1)));
}

/** A counting semaphore over outstanding submit_sm, FIFO so no part starves. */
class SubmitWindow {
  private free: number;
  private readonly waiters: Array<(release: (() => void) | null) => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  acquire(deadline: number): Promise<(() => void) | null> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const waiter = (release: (() => void) | null): void => {
        clearTimeout(timer);
        resolve(release);
      };
      const timer = setTimeout(
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve(null);
        },
        Math.max(0, deadline - Date.now()),
      );
      this.waiters.push(waiter);
    });
  }

  cancelWaiters(): void {
    for (const waiter of this.waiters.splice(0)) waiter(null);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // Hand the slot straight to the next waiter rather than freeing it, so a new
      // caller cannot overtake one that has been waiting.
      if (next) next(this.releaser());
      else this.free += 1;
    };
  }
}

/**
 * Ids this client submitted, indexed so a receipt finds the id in the form submit_sm_resp
 * gave it, whatever base the receipt writes it in.
 */
class SubmittedIds {
  // Insertion order doubles as age, for eviction.
  private readonly entries = new Map<string, string[]>();
  private readonly index = new Map<string, Set<string>>();

  constructor(
    private readonly max: number,
    private readonly formats: { submitResp: MessageIdFormat; receiptText: MessageIdFormat } | undefined,
  ) {}

  add(id: string): void {
    if (this.entries.has(id)) return;
    const keys = this.keysOfSubmitted(id);
    this.entries.set(id, keys);
    for (const key of keys) {
      let ids = this.index.get(key);
      if (!ids) this.index.set(key, (ids = new Set()));
      ids.add(id);
    }
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.forget(oldest);
    }
  }

  forget(id: string): void {
    const keys = this.entries.get(id);
    if (!keys) return;
    this.entries.delete(id);
    for (const key of keys) {
      const ids = this.index.get(key);
      ids?.delete(id);
      if (ids?.size === 0) this.index.delete(key);
    }
  }

  /** The submitted id a receipt's id stands for, or null when none matches uniquely. */
  find(receiptId: string, source: 'tlv' | 'text'): string | null {
    if (this.formats) {
      const format = source === 'tlv' ? this.formats.submitResp : this.formats.receiptText;
      return this.unique(`v:${normalizeMessageId(receiptId, format)}`);
    }
    const { exact, asDecimal, asHex } = messageIdKeys(receiptId);
    // Most specific first: the same text, then the same base with other padding, then
    // the other base (a decimal receipt id for a hex submit_sm_resp id, or the reverse).
    const candidates = [
      `s:${exact.toLowerCase()}`,
      asDecimal && `d:${asDecimal}`,
      asHex && `h:${asHex}`,
      asDecimal && `h:${asDecimal}`,
      asHex && `d:${asHex}`,
    ];
    for (const key of candidates) {
      if (!key) continue;
      const hit = this.unique(key);
      if (hit) return hit;
    }
    return null;
  }

  private unique(key: string): string | null {
    const ids = this.index.get(key);
    if (!ids || ids.size !== 1) return null;
    return ids.values().next().value ?? null;
  }

  private keysOfSubmitted(id: string): string[] {
    if (this.formats) return [`v:${normalizeMessageId(id, this.formats.submitResp)}`];
    const { exact, asDecimal, asHex } = messageIdKeys(id);
    const keys = [`s:${exact.toLowerCase()}`];
    if (asDecimal) keys.push(`d:${asDecimal}`);
    if (asHex) keys.push(`h:${asHex}`);
    return keys;
  }
}
