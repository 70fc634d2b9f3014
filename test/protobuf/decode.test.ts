import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.js';
import { decodeKubernetesProtobuf, formatDuration, ProtobufDecoder } from '../../shared/protobuf/decode.js';
import { kubernetesSchema, parseSchema } from '../../shared/protobuf/schema.js';
import { body, entry, fixed32, fixed64, int, msg, objectMeta, str, tag } from './encoder.js';

function decode(b: Buffer): Record<string, unknown> {
  return decodeKubernetesProtobuf(b).object;
}

/** A pod template's container as gogo writes it: the zero non-pointer fields included. */
function container(name: string, image: string, ...more: Buffer[]): Buffer {
  return Buffer.concat([
    str(1, name),
    str(2, image),
    str(5, ''),
    msg(8), // resources: a non-pointer struct, always written
    str(13, ''),
    str(14, ''),
    int(16, false),
    int(17, false),
    int(18, false),
    str(20, ''),
    ...more,
  ]);
}

describe('decodeKubernetesProtobuf', () => {
  it('decodes a Namespace, dropping the zero values gogo writes', () => {
    const b = body(
      'v1',
      'Namespace',
      msg(1, objectMeta('demo', '', entry(11, 'team', 'a'), entry(11, 'empty', ''))),
      msg(2),
      msg(3, str(1, '')),
    );
    expect(decodeKubernetesProtobuf(b)).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      object: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'demo', labels: { team: 'a', empty: '' } },
        spec: {},
        status: {},
      },
    });
  });

  it('decodes a ConfigMap with data and binaryData (bytes as base64)', () => {
    const b = body(
      'v1',
      'ConfigMap',
      msg(1, objectMeta('settings', 'shop')),
      entry(2, 'color', 'blue'),
      entry(2, 'blank', ''),
      entry(3, 'blob', Buffer.from([0, 1, 2, 255])),
    );
    expect(decode(b)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'shop' },
      data: { color: 'blue', blank: '' },
      binaryData: { blob: 'AAEC/w==' },
    });
  });

  it('decodes a Secret, keeping an explicit immutable: false (a pointer)', () => {
    const b = body(
      'v1',
      'Secret',
      msg(1, objectMeta('creds', 'shop')),
      entry(2, 'password', Buffer.from('s3cr3t')),
      str(3, 'Opaque'),
      int(5, false),
    );
    expect(decode(b)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: 'shop' },
      data: { password: 'czNjcjN0' },
      type: 'Opaque',
      immutable: false,
    });
  });

  it('decodes a Deployment: replicas 0 survives, zero non-pointer fields go, empty structs stay', () => {
    const labels = entry(11, 'app', 'web');
    const spec = Buffer.concat([
      int(1, 0), // replicas: *int32, set to 0
      msg(2, entry(1, 'app', 'web')),
      msg(
        3,
        msg(1, objectMeta('', '', labels)),
        msg(
          2,
          msg(
            2,
            container(
              'web',
              'busybox',
              msg(6, str(1, ''), int(2, 0), int(3, 8080), str(4, 'TCP'), str(5, '')),
            ),
          ),
          str(3, 'Always'),
          str(6, ''),
          int(11, false),
        ),
      ),
      msg(4, str(1, '')), // strategy: a non-pointer struct, type unset
      int(5, 0), // minReadySeconds: int32, omitempty
      int(7, false), // paused: bool, omitempty
    ]);
    const b = body('apps/v1', 'Deployment', msg(1, objectMeta('web', 'shop', labels)), msg(2, spec), msg(3));
    expect(decode(b)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'busybox',
                ports: [{ containerPort: 8080, protocol: 'TCP' }],
                resources: {},
              },
            ],
            restartPolicy: 'Always',
          },
        },
        strategy: {},
      },
      status: {},
    });
  });

  it('decodes a Service: IntOrString targetPorts as numbers or strings, a zero one dropped', () => {
    const port = (name: string, number: number, target: Buffer) =>
      msg(1, str(1, name), str(2, 'TCP'), int(3, number), msg(4, target), int(5, 0));
    const b = body(
      'v1',
      'Service',
      msg(1, objectMeta('web', 'shop')),
      msg(
        2,
        port('http', 80, Buffer.concat([int(1, 0), int(2, 8080), str(3, '')])),
        port('named', 81, Buffer.concat([int(1, 1), int(2, 0), str(3, 'metrics')])),
        port('same', 82, Buffer.concat([int(1, 0), int(2, 0), str(3, '')])),
        entry(2, 'app', 'web'),
        str(3, ''),
        str(4, 'ClusterIP'),
        int(13, false),
      ),
      msg(3, msg(1)),
    );
    expect(decode(b)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
          { name: 'named', protocol: 'TCP', port: 81, targetPort: 'metrics' },
          { name: 'same', protocol: 'TCP', port: 82 },
        ],
        selector: { app: 'web' },
        type: 'ClusterIP',
      },
      status: { loadBalancer: {} },
    });
  });

  it('inlines embedded structs: LocalObjectReference, VolumeSource, ProbeHandler', () => {
    const pod = msg(
      2,
      msg(1, str(1, 'data'), msg(2, msg(2, str(1, 'Memory')))), // volumes[0]: name + volumeSource.emptyDir
      msg(
        2,
        container(
          'app',
          'busybox',
          msg(7, str(1, 'COLOR'), str(2, ''), msg(3, msg(3, msg(1, str(1, 'settings')), str(2, 'color')))),
          msg(10, msg(1, msg(2, str(1, '/healthz'), msg(2, int(1, 0), int(2, 8080)))), int(2, 0), int(3, 1)),
        ),
      ),
    );
    const b = body('v1', 'Pod', msg(1, objectMeta('p', 'default')), pod);
    expect(decode(b)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: {
        volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }],
        containers: [
          {
            name: 'app',
            image: 'busybox',
            env: [{ name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'color' } } }],
            resources: {},
            livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, timeoutSeconds: 1 },
          },
        ],
      },
    });
  });

  it('keeps empty strings inside lists (apiGroups: [""]) and decodes a RoleBinding', () => {
    const role = body(
      'rbac.authorization.k8s.io/v1',
      'Role',
      msg(1, objectMeta('reader', 'shop')),
      msg(2, str(1, 'get'), str(1, 'list'), str(2, ''), str(3, 'pods')),
    );
    expect(decode(role)).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'reader', namespace: 'shop' },
      rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }],
    });
    const binding = body(
      'rbac.authorization.k8s.io/v1',
      'RoleBinding',
      msg(1, objectMeta('read', 'shop')),
      msg(2, str(1, 'User'), str(2, 'rbac.authorization.k8s.io'), str(3, 'alice'), str(4, '')),
      msg(3, str(1, 'rbac.authorization.k8s.io'), str(2, 'Role'), str(3, 'reader')),
    );
    expect(decode(binding)).toMatchObject({
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    });
  });

  it('formats Time, MicroTime and FieldsV1, and keeps pointer zeros in a Lease', () => {
    const time = (seconds: number, nanos = 0) => Buffer.concat([int(1, seconds), int(2, nanos)]);
    const managed = msg(
      17,
      str(1, 'kubectl'),
      str(2, 'Update'),
      str(3, 'v1'),
      msg(4, time(1_700_000_000)),
      str(6, 'FieldsV1'),
      msg(7, str(1, '{"f:spec":{}}')),
    );
    const b = body(
      'coordination.k8s.io/v1',
      'Lease',
      msg(1, objectMeta('lock', 'kube-system', managed), msg(9, time(0, 0))),
      msg(2, str(1, 'me'), int(2, 0), msg(4, time(1_700_000_000, 123_456_789)), int(5, 0)),
    );
    expect(decode(b)).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: 'lock',
        namespace: 'kube-system',
        deletionTimestamp: '1970-01-01T00:00:00Z',
        managedFields: [
          {
            manager: 'kubectl',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2023-11-14T22:13:20Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:spec': {} },
          },
        ],
      },
      spec: {
        holderIdentity: 'me',
        leaseDurationSeconds: 0,
        renewTime: '2023-11-14T22:13:20.123456Z',
        leaseTransitions: 0,
      },
    });
  });

  it('skips unknown fields of every wire type, and merges a message sent twice', () => {
    const b = body(
      'v1',
      'Namespace',
      int(99, 5),
      str(98, 'ignored'),
      fixed32(97, 1),
      fixed64(96, 2n),
      msg(1, str(1, 'demo'), int(500, 1)),
      msg(1, entry(11, 'a', 'b')),
    );
    expect(decode(b)).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'demo', labels: { a: 'b' } },
    });
  });

  it('reads negative and packed integers', () => {
    const values = Buffer.concat([Buffer.from([0x1a, 3]), Buffer.from([1, 2, 3])]); // field 3, packed
    const job = body(
      'batch/v1',
      'Job',
      msg(1, objectMeta('j', 'default')),
      msg(
        2,
        int(3, -1), // activeDeadlineSeconds *int64: -1 as ten bytes
        msg(11, msg(1, str(1, 'FailJob'), msg(2, str(2, 'In'), values, int(3, 42)))),
      ),
    );
    expect(decode(job)).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j', namespace: 'default' },
      spec: {
        activeDeadlineSeconds: -1,
        podFailurePolicy: {
          rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1, 2, 3, 42] } }],
        },
      },
    });
  });

  it('accepts DeleteOptions of any group version, and Scale with replicas 0', () => {
    expect(decode(body('apps/v1', 'DeleteOptions', int(1, 0), str(4, 'Foreground')))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Foreground',
    });
    expect(
      decode(body('autoscaling/v1', 'Scale', msg(1, objectMeta('web', 'shop')), msg(2, int(1, 0)))),
    ).toEqual({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { replicas: 0 },
    });
  });

  it('formats durations as Go does', () => {
    expect(formatDuration(0n)).toBe('0s');
    expect(formatDuration(1500n)).toBe('1.5µs');
    expect(formatDuration(2_000_000n)).toBe('2ms');
    expect(formatDuration(90_000_000_000n)).toBe('1m30s');
    expect(formatDuration(3_723_500_000_000n)).toBe('1h2m3.5s');
    expect(formatDuration(-5_000_000_000n)).toBe('-5s');
  });

  it('has a schema whose every reference resolves', () => {
    const schema = kubernetesSchema();
    expect(schema.size).toBeGreaterThan(200);
    expect(schema.get('apps.v1.DeploymentSpec')?.fields.get(1)).toMatchObject({
      name: 'replicas',
      keep: true,
    });
  });
});

