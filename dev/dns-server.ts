// A small authoritative DNS server over the real protocol (UDP and TCP, dns2)
// for the embedded stack and the tests: it answers TXT and MX questions from
// records set in memory and NXDOMAIN for every other name, so sending-domain
// verification reads DNS exactly as it would from a real zone.
import DNS from 'dns2';
import type { AddressInfo } from 'node:net';

const { Packet } = DNS;
type Handler = Parameters<typeof DNS.createTCPServer>[0] & {};

export interface ZoneRecord {
  type: 'TXT' | 'MX';
  /** TXT: the text (split into 255-byte strings on the wire); MX: "10 host". */
  value: string;
}

export class LocalDnsServer {
  private readonly records = new Map<string, ZoneRecord[]>();
  private udp: ReturnType<typeof DNS.createUDPServer> | null = null;
  private tcp: ReturnType<typeof DNS.createTCPServer> | null = null;
  /** Questions asked, newest last (tests may look). */
  readonly questions: Array<{ name: string; type: number }> = [];

  /** Replace every record of `name` of this type. An empty list removes them. */
  set(name: string, type: ZoneRecord['type'], values: readonly string[]): void {
    const key = name.toLowerCase().replace(/\.$/, '');
    const others = (this.records.get(key) ?? []).filter((r) => r.type !== type);
    this.records.set(key, [...others, ...values.map((value) => ({ type, value }))]);
  }

  /** Forget every record under `name` (the name and its subdomains). */
  clear(name: string): void {
    const key = name.toLowerCase();
    for (const k of [...this.records.keys()]) if (k === key || k.endsWith(`.${key}`)) this.records.delete(k);
  }

  async start(port = 0, host = '127.0.0.1'): Promise<{ host: string; port: number; address: string }> {
    const handle: Handler = (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (!q) return void send(response);
      const name = q.name.toLowerCase().replace(/\.$/, '');
      this.questions.push({ name, type: q.type });
      const found = this.records.get(name);
      if (!found || found.length === 0) {
        response.header.rcode = 3; // NXDOMAIN
        return void send(response);
      }
      for (const r of found) {
        if (r.type === 'TXT' && q.type === Packet.TYPE.TXT)
          response.answers.push({
            name: q.name,
            type: Packet.TYPE.TXT,
            class: Packet.CLASS.IN,
            ttl: 60,
            data: r.value.match(/[\s\S]{1,255}/g) ?? [''],
          } as never);
        if (r.type === 'MX' && q.type === Packet.TYPE.MX) {
          const [priority, exchange] = r.value.split(/\s+/);
          response.answers.push({
            name: q.name,
            type: Packet.TYPE.MX,
            class: Packet.CLASS.IN,
            ttl: 60,
            priority: Number(priority),
            exchange: exchange ?? '',
          } as never);
        }
      }
      void send(response);
    };
    const udp = DNS.createUDPServer(handle);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => resolve());
    });
    const udpPort = (udp.address() as AddressInfo).port;
    // TCP on the same port: a resolver retries a truncated answer there (long DKIM keys).
    const tcp = DNS.createTCPServer(handle);
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(udpPort, host, () => resolve());
    });
    this.udp = udp;
    this.tcp = tcp;
    return { host, port: udpPort, address: `${host}:${udpPort}` };
  }

  async stop(): Promise<void> {
    const { udp, tcp } = this;
    this.udp = null;
    this.tcp = null;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }
}
