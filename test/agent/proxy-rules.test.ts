import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildRules, chainName, type EndpointSlice } from '../../agent/proxy/rules.js';
import type { Service } from '../../shared/api/core.js';

function service(name: string, spec: Service['spec']): Service {
  return { metadata: { name, namespace: 'default' }, spec };
}

function slice(
  service: string,
  ips: (string | { ip: string; ready: boolean })[],
  ports: EndpointSlice['ports'],
): EndpointSlice {
  return {
    metadata: {
      name: `${service}-x`,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: ips.map((e) =>
      typeof e === 'string'
        ? { addresses: [e], conditions: { ready: true } }
        : { addresses: [e.ip], conditions: { ready: e.ready } },
    ),
    ports,
  };
}

const web = service('web', {
  clusterIP: '10.96.0.50',
  ports: [{ name: 'http', port: 80, targetPort: 8080 }],
});
const webSlice = slice('web', ['10.244.1.3', '10.244.1.2'], [{ name: 'http', port: 8080, protocol: 'TCP' }]);

const svc = (id: string) => chainName('LMB', 'SVC', id);
const sep = (id: string) => chainName('LMB', 'SEP', id);

/** The lines of the generated text that mention a chain (declarations excluded). */
function rulesOf(text: string, chain: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
}

describe('the iptables rules of the service proxy', () => {
  it('balances a ClusterIP service over its two ready endpoints', () => {
    const text = buildRules([web], [webSlice]);
    const s = svc('default/web:http/TCP');
    const a = sep('default/web:http/TCP/10.244.1.2:8080');
    const b = sep('default/web:http/TCP/10.244.1.3:8080');
    expect(s).toMatch(/^LMB-SVC-[0-9A-F]{16}$/);
    expect(s.length).toBeLessThanOrEqual(28);
    expect(text.split('\n')).toEqual([
      '*nat',
      ':LMB-SERVICES - [0:0]',
      ':LMB-NODEPORTS - [0:0]',
      ':LMB-POSTROUTING - [0:0]',
      ':LMB-MARK-MASQ - [0:0]',
      `:${s} - [0:0]`,
      `:${a} - [0:0]`,
      `:${b} - [0:0]`,
      `-A LMB-SERVICES -d 10.96.0.50/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http cluster IP" -j ${s}`,
      '-A LMB-SERVICES ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j LMB-NODEPORTS',
      '-A LMB-MARK-MASQ -j MARK --or-mark 0x4000',
      '-A LMB-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A LMB-POSTROUTING -j MARK --xor-mark 0x4000',
      '-A LMB-POSTROUTING -m comment --comment "lambernetes service traffic requiring SNAT" -j MASQUERADE',
      `-A ${s} -m comment --comment "default/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.5000000000 -j ${a}`,
      `-A ${s} -m comment --comment "default/web:http -> 10.244.1.3:8080" -j ${b}`,
      `-A ${a} -s 10.244.1.2/32 -m comment --comment "default/web:http" -j LMB-MARK-MASQ`,
      `-A ${a} -p tcp -m tcp -m comment --comment "default/web:http" -j DNAT --to-destination 10.244.1.2:8080`,
      `-A ${b} -s 10.244.1.3/32 -m comment --comment "default/web:http" -j LMB-MARK-MASQ`,
      `-A ${b} -p tcp -m tcp -m comment --comment "default/web:http" -j DNAT --to-destination 10.244.1.3:8080`,
      'COMMIT',
      '',
    ]);
  });

  it('spreads three endpoints with probabilities 1/3, 1/2, then the rest', () => {
    const three = slice('web', ['10.244.1.2', '10.244.1.3', '10.244.1.4'], [{ name: 'http', port: 8080 }]);
    const lines = rulesOf(buildRules([web], [three]), svc('default/web:http/TCP'));
    expect(lines.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? 'rest')).toEqual([
      '0.3333333333',
      '0.5000000000',
      'rest',
    ]);
  });

  it('resolves named target ports through the slice ports, per slice, and matches UDP ports by protocol', () => {
    const dns = service('dns', {
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 'dns' },
        { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 'dns-tcp' },
      ],
    });
    // Two pods resolving the named port differently land in two slices.
    const slices = [
      slice(
        'dns',
        ['10.244.1.2'],
        [
          { name: 'dns', port: 5353, protocol: 'UDP' },
          { name: 'dns-tcp', port: 5353, protocol: 'TCP' },
        ],
      ),
      slice(
        'dns',
        ['10.244.2.2'],
        [
          { name: 'dns', port: 1053, protocol: 'UDP' },
          { name: 'dns-tcp', port: 1053, protocol: 'TCP' },
        ],
      ),
    ];
    const text = buildRules([dns], slices);
    expect(rulesOf(text, 'LMB-SERVICES').slice(0, 2)).toEqual([
      `-A LMB-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 53 -m comment --comment "default/dns:dns-tcp cluster IP" -j ${svc('default/dns:dns-tcp/TCP')}`,
      `-A LMB-SERVICES -d 10.96.0.10/32 -p udp -m udp --dport 53 -m comment --comment "default/dns:dns cluster IP" -j ${svc('default/dns:dns/UDP')}`,
    ]);
    expect(text.split('\n').filter((l) => l.includes('DNAT'))).toEqual([
      `-A ${sep('default/dns:dns-tcp/TCP/10.244.1.2:5353')} -p tcp -m tcp -m comment --comment "default/dns:dns-tcp" -j DNAT --to-destination 10.244.1.2:5353`,
      `-A ${sep('default/dns:dns-tcp/TCP/10.244.2.2:1053')} -p tcp -m tcp -m comment --comment "default/dns:dns-tcp" -j DNAT --to-destination 10.244.2.2:1053`,
      `-A ${sep('default/dns:dns/UDP/10.244.1.2:5353')} -p udp -m udp -m comment --comment "default/dns:dns" -j DNAT --to-destination 10.244.1.2:5353`,
      `-A ${sep('default/dns:dns/UDP/10.244.2.2:1053')} -p udp -m udp -m comment --comment "default/dns:dns" -j DNAT --to-destination 10.244.2.2:1053`,
    ]);
  });

  it('sends a NodePort service node port through the masquerade mark to the same service chain', () => {
    const nodePort = service('web', {
      type: 'NodePort',
      clusterIP: '10.96.0.50',
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
    });
    const text = buildRules([nodePort], [webSlice]);
    const s = svc('default/web:http/TCP');
    expect(rulesOf(text, 'LMB-SERVICES')).toEqual([
      `-A LMB-SERVICES -d 10.96.0.50/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http cluster IP" -j ${s}`,
      '-A LMB-SERVICES ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j LMB-NODEPORTS',
    ]);
    expect(rulesOf(text, 'LMB-NODEPORTS')).toEqual([
      '-A LMB-NODEPORTS -p tcp -m tcp --dport 30080 -m comment --comment "default/web:http node port" -j LMB-MARK-MASQ',
      `-A LMB-NODEPORTS -p tcp -m tcp --dport 30080 -m comment --comment "default/web:http node port" -j ${s}`,
    ]);
  });

  it('masquerades traffic to a ClusterIP from outside the cluster CIDR when given one', () => {
    const text = buildRules([web], [webSlice], { clusterCIDR: '10.244.0.0/16' });
    const s = svc('default/web:http/TCP');
    expect(rulesOf(text, s)[0]).toBe(
      `-A ${s} ! -s 10.244.0.0/16 -d 10.96.0.50/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http cluster IP" -j LMB-MARK-MASQ`,
    );
  });

  it('keeps a client on its endpoint with -m recent when the service has ClientIP affinity', () => {
    const sticky = service('web', {
      clusterIP: '10.96.0.50',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    });
    const text = buildRules([sticky], [webSlice]);
    const s = svc('default/web:http/TCP');
    const a = sep('default/web:http/TCP/10.244.1.2:8080');
    expect(rulesOf(text, s)[0]).toBe(
      `-A ${s} -m comment --comment "default/web:http -> 10.244.1.2:8080" -m recent --name ${a} --mask 255.255.255.255 --rsource --rcheck --seconds 60 --reap -j ${a}`,
    );
    expect(rulesOf(text, a)[1]).toBe(
      `-A ${a} -p tcp -m tcp -m comment --comment "default/web:http" -m recent --name ${a} --mask 255.255.255.255 --rsource --set -j DNAT --to-destination 10.244.1.2:8080`,
    );
  });

  it('gives a service without ready endpoints no rule (its ClusterIP then routes nowhere)', () => {
    const notReady = slice('web', [{ ip: '10.244.1.2', ready: false }], [{ name: 'http', port: 8080 }]);
    const text = buildRules([web], [notReady]);
    expect(text).not.toContain('10.96.0.50');
    expect(text).not.toContain('LMB-SVC-');
    expect(text).not.toContain('LMB-SEP-');
  });

  it('gives headless and ExternalName services no rules', () => {
    const headless = service('web', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] });
    const external = service('ext', { type: 'ExternalName', externalName: 'example.com' });
    const text = buildRules([headless, external], [webSlice]);
    expect(text).not.toContain('LMB-SVC-');
    expect(text).not.toContain('DNAT');
  });

  it('flushes and deletes the chains of services and endpoints that are gone, in the same restore', () => {
    const s = svc('default/web:http/TCP');
    const a = sep('default/web:http/TCP/10.244.1.2:8080');
    const b = sep('default/web:http/TCP/10.244.1.3:8080');
    const oneLeft = slice('web', ['10.244.1.2'], [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const current = [
      'LMB-SERVICES',
      'LMB-NODEPORTS',
      'LMB-POSTROUTING',
      'LMB-MARK-MASQ',
      s,
      a,
      b,
      'LMB-SVC-OLD',
    ];
    const lines = buildRules([web], [oneLeft], { currentChains: current }).split('\n');
    expect(lines.filter((l) => l.startsWith(':'))).toEqual([
      ':LMB-SERVICES - [0:0]',
      ':LMB-NODEPORTS - [0:0]',
      ':LMB-POSTROUTING - [0:0]',
      ':LMB-MARK-MASQ - [0:0]',
      `:${s} - [0:0]`,
      `:${a} - [0:0]`,
      `:${b} - [0:0]`,
      ':LMB-SVC-OLD - [0:0]',
    ]);
    const deleted = [b, 'LMB-SVC-OLD'].sort();
    expect(lines.slice(-2 - deleted.length)).toEqual([...deleted.map((c) => `-X ${c}`), 'COMMIT', '']);
  });

  it('is accepted by iptables-restore --test', async (context) => {
    const sticky = service('web', {
      type: 'NodePort',
      clusterIP: '10.96.0.50',
      sessionAffinity: 'ClientIP',
      ports: [
        { name: 'http', port: 80, targetPort: 'http', nodePort: 30080 },
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 },
      ],
    });
    const slices = [
      slice(
        'web',
        ['10.244.1.2', '10.244.1.3'],
        [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      ),
    ];
    const text = buildRules([sticky], slices, { prefix: 'LMBR', clusterCIDR: '10.244.0.0/16' });
    const result = await restoreTest(text);
    if (result === 'missing') {
      console.log('iptables-restore --test skipped: not root or iptables-restore missing');
      context.skip();
    }
    expect(result).toBe('');
  });
});

function restoreTest(text: string): Promise<string> {
  if (process.getuid?.() !== 0) return Promise.resolve('missing');
  return new Promise((resolve) => {
    const child = execFile('iptables-restore', ['--test', '--noflush'], (error, _stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') resolve('missing');
      else resolve(error ? `${error.message}\n${stderr}` : '');
    });
    child.stdin?.end(text);
  });
}
