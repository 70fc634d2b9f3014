/**
 * The cluster DNS server over real UDP on 127.0.0.1, with a second socket as the upstream server.
 */
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket, { type Answer, type DecodedPacket, type RecordType } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDnsTable } from '../../agent/dns/records.js';
import { type DnsServer, startDnsServer, upstreamServers } from '../../agent/dns/server.js';
import type { EndpointSlice } from '../../agent/proxy/rules.js';
import type { Service } from '../../shared/api/core.js';

const services: Service[] = [
  {
    metadata: { name: 'web', namespace: 'default' },
    spec: { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  },
  {
    metadata: { name: 'db', namespace: 'data' },
    spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] },
  },
];
const slices: EndpointSlice[] = [
  {
    metadata: { name: 'db-1', namespace: 'data', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.7'], conditions: { ready: true }, hostname: 'db-0' },
      { addresses: ['10.244.2.9'], conditions: { ready: true } },
      { addresses: ['10.244.2.10'], conditions: { ready: false } },
    ],
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  },
];

/** The record data of an answer (OPT answers, the one kind without it, never occur here). */
function dataOf(answer: Answer): unknown {
  return 'data' in answer ? answer.data : undefined;
}

function rcodeOf(packet: DecodedPacket): number {
  return (packet.flags ?? 0) & 0xf;
}

/** One query over a fresh UDP socket; rejects after `timeoutMs`. */
function query(port: number, name: string, type: RecordType = 'A', timeoutMs = 3000): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const id = Math.floor(Math.random() * 65535);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no answer for ${name}`));
    }, timeoutMs);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(message));
    });
    socket.send(
      dnsPacket.encode({
        type: 'query',
        id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type, name }],
      }),
      port,
      '127.0.0.1',
    );
  });
}

const rcode = { noError: 0, servFail: 2, nxDomain: 3 };

describe('the cluster DNS server', () => {
  let upstream: dgram.Socket;
  let silent: dgram.Socket;
  let dns: DnsServer;
  let quiet: DnsServer;
  const table = buildDnsTable(services, slices);

  beforeAll(async () => {
    // The fake upstream knows one name.
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (message, from) => {
      const q = dnsPacket.decode(message);
      const question = q.questions?.[0];
      const known = question?.name === 'example.test';
      const answer = dnsPacket.encode({
        type: 'response',
        id: q.id ?? 0,
        flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : rcode.nxDomain),
        questions: q.questions ?? [],
        answers: known ? [{ type: 'A', name: 'example.test', ttl: 42, data: '192.0.2.42' }] : [],
      });
      upstream.send(answer, from.port, from.address);
    });
    silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const lookup = (name: string) => table.get(name);
    dns = await startDnsServer({
      host: '127.0.0.1',
      port: 0,
      zone: 'cluster.local',
      lookup,
      upstream: [`127.0.0.1:${upstream.address().port}`],
    });
    quiet = await startDnsServer({
      host: '127.0.0.1',
      port: 0,
      lookup,
      upstream: [`127.0.0.1:${silent.address().port}`],
      upstreamTimeoutMs: 300,
    });
  });

  afterAll(async () => {
    await dns?.close();
    await quiet?.close();
    upstream?.close();
    silent?.close();
  });

  it('answers a service name with its ClusterIP, authoritatively, with a 5 s TTL', async () => {
    const answer = await query(dns.port, 'web.default.svc.cluster.local');
    expect(rcodeOf(answer)).toBe(rcode.noError);
    expect(answer.flag_aa).toBe(true);
    expect(answer.answers).toEqual([
      expect.objectContaining({
        type: 'A',
        name: 'web.default.svc.cluster.local',
        ttl: 5,
        data: '10.96.0.50',
      }),
    ]);
  });

  it('matches names case-insensitively and with a trailing dot', async () => {
    const answer = await query(dns.port, 'WEB.Default.svc.cluster.local.');
    expect(answer.answers?.map(dataOf)).toEqual(['10.96.0.50']);
  });

  it('answers a headless service with its ready endpoint IPs, and each endpoint by hostname', async () => {
    const answer = await query(dns.port, 'db.data.svc.cluster.local');
    expect(answer.answers?.map(dataOf)).toEqual(['10.244.1.7', '10.244.2.9']);
    const pod = await query(dns.port, 'db-0.db.data.svc.cluster.local');
    expect(pod.answers?.map(dataOf)).toEqual(['10.244.1.7']);
    const byIp = await query(dns.port, '10-244-2-9.db.data.svc.cluster.local');
    expect(byIp.answers?.map(dataOf)).toEqual(['10.244.2.9']);
  });

  it('answers SRV for named ports', async () => {
    const answer = await query(dns.port, '_http._tcp.web.default.svc.cluster.local', 'SRV');
    expect(answer.answers?.map(dataOf)).toEqual([
      { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' },
    ]);
    const headless = await query(dns.port, '_pg._tcp.db.data.svc.cluster.local', 'SRV');
    expect(headless.answers?.map(dataOf)).toEqual([
      { priority: 0, weight: 100, port: 5432, target: 'db-0.db.data.svc.cluster.local' },
      { priority: 0, weight: 100, port: 5432, target: '10-244-2-9.db.data.svc.cluster.local' },
    ]);
  });

  it('answers NODATA (not NXDOMAIN) for other types of a known name, and for namespaces', async () => {
    for (const [name, type] of [
      ['web.default.svc.cluster.local', 'AAAA'],
      ['default.svc.cluster.local', 'A'],
    ] as const) {
      const answer = await query(dns.port, name, type);
      expect(rcodeOf(answer)).toBe(rcode.noError);
      expect(answer.answers).toEqual([]);
      expect(answer.authorities?.[0]?.type).toBe('SOA');
    }
  });

  it('answers NXDOMAIN for unknown names in the zone, including search-list misses', async () => {
    for (const name of [
      'nope.default.svc.cluster.local',
      'web.default.svc.cluster.local.default.svc.cluster.local',
      'web.default.svc.cluster.local.svc.cluster.local',
      'web.other.svc.cluster.local',
    ]) {
      const answer = await query(dns.port, name);
      expect(rcodeOf(answer), name).toBe(rcode.nxDomain);
      expect(answer.answers).toEqual([]);
      expect(answer.authorities?.[0]).toEqual(
        expect.objectContaining({ type: 'SOA', name: 'cluster.local', ttl: 5 }),
      );
    }
  });

  it('forwards names outside the zone upstream and relays the answer unchanged', async () => {
    const answer = await query(dns.port, 'example.test');
    expect(rcodeOf(answer)).toBe(rcode.noError);
    expect(answer.answers).toEqual([
      expect.objectContaining({ type: 'A', name: 'example.test', ttl: 42, data: '192.0.2.42' }),
    ]);
    const unknown = await query(dns.port, 'missing.test');
    expect(rcodeOf(unknown)).toBe(rcode.nxDomain);
  });

  it('answers SERVFAIL within the timeout when upstream stays silent', async () => {
    const started = Date.now();
    const answer = await query(quiet.port, 'example.test', 'A', 2000);
    expect(rcodeOf(answer)).toBe(rcode.servFail);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reads upstream servers from resolv.conf', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'resolv-'));
    try {
      const path = join(dir, 'resolv.conf');
      await writeFile(
        path,
        '# comment\nsearch example\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\noptions ndots:5\n',
      );
      expect(await upstreamServers(path)).toEqual(['10.0.0.2', 'fe80::1%eth0']);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
