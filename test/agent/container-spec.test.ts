import { describe, expect, it } from 'vitest';
import {
  containerSpec,
  expandEnv,
  type KubeletContainer,
  podHostname,
  sandboxSpec,
} from '../../agent/kubelet/container-spec.js';
import type { Pod } from '../../shared/api/core.js';

const cluster = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' };

function pod(spec: Record<string, unknown> = {}, name = 'web'): Pod {
  return {
    metadata: { name, namespace: 'shop', uid: 'uid-1' },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec },
  } as Pod;
}

const none = { env: [], mounts: [] };

describe('sandboxSpec: DNS policies', () => {
  it('gives ClusterFirst pods the cluster DNS, namespace search path and ndots:5', () => {
    expect(sandboxSpec(pod(), cluster).dns).toEqual({
      servers: ['10.96.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
  });

  it("appends the node's search domains after the cluster's, without duplicates", () => {
    const dns = sandboxSpec(pod(), { ...cluster, hostSearches: ['ec2.internal', 'cluster.local'] }).dns;
    expect(dns?.searches).toEqual([
      'shop.svc.cluster.local',
      'svc.cluster.local',
      'cluster.local',
      'ec2.internal',
    ]);
  });

  it('leaves Default pods on the node resolver', () => {
    expect(sandboxSpec(pod({ dnsPolicy: 'Default' }), cluster).dns).toBeUndefined();
  });

  it('falls back to the node resolver for host-network ClusterFirst pods', () => {
    const spec = sandboxSpec(pod({ hostNetwork: true }), cluster);
    expect(spec.dns).toBeUndefined();
    expect(spec.hostNetwork).toBe(true);
  });

  it('gives host-network pods the cluster DNS with ClusterFirstWithHostNet', () => {
    const dns = sandboxSpec(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), cluster).dns;
    expect(dns?.servers).toEqual(['10.96.0.10']);
  });

  it('falls back to the node resolver when no cluster DNS is configured', () => {
    expect(sandboxSpec(pod(), { clusterDNS: [], clusterDomain: 'cluster.local' }).dns).toBeUndefined();
  });

  it('uses only dnsConfig with policy None', () => {
    const dns = sandboxSpec(
      pod({
        dnsPolicy: 'None',
        dnsConfig: { nameservers: ['1.1.1.1'], searches: ['example.com'], options: [{ name: 'edns0' }] },
      }),
      cluster,
    ).dns;
    expect(dns).toEqual({ servers: ['1.1.1.1'], searches: ['example.com'], options: ['edns0'] });
  });

  it("appends dnsConfig to ClusterFirst, a pod option replacing the kubelet's of the same name", () => {
    const dns = sandboxSpec(
      pod({
        dnsConfig: {
          nameservers: ['1.1.1.1', '10.96.0.10'],
          searches: ['example.com', 'svc.cluster.local'],
          options: [
            { name: 'ndots', value: '2' },
            { name: 'timeout', value: '1' },
          ],
        },
      }),
      cluster,
    ).dns;
    expect(dns).toEqual({
      servers: ['10.96.0.10', '1.1.1.1'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'example.com'],
      options: ['ndots:2', 'timeout:1'],
    });
  });

  it("gives a Default pod's dnsConfig on top of the node's search domains", () => {
    const dns = sandboxSpec(pod({ dnsPolicy: 'Default', dnsConfig: { searches: ['example.com'] } }), {
      ...cluster,
      hostSearches: ['ec2.internal'],
    }).dns;
    expect(dns).toEqual({ servers: [], searches: ['ec2.internal', 'example.com'], options: [] });
  });

  it('keeps at most 32 search domains', () => {
    const searches = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const dns = sandboxSpec(pod({ dnsConfig: { searches } }), cluster).dns;
    expect(dns?.searches).toHaveLength(32);
  });
});

describe('sandboxSpec: identity and host ports', () => {
  it('names the sandbox after the pod and uses spec.hostname when set', () => {
    const spec = sandboxSpec(pod({ hostname: 'db-0' }), cluster);
    expect(spec).toMatchObject({ podUid: 'uid-1', namespace: 'shop', name: 'web', hostname: 'db-0' });
    expect(sandboxSpec(pod(), cluster).hostname).toBe('web');
  });

  it('truncates a long hostname to 63 characters without a trailing dash or dot', () => {
    const name = `${'a'.repeat(61)}-.bbbb`;
    expect(podHostname(name, undefined)).toBe('a'.repeat(61));
    expect(podHostname('x'.repeat(70), undefined)).toHaveLength(63);
  });

  it("publishes every container's host ports with TCP as the default protocol", () => {
    const spec = sandboxSpec(
      pod({
        containers: [
          {
            name: 'a',
            ports: [
              { containerPort: 80, hostPort: 8080 },
              { containerPort: 9090 },
              { containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' },
            ],
          },
          { name: 'b', ports: [{ containerPort: 443, hostPort: 8443, protocol: 'TCP' }] },
        ],
      }),
      cluster,
    );
    expect(spec.ports).toEqual([
      { containerPort: 80, hostPort: 8080, protocol: 'TCP' },
      { containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' },
      { containerPort: 443, hostPort: 8443, protocol: 'TCP' },
    ]);
  });

  it('publishes no ports for a pod without host ports', () => {
    expect(sandboxSpec(pod(), cluster).ports).toEqual([]);
    expect(sandboxSpec(pod(), cluster).hostNetwork).toBeUndefined();
  });
});

describe('expandEnv', () => {
  const env = new Map([
    ['NAME', 'world'],
    ['EMPTY', ''],
  ]);

  it.each([
    ['hello $(NAME)', 'hello world'],
    ['$(NAME)$(NAME)', 'worldworld'],
    ['$(MISSING) stays', '$(MISSING) stays'],
    ['$$(NAME) is escaped', '$(NAME) is escaped'],
    ['$$$(NAME)', '$world'],
    ['a $$ b', 'a $ b'],
    ['$NAME is not a reference', '$NAME is not a reference'],
    ['unclosed $(NAME', 'unclosed $(NAME'],
    ['trailing $', 'trailing $'],
    ['[$(EMPTY)]', '[]'],
    ['$()', '$()'],
    ['no references', 'no references'],
  ])('expands %j to %j', (input, output) => {
    expect(expandEnv(input, env)).toBe(output);
  });

  it('takes a plain record too', () => {
    expect(expandEnv('$(A)-$(toString)', { A: '1' })).toBe('1-$(toString)');
  });
});

describe('containerSpec', () => {
  const container = (fields: Partial<KubeletContainer> = {}): KubeletContainer => ({
    name: 'app',
    image: 'busybox',
    ...fields,
  });

  it('passes command and args through, expanding $(VAR) from the resolved env', () => {
    const spec = containerSpec(
      pod(),
      container({ command: ['sh', '-c', 'echo $(GREETING) $$(GREETING) $(NOPE)'], args: ['$(GREETING)'] }),
      'regular',
      2,
      { env: [{ name: 'GREETING', value: 'hi' }], mounts: [] },
    );
    expect(spec.command).toEqual(['sh', '-c', 'echo hi $(GREETING) $(NOPE)']);
    expect(spec.args).toEqual(['hi']);
    expect(spec).toMatchObject({
      podUid: 'uid-1',
      name: 'app',
      kind: 'regular',
      restartCount: 2,
      image: 'busybox',
    });
    expect(spec.env).toEqual([{ name: 'GREETING', value: 'hi' }]);
  });

  it('leaves command and args unset when the container does not set them, so the image decides', () => {
    const spec = containerSpec(pod(), container(), 'init', 0, none);
    expect(spec.command).toBeUndefined();
    expect(spec.args).toBeUndefined();
    expect(spec.kind).toBe('init');
  });

  it('carries mounts, workingDir, stdin and tty', () => {
    const mounts = [{ hostPath: '/var/x', containerPath: '/x', readOnly: true }];
    const spec = containerSpec(
      pod(),
      container({ workingDir: '/srv', stdin: true, tty: true }),
      'regular',
      0,
      {
        env: [],
        mounts,
      },
    );
    expect(spec).toMatchObject({ workingDir: '/srv', stdin: true, tty: true, mounts });
  });

  it('converts limits and requests with the quantity parser', () => {
    const spec = containerSpec(
      pod(),
      container({ resources: { limits: { cpu: '1500m', memory: '128Mi' }, requests: { cpu: '0.1' } } }),
      'regular',
      0,
      none,
    );
    expect(spec.resources).toEqual({
      cpuMilliLimit: 1500,
      memoryLimitBytes: 134217728,
      cpuMilliRequest: 100,
    });
  });

  it('takes the CPU limit as the request when no request is set, as API defaulting does', () => {
    const spec = containerSpec(
      pod(),
      container({ resources: { limits: { cpu: '2', memory: '1G' } } }),
      'regular',
      0,
      none,
    );
    expect(spec.resources).toEqual({
      cpuMilliLimit: 2000,
      memoryLimitBytes: 1_000_000_000,
      cpuMilliRequest: 2000,
    });
  });

  it('has empty resources without requests or limits', () => {
    expect(containerSpec(pod(), container(), 'regular', 0, none).resources).toEqual({});
  });

  it('uses the pod security context as defaults for the user and group', () => {
    const spec = containerSpec(
      pod({ securityContext: { runAsUser: 1000, runAsGroup: 3000 } }),
      container(),
      'regular',
      0,
      none,
    );
    expect(spec.security).toEqual({ runAsUser: 1000, runAsGroup: 3000 });
  });

  it("lets the container's security context override the pod's and adds its own settings", () => {
    const spec = containerSpec(
      pod({ securityContext: { runAsUser: 1000, runAsGroup: 3000 } }),
      container({
        securityContext: {
          runAsUser: 0,
          privileged: true,
          readOnlyRootFilesystem: true,
          capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
        },
      }),
      'regular',
      0,
      none,
    );
    expect(spec.security).toEqual({
      runAsUser: 0,
      runAsGroup: 3000,
      privileged: true,
      readOnlyRootFilesystem: true,
      capAdd: ['NET_ADMIN'],
      capDrop: ['ALL'],
    });
  });

  it('has no security settings when neither pod nor container sets any', () => {
    expect(containerSpec(pod(), container(), 'regular', 0, none).security).toBeUndefined();
  });
});