/**
 * The kinds kubectl creates to ask a question or get a token, encoded as its typed clients do (gogo:
 * every non-pointer field written, zero or not; a pointer only when set), against the JSON the same
 * request decodes to (`omitempty` applied, an empty `creationTimestamp` absent).
 */
describe('review kinds and TokenRequest', () => {
  /** The status gogo writes for a review nobody has answered yet: every non-pointer field, zero. */
  const unansweredAccess = msg(3, int(1, false), str(2, ''), str(3, ''), int(4, false));

  it('decodes a SelfSubjectAccessReview with every resource attribute, selectors included', () => {
    const requirement = (key: string, operator: string, ...values: string[]) =>
      msg(2, str(1, key), str(2, operator), ...values.map((v) => str(3, v)));
    const attributes = Buffer.concat([
      str(1, 'shop'),
      str(2, 'list'),
      str(3, 'apps'),
      str(4, 'v1'),
      str(5, 'deployments'),
      str(6, 'scale'),
      str(7, 'web'),
      msg(8, str(1, 'spec.nodeName=node-1'), requirement('spec.nodeName', 'In', 'node-1')),
      msg(
        9,
        str(1, 'tier in (web,api)'),
        requirement('tier', 'In', 'web', 'api'),
        requirement('canary', 'DoesNotExist'),
      ),
    ]);
    const b = body(
      'authorization.k8s.io/v1',
      'SelfSubjectAccessReview',
      msg(1, objectMeta('')),
      msg(2, msg(1, attributes)),
      unansweredAccess,
    );
    expect(decode(b)).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: {
        resourceAttributes: {
          namespace: 'shop',
          verb: 'list',
          group: 'apps',
          version: 'v1',
          resource: 'deployments',
          subresource: 'scale',
          name: 'web',
          fieldSelector: {
            rawSelector: 'spec.nodeName=node-1',
            requirements: [{ key: 'spec.nodeName', operator: 'In', values: ['node-1'] }],
          },
          labelSelector: {
            rawSelector: 'tier in (web,api)',
            requirements: [
              { key: 'tier', operator: 'In', values: ['web', 'api'] },
              { key: 'canary', operator: 'DoesNotExist' },
            ],
          },
        },
      },
      status: {},
    });
  });

  it('decodes a SelfSubjectAccessReview for a non-resource URL, as kubectl auth can-i get /healthz sends it', () => {
    const b = body(
      'authorization.k8s.io/v1',
      'SelfSubjectAccessReview',
      msg(1, objectMeta('')),
      msg(2, msg(2, str(1, '/healthz'), str(2, 'get'))),
      unansweredAccess,
    );
    expect(decode(b)).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } },
      status: {},
    });
  });

  it('decodes a SelfSubjectReview as kubectl auth whoami sends it: nothing but empty structs', () => {
    const b = body(
      'authentication.k8s.io/v1',
      'SelfSubjectReview',
      msg(1, objectMeta('')),
      msg(2, msg(1, str(1, ''), str(2, ''))),
    );
    expect(decode(b)).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
      metadata: {},
      status: { userInfo: {} },
    });
  });

  it('decodes a SelfSubjectRulesReview with spec.namespace, as kubectl auth can-i --list sends it', () => {
    const b = body(
      'authorization.k8s.io/v1',
      'SelfSubjectRulesReview',
      msg(1, objectMeta('')),
      msg(2, str(1, 'shop')),
      msg(3, int(3, false), str(4, '')),
    );
    expect(decode(b)).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: {},
      spec: { namespace: 'shop' },
      status: {},
    });
  });

  it('decodes a TokenRequest as kubectl create token sends it: audiences, expirationSeconds, boundObjectRef', () => {
    const uid = '6a4ad0b8-6c1f-4d4e-9a0e-0b7f2f9f7c11';
    const b = body(
      'authentication.k8s.io/v1',
      'TokenRequest',
      msg(1, objectMeta('')),
      msg(
        2,
        str(1, 'https://kubernetes.default.svc'),
        str(1, 'vault'),
        msg(3, str(1, 'Pod'), str(2, 'v1'), str(3, 'web-0'), str(4, uid)),
        int(4, 600),
      ),
      msg(3, str(1, ''), msg(2)),
    );
    expect(decode(b)).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: {
        audiences: ['https://kubernetes.default.svc', 'vault'],
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid },
        expirationSeconds: 600,
      },
      status: {},
    });
  });

  it('keeps a TokenRequest without a duration without expirationSeconds, and an explicit 0 as 0 (a pointer)', () => {
    const request = (...spec: Buffer[]) =>
      decode(body('authentication.k8s.io/v1', 'TokenRequest', msg(1, objectMeta('')), msg(2, ...spec)));
    expect(request(str(1, 'api'))).toMatchObject({ spec: { audiences: ['api'] } });
    expect((request(str(1, 'api')).spec as Record<string, unknown>).expirationSeconds).toBeUndefined();
    expect(request(int(4, 0))).toMatchObject({ spec: { expirationSeconds: 0 } });
  });

  it('decodes an Eviction with its DeleteOptions, as kubectl drain sends it', () => {
    const b = body(
      'policy/v1',
      'Eviction',
      msg(1, objectMeta('web-0', 'shop')),
      msg(2, int(1, 30), str(5, 'All')), // propagationPolicy and the rest: nil pointers, not written
    );
    expect(decode(b)).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'web-0', namespace: 'shop' },
      deleteOptions: { gracePeriodSeconds: 30, dryRun: ['All'] },
    });
  });
});

