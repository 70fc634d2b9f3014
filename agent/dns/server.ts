/**
 * The cluster DNS server over UDP: authoritative for the cluster zone (answers from `lookup`, which
 * the agent points at the latest records.ts table), a forwarder for every other name.
 *
 * Inside the zone: A and SRV from the table, NODATA for other types of known names, NXDOMAIN with
 * the zone's SOA for unknown names (so a search-list miss such as
 * `web.default.svc.cluster.local.default.svc.cluster.local` fails fast and the resolver moves on).
 * Outside: the query's bytes go to the upstream servers in turn, and the first answer is relayed
 * unchanged; SERVFAIL when none answers within the timeout. UDP only: there is no TCP fallback for
 * truncated upstream answers or for very large headless services.
 */
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Question } from 'dns-packet';
import type { DnsEntry } from './records.js';

const rcode = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4 } as const;

export interface DnsServerOptions {
  host?: string;
  port?: number;
  zone?: string;
  /** Records of a lower-case fully qualified name (no trailing dot) inside the zone. */
  lookup: (name: string) => DnsEntry | undefined;
  /** `ip` or `ip:port` (`[v6]:port`); defaults to the host's /etc/resolv.conf. */
  upstream?: string[];
  /** How long to wait for each upstream server. */
  upstreamTimeoutMs?: number;
  ttl?: number;
}

export interface DnsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const zone = trimDot(options.zone ?? 'cluster.local').toLowerCase();
  const ttl = options.ttl ?? 5;
  const timeoutMs = options.upstreamTimeoutMs ?? 2000;
  const upstream = (options.upstream ?? (await upstreamServers())).map(parseServer);
  const host = options.host ?? '0.0.0.0';
  // reuseAddr: the host's own resolver may hold port 53 on a loopback address (systemd-resolved).
  const socket = dgram.createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', reuseAddr: true });
  const pending = new Set<dgram.Socket>();

  socket.on('message', (message, client) => {
    void answer(message).then(
      (reply) => {
        if (reply) socket.send(reply, client.port, client.address);
      },
      () => undefined,
    );
  });

  async function answer(message: Buffer): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return undefined;
    }
    if (query.type !== 'query') return undefined;
    const question = query.questions?.[0];
    if (!question || query.questions?.length !== 1) return reply(query, rcode.formErr);
    const name = trimDot(question.name).toLowerCase();
    if (name === zone || name.endsWith(`.${zone}`)) return authoritative(query, question, name);
    for (const server of upstream) {
      const relayed = await forward(message, server, query.id ?? 0);
      if (relayed) return relayed;
    }
    return reply(query, rcode.servFail);
  }

  function authoritative(query: DecodedPacket, question: Question, name: string): Buffer {
    const entry = options.lookup(name);
    const soa = soaRecord(zone, ttl);
    if (!entry) return reply(query, rcode.nxDomain, [], [soa]);
    const answers: Answer[] = [];
    if (question.type === 'A' || (question.type as string) === 'ANY') {
      for (const ip of entry.a) answers.push({ type: 'A', name: question.name, ttl, data: ip });
    }
    if (question.type === 'SRV' || (question.type as string) === 'ANY') {
      for (const srv of entry.srv) answers.push({ type: 'SRV', name: question.name, ttl, data: srv });
    }
    return reply(query, rcode.noError, answers, answers.length === 0 ? [soa] : []);
  }

  function forward(message: Buffer, server: Server, id: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const out = dgram.createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
      pending.add(out);
      const finish = (result: Buffer | undefined) => {
        clearTimeout(timer);
        pending.delete(out);
        out.close();
        resolve(result);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      out.on('error', () => finish(undefined));
      out.on('message', (response, from) => {
        // Only the server asked, answering this id (a spoofed or stray datagram is ignored).
        if (from.port !== server.port || response.length < 2 || response.readUInt16BE(0) !== id) return;
        finish(response);
      });
      out.send(message, server.port, server.host, (error) => {
        if (error) finish(undefined);
      });
    });
  }

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 53, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => undefined);
  const address = socket.address();
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const out of pending) out.close();
        pending.clear();
        socket.close(() => resolve());
      }),
  };
}

/** The `nameserver` addresses of a resolv.conf (the host's by default). */
export async function upstreamServers(path = '/etc/resolv.conf'): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return parseResolvConf(text);
}

export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [keyword, address] = line
      .replace(/[#;].*/, '')
      .trim()
      .split(/\s+/);
    if (keyword === 'nameserver' && address && isIP(address.replace(/%.*/, ''))) out.push(address);
  }
  return out;
}

interface Server {
  host: string;
  port: number;
}

function parseServer(text: string): Server {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(text);
  if (bracketed?.[1]) return { host: bracketed[1], port: Number(bracketed[2] ?? 53) };
  if (isIP(text)) return { host: text, port: 53 };
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
}

function reply(
  query: DecodedPacket,
  code: number,
  answers: Answer[] = [],
  authorities: Answer[] = [],
): Buffer {
  const flags =
    (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED
      ? dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE
      : dnsPacket.RECURSION_AVAILABLE;
  return dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    flags:
      flags | (code === rcode.servFail || code === rcode.formErr ? 0 : dnsPacket.AUTHORITATIVE_ANSWER) | code,
    questions: query.questions ?? [],
    answers,
    authorities,
  });
}

function soaRecord(zone: string, ttl: number): Answer {
  return {
    type: 'SOA',
    name: zone,
    ttl,
    data: {
      mname: `ns.dns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: Math.floor(Date.now() / 1000) >>> 0,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: ttl,
    },
  };
}

function trimDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
