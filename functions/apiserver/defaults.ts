/**
 * Defaults kube-apiserver applies on decode (the SetDefaults_* functions of k8s.io/api), for the
 * fields clients and controllers read back. Pure: they return a defaulted copy.
 */

import { defaultPullPolicy } from '../../shared/api/images.js';
import { isJsonObject, type KubernetesObject } from '../../shared/api/types.js';

type Json = Record<string, unknown>;

function withDefaults<T extends Json>(value: unknown, defaults: T): T & Json {
  return { ...defaults, ...((value as Json | undefined) ?? {}) };
}

function defaultContainer(container: unknown): Json {
  const c = (container ?? {}) as Json;
  return {
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: defaultPullPolicy(String(c.image ?? '')),
    resources: {},
    ...c,
    ...(Array.isArray(c.ports) ? { ports: c.ports.map((p) => withDefaults(p, { protocol: 'TCP' })) } : {}),
  };
}

export function defaultPodSpec(spec: unknown): Json {
  const s = withDefaults(spec, {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
  });
  return {
    ...s,
    ...(Array.isArray(s.containers) ? { containers: s.containers.map(defaultContainer) } : {}),
    ...(Array.isArray(s.initContainers) ? { initContainers: s.initContainers.map(defaultContainer) } : {}),
  };
}

function defaultTemplate(template: unknown): Json {
  const t = (template ?? {}) as Json;
  return { ...t, spec: defaultPodSpec(t.spec) };
}

const rbacGroup = 'rbac.authorization.k8s.io';

/**
 * SetDefaults_RoleBinding and SetDefaults_Subject: the RBAC group where a roleRef, or a User or Group
 * subject, leaves it out (validation then requires it).
 */
function defaultBinding(o: KubernetesObject): KubernetesObject {
  const roleRef = o.roleRef;
  const subjects = o.subjects;
  return {
    ...o,
    ...(isJsonObject(roleRef) && !roleRef.apiGroup ? { roleRef: { ...roleRef, apiGroup: rbacGroup } } : {}),
    ...(Array.isArray(subjects)
      ? {
          subjects: subjects.map((s: unknown) =>
            isJsonObject(s) && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')
              ? { ...s, apiGroup: rbacGroup }
              : s,
          ),
        }
      : {}),
  };
}

const byKind: Record<string, (object: KubernetesObject) => KubernetesObject> = {
  Namespace: (o) => ({
    ...o,
    metadata: {
      ...o.metadata,
      labels: { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name },
    },
    spec: withDefaults(o.spec, { finalizers: ['kubernetes'] }),
  }),
  Pod: (o) => ({ ...o, spec: defaultPodSpec(o.spec) }),
  Deployment: (o) => {
    const spec = withDefaults(o.spec, {
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    const strategy = withDefaults(spec.strategy, { type: 'RollingUpdate' });
    if (strategy.type === 'RollingUpdate') {
      strategy.rollingUpdate = withDefaults(strategy.rollingUpdate, {
        maxUnavailable: '25%',
        maxSurge: '25%',
      });
    }
    return { ...o, spec: { ...spec, strategy, template: defaultTemplate(spec.template) } };
  },
  ReplicaSet: (o) => {
    const spec = withDefaults(o.spec, { replicas: 1 });
    return { ...o, spec: { ...spec, template: defaultTemplate(spec.template) } };
  },
  Job: (o) => {
    const given = (o.spec ?? {}) as Json;
    // A work queue (parallelism without completions) keeps completions unset, as upstream.
    const bothUnset = given.completions === undefined && given.parallelism === undefined;
    const spec = withDefaults(o.spec, {
      parallelism: 1,
      ...(bothUnset ? { completions: 1 } : {}),
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      podReplacementPolicy: 'TerminatingOrFailed',
    });
    const template = defaultTemplate(spec.template);
    if (spec.manualSelector === true || spec.selector !== undefined || !o.metadata.uid)
      return { ...o, spec: { ...spec, template } };
    // The Job strategy's generated selector: the job's uid, with the labels that match it on its pods.
    const jobLabels = {
      'batch.kubernetes.io/controller-uid': o.metadata.uid,
      'batch.kubernetes.io/job-name': o.metadata.name,
      'controller-uid': o.metadata.uid,
      'job-name': o.metadata.name,
    };
    const metadata = (template.metadata ?? {}) as Json;
    return {
      ...o,
      spec: {
        ...spec,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': o.metadata.uid } },
        template: {
          ...template,
          metadata: { ...metadata, labels: { ...(metadata.labels as Json), ...jobLabels } },
        },
      },
    };
  },
  Service: (o) => {
    const spec = withDefaults(o.spec, { type: 'ClusterIP', sessionAffinity: 'None' });
    const ports = Array.isArray(spec.ports)
      ? spec.ports.map((p: Json) => ({ protocol: 'TCP', ...p, targetPort: p.targetPort ?? p.port }))
      : spec.ports;
    return { ...o, spec: { ...spec, ...(ports ? { ports } : {}) } };
  },
  // stringData is write-only, as upstream: merged into data (base64), winning over the same key there.
  Secret: ({ stringData, ...o }) => {
    const data =
      stringData && typeof stringData === 'object'
        ? {
            ...(o.data as Json | undefined),
            ...Object.fromEntries(
              Object.entries(stringData as Json).map(([k, v]) => [
                k,
                Buffer.from(String(v)).toString('base64'),
              ]),
            ),
          }
        : o.data;
    return { ...o, type: o.type ?? 'Opaque', ...(data ? { data } : {}) };
  },
  RoleBinding: defaultBinding,
  ClusterRoleBinding: defaultBinding,
};

export function applyDefaults(object: KubernetesObject): KubernetesObject {
  const defaults = object.kind ? byKind[object.kind] : undefined;
  return defaults ? defaults(object) : object;
}