describe('malformed protobuf bodies', () => {
  function rejects(b: Buffer, message?: RegExp): void {
    let error: unknown;
    try {
      decodeKubernetesProtobuf(b);
    } catch (e) {
      error = e;
    }
    expect(error, `decoding ${b.toString('hex')}`).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(400);
    if (message) expect((error as ApiError).message).toMatch(message);
  }

  const magic = Buffer.from('k8s\0', 'latin1');
  const namespace = body('v1', 'Namespace', msg(1, objectMeta('demo')));

  it('rejects a missing or wrong magic, and an envelope without a kind', () => {
    rejects(Buffer.alloc(0), /magic/);
    rejects(Buffer.from('{"kind":"Namespace"}'), /magic/);
    rejects(magic, /apiVersion and kind/);
  });

  it('rejects truncated bodies at every length', () => {
    for (let n = 5; n < namespace.length; n++) {
      const cut = namespace.subarray(0, n);
      try {
        decodeKubernetesProtobuf(cut);
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError);
        expect((e as ApiError).code).toBe(400);
      }
    }
    rejects(Buffer.concat([magic, Buffer.from([0x0a, 0x80])]), /truncated varint/);
    rejects(Buffer.concat([magic, Buffer.from([0x0a, 0x05, 0x0a])]), /past the end/);
  });

  it('rejects wrong wire types, bad varints, field 0 and absurd lengths', () => {
    rejects(body('v1', 'Namespace', msg(1, int(1, 7))), /wire type 0/);
    rejects(body('v1', 'Namespace', int(1, 3)), /wire type 0/);
    rejects(body('v1', 'Namespace', Buffer.from([0x0b])), /wire type 3/);
    rejects(body('v1', 'Namespace', Buffer.from([0x0e, 0x00])), /wire type 6/);
    rejects(body('v1', 'Namespace', Buffer.from([0x00, 0x00])), /field number 0/);
    rejects(body('v1', 'Namespace', tag(99, 0), Buffer.from([...Array(11).fill(0xff), 0x01])), /varint/);
    rejects(body('v1', 'Namespace', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), /past the end/);
    rejects(body('v1', 'Namespace', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), /out of range/);
  });

  it('rejects unknown kinds, encodings and bad special values', () => {
    rejects(body('v1', 'Widget', msg(1)), /not supported/);
    rejects(body('apps/v1', 'Namespace', msg(1)), /not supported/);
    rejects(Buffer.concat([magic, msg(1, str(1, 'v1'), str(2, 'Namespace')), str(3, 'gzip')]), /encoding/);
    const service = (target: Buffer) => body('v1', 'Service', msg(2, msg(1, int(3, 80), msg(4, target))));
    rejects(service(int(1, 2)), /neither 0/);
    const lease = (time: Buffer) => body('coordination.k8s.io/v1', 'Lease', msg(2, msg(3, time)));
    rejects(lease(Buffer.concat([int(1, 1), int(2, 1_000_000_000)])), /nanos/);
    rejects(lease(Buffer.concat([int(1, 300_000_000_000)])), /seconds/);
    const fields = body('v1', 'Namespace', msg(1, msg(17, msg(7, str(1, '{not json')))));
    rejects(fields, /not JSON/);
  });

  it('rejects nesting deeper than 64 levels', () => {
    const decoder = new ProtobufDecoder(parseSchema({ 't.Node': '1 child t.Node;2 name string' }));
    let nested = str(2, 'leaf');
    for (let i = 0; i < 100; i++) nested = msg(1, nested);
    expect(() => decoder.decodeMessage('t.Node', nested)).toThrow(/nested deeper than 64/);
    let shallow = str(2, 'leaf');
    for (let i = 0; i < 30; i++) shallow = msg(1, shallow);
    expect(JSON.stringify(decoder.decodeMessage('t.Node', shallow))).toContain('"name":"leaf"');
    // Deeply nested unknown fields are skipped without descending into them.
    let unknown = str(2, 'x');
    for (let i = 0; i < 1000; i++) unknown = msg(50, unknown);
    expect(decode(body('v1', 'Namespace', unknown))).toEqual({ apiVersion: 'v1', kind: 'Namespace' });
  });

  it('answers random and mutated bodies with a 400 or a result, never another error', () => {
    let seed = 0x2545f491;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const valid = [
      namespace,
      body(
        'v1',
        'ConfigMap',
        msg(1, objectMeta('c', 'd')),
        entry(2, 'k', 'v'),
        entry(3, 'b', Buffer.from([1])),
      ),
      body(
        'apps/v1',
        'Deployment',
        msg(1, objectMeta('web', 'shop')),
        msg(2, int(1, 0), msg(3, msg(2, msg(2, container('c', 'i'))))),
      ),
    ];
    let decoded = 0;
    for (let i = 0; i < 4000; i++) {
      let b: Buffer;
      if (i % 2 === 0) {
        b = Buffer.concat([
          magic,
          Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))),
        ]);
      } else {
        b = Buffer.from(valid[i % valid.length] as Buffer);
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++)
          b[4 + Math.floor(random() * (b.length - 4))] = Math.floor(random() * 256);
        if (random() < 0.3) b = b.subarray(0, 4 + Math.floor(random() * (b.length - 4)));
      }
      try {
        decodeKubernetesProtobuf(b);
        decoded++;
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError);
        expect((e as ApiError).code).toBe(400);
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});
