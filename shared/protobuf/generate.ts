/**
 * Regenerates `schema.generated.ts`: the field table the Kubernetes protobuf decoder (`decode.ts`)
 * reads, for the messages reachable from the kinds this server serves (`shared/api/resources.ts`:
 * the stored kinds, the review kinds kubectl creates, such as `kubectl auth whoami`'s
 * SelfSubjectReview), their subresource kinds, and `DeleteOptions`.
 *
 *   npx tsx shared/protobuf/generate.ts <proto-root>
 *
 * `<proto-root>` holds upstream `generated.proto` files under their import paths
 * (`<proto-root>/k8s.io/api/core/v1/generated.proto`, `<proto-root>/k8s.io/apimachinery/pkg/...`), for
 * example a checkout's `staging/src`. Field numbers, names and types are protocol facts read from
 * there; nothing else of those files is kept. The files and commits the committed table was made
 * from are listed in `sources` below: update them when regenerating from other files.
 *
 * Checks made on every run (the run fails on an error, and prints the warnings):
 * - every type a reachable field names is defined (so leaving out a message fails loudly);
 * - against the OpenAPI definitions in `shared/openapi` (Kubernetes v1.27): every property there has
 *   a proto field (after inlining), of a compatible type; proto fields newer than v1.27 are listed;
 * - embedded Go structs (`json:",inline"`) are found the same way: a message field whose name is no
 *   property of its message, while at least half of the embedded message's properties (its proto
 *   fields, when it has no OpenAPI definition) are, is inlined; each one is printed for review;
 * - every entry of `presence` names a scalar-like field of the table.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resourceTypes, reviewTypes, subresourceKinds } from '../api/resources.js';
import { definitions, type Schema as OpenApiSchema } from '../openapi/schema.js';

/**
 * The upstream files the committed table was generated from. The table in the repository was made
 * from comment-stripped transcriptions of these files (only the messages reachable from our kinds),
 * read through a store of public repositories; a full checkout of the same files gives the same
 * table, as the generator keeps only reachable messages and reads nothing but numbers, names and
 * types. Protobuf field numbers are never reused upstream, so newer files only add fields.
 *
 * Where the store's copy of an upstream file predates the kinds we need (authentication/v1 without
 * SelfSubjectReview, authorization/v1 without the v1.31 selector attributes, policy/v1 without
 * Eviction), the file is read from a repository that vendors a recent `k8s.io/api` unchanged.
 */
const sources = [
  {
    file: 'k8s.io/api/core/v1/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/api/core/v1/generated.proto',
    commit: '0032f46b5dcb893b0684679408a2da9bd26a0859',
  },
  {
    file: 'k8s.io/api/apps/v1/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/api/apps/v1/generated.proto',
    commit: '0122c43a017029d0572474da5a6382e1463f9710',
  },
  {
    file: 'k8s.io/api/batch/v1/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/api/batch/v1/generated.proto',
    commit: '008b3652959ca58af8be3fb5b6ecfe9ae7638282',
  },
  {
    file: 'k8s.io/api/rbac/v1/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/api/rbac/v1/generated.proto',
    commit: '081ac6b5a9004b7c6cfe6a8b8f83e60eca58a010',
  },
  {
    file: 'k8s.io/api/coordination/v1/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/api/coordination/v1/generated.proto',
    commit: '1672e6d6b8becd8b9595597d4957830f0fd07b7e',
  },
  {
    file: 'k8s.io/api/discovery/v1/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/api/discovery/v1/generated.proto',
    commit: '025f2834a128798cef30018a5e6a6ae82b5ad885',
  },
  {
    file: 'k8s.io/api/autoscaling/v1/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/api/autoscaling/v1/generated.proto',
    commit: '06726ca7f82742f67b39ac2802abe997082c2723',
  },
  {
    file: 'k8s.io/api/authorization/v1/generated.proto',
    repo: 'kubeadapt/kubeadapt-k8s-pulse',
    path: 'vendor/k8s.io/api/authorization/v1/generated.proto',
    commit: '2d3917ec4aff355100569f652478025504b4c297',
  },
  {
    file: 'k8s.io/api/authentication/v1/generated.proto',
    repo: 'kubeadapt/kubeadapt-k8s-pulse',
    path: 'vendor/k8s.io/api/authentication/v1/generated.proto',
    commit: '2d3917ec4aff355100569f652478025504b4c297',
  },
  {
    file: 'k8s.io/api/policy/v1/generated.proto',
    repo: 'kubeadapt/kubeadapt-k8s-pulse',
    path: 'vendor/k8s.io/api/policy/v1/generated.proto',
    commit: '2d3917ec4aff355100569f652478025504b4c297',
  },
  {
    file: 'k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto',
    repo: 'aaron-prindle/kubernetes',
    path: 'staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto',
    commit: '25d85c8fb532f6ed8d87093f4d881210382caa77',
  },
  {
    file: 'k8s.io/apimachinery/pkg/util/intstr/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/apimachinery/pkg/util/intstr/generated.proto',
    commit: '009a4a8bc0b3dde74bdce54289f58bf82efaf5e9',
  },
  {
    file: 'k8s.io/apimachinery/pkg/api/resource/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/apimachinery/pkg/api/resource/generated.proto',
    commit: '0f9f0907d6dbe57e78d61f3432bf9b63514b540a',
  },
  {
    file: 'k8s.io/apimachinery/pkg/runtime/generated.proto',
    repo: 'kubernetes/kubernetes',
    path: 'staging/src/k8s.io/apimachinery/pkg/runtime/generated.proto',
    commit: '203d8ac83844b8ea8ece8ece7630cb22ef8f327d',
  },
];

/**
 * Fields whose Go type is a pointer (`*int32`, `*bool`, `*string`, `*intstr.IntOrString`): gogo
 * writes them only when set, so a zero value on the wire was set on purpose and is kept
 * (`spec.replicas: 0`). Every other scalar is written even when zero, and its zero is dropped as
 * Go's `omitempty` would. From the upstream Go types (the `types.go` files of k8s.io/api).
 */
const presence: Record<string, string[]> = {
  'core.v1.AzureDiskVolumeSource': ['cachingMode', 'fsType', 'readOnly', 'kind'],
  'core.v1.AppArmorProfile': ['localhostProfile'],
  'core.v1.CSIVolumeSource': ['readOnly', 'fsType'],
  'core.v1.ClientIPConfig': ['timeoutSeconds'],
  'core.v1.ClusterTrustBundleProjection': ['name', 'signerName', 'optional'],
  'core.v1.ConfigMap': ['immutable'],
  'core.v1.ConfigMapEnvSource': ['optional'],
  'core.v1.ConfigMapKeySelector': ['optional'],
  'core.v1.ConfigMapProjection': ['optional'],
  'core.v1.ConfigMapVolumeSource': ['defaultMode', 'optional'],
  'core.v1.Container': ['restartPolicy'],
  'core.v1.ContainerStatus': ['started', 'stopSignal'],
  'core.v1.DownwardAPIVolumeFile': ['mode'],
  'core.v1.DownwardAPIVolumeSource': ['defaultMode'],
  'core.v1.EndpointAddress': ['nodeName'],
  'core.v1.EndpointPort': ['appProtocol'],
  'core.v1.EphemeralContainerCommon': ['restartPolicy'],
  'core.v1.FileKeySelector': ['optional'],
  'core.v1.GRPCAction': ['service'],
  'core.v1.HostPathVolumeSource': ['type'],
  'core.v1.ISCSIVolumeSource': ['initiatorName'],
  'core.v1.KeyToPath': ['mode'],
  'core.v1.Lifecycle': ['stopSignal'],
  'core.v1.LoadBalancerIngress': ['ipMode'],
  'core.v1.NodeFeatures': ['supplementalGroupsPolicy'],
  'core.v1.NodeRuntimeHandlerFeatures': ['recursiveReadOnlyMounts', 'userNamespaces'],
  'core.v1.NodeSwapStatus': ['capacity'],
  'core.v1.PersistentVolumeClaimSpec': ['storageClassName', 'volumeMode', 'volumeAttributesClassName'],
  'core.v1.PodCertificateProjection': ['maxExpirationSeconds'],
  'core.v1.PodDNSConfigOption': ['value'],
  'core.v1.PodResourceClaim': ['resourceClaimName', 'resourceClaimTemplateName'],
  'core.v1.PodResourceClaimStatus': ['resourceClaimName'],
  'core.v1.PodSecurityContext': [
    'runAsUser',
    'runAsGroup',
    'runAsNonRoot',
    'supplementalGroupsPolicy',
    'fsGroup',
    'fsGroupChangePolicy',
    'seLinuxChangePolicy',
  ],
  'core.v1.PodSpec': [
    'terminationGracePeriodSeconds',
    'activeDeadlineSeconds',
    'automountServiceAccountToken',
    'shareProcessNamespace',
    'priority',
    'runtimeClassName',
    'enableServiceLinks',
    'preemptionPolicy',
    'setHostnameAsFQDN',
    'hostUsers',
    'hostnameOverride',
  ],
  'core.v1.PortStatus': ['error'],
  'core.v1.Probe': ['terminationGracePeriodSeconds'],
  'core.v1.ProjectedVolumeSource': ['defaultMode'],
  'core.v1.ResourceHealth': ['message'],
  'core.v1.Secret': ['immutable'],
  'core.v1.SecretEnvSource': ['optional'],
  'core.v1.SecretKeySelector': ['optional'],
  'core.v1.SecretProjection': ['optional'],
  'core.v1.SecretVolumeSource': ['defaultMode', 'optional'],
  'core.v1.SeccompProfile': ['localhostProfile'],
  'core.v1.SecurityContext': [
    'privileged',
    'runAsUser',
    'runAsGroup',
    'runAsNonRoot',
    'readOnlyRootFilesystem',
    'allowPrivilegeEscalation',
    'procMount',
  ],
  'core.v1.ServiceAccount': ['automountServiceAccountToken'],
  'core.v1.ServiceAccountTokenProjection': ['expirationSeconds'],
  'core.v1.ServicePort': ['appProtocol'],
  'core.v1.ServiceSpec': [
    'ipFamilyPolicy',
    'allocateLoadBalancerNodePorts',
    'loadBalancerClass',
    'internalTrafficPolicy',
    'trafficDistribution',
  ],
  'core.v1.Toleration': ['tolerationSeconds'],
  'core.v1.TopologySpreadConstraint': ['minDomains', 'nodeAffinityPolicy', 'nodeTaintsPolicy'],
  'core.v1.VolumeMount': ['recursiveReadOnly', 'mountPropagation'],
  'core.v1.VolumeMountStatus': ['recursiveReadOnly'],
  'core.v1.WindowsSecurityContextOptions': [
    'gmsaCredentialSpecName',
    'gmsaCredentialSpec',
    'runAsUserName',
    'hostProcess',
  ],
  'apps.v1.DeploymentSpec': [
    'replicas',
    'revisionHistoryLimit',
    'progressDeadlineSeconds',
    'podReplacementPolicy',
  ],
  'apps.v1.DeploymentStatus': ['terminatingReplicas'],
  'apps.v1.ReplicaSetSpec': ['replicas'],
  'apps.v1.ReplicaSetStatus': ['terminatingReplicas'],
  'apps.v1.RollingUpdateDeployment': ['maxUnavailable', 'maxSurge'],
  'authentication.v1.TokenRequestSpec': ['expirationSeconds'],
  'autoscaling.v1.ScaleSpec': ['replicas'],
  'batch.v1.JobSpec': [
    'parallelism',
    'completions',
    'activeDeadlineSeconds',
    'backoffLimit',
    'backoffLimitPerIndex',
    'maxFailedIndexes',
    'manualSelector',
    'ttlSecondsAfterFinished',
    'completionMode',
    'suspend',
    'podReplacementPolicy',
    'managedBy',
  ],
  'batch.v1.JobStatus': ['terminating', 'failedIndexes', 'ready'],
  'batch.v1.PodFailurePolicyOnExitCodesRequirement': ['containerName'],
  'batch.v1.SuccessPolicyRule': ['succeededIndexes', 'succeededCount'],
  'coordination.v1.LeaseSpec': [
    'holderIdentity',
    'leaseDurationSeconds',
    'leaseTransitions',
    'strategy',
    'preferredHolder',
  ],
  'discovery.v1.Endpoint': ['hostname', 'nodeName', 'zone'],
  'discovery.v1.EndpointConditions': ['ready', 'serving', 'terminating'],
  'discovery.v1.EndpointPort': ['name', 'protocol', 'port', 'appProtocol'],
  'meta.v1.DeleteOptions': ['gracePeriodSeconds', 'orphanDependents', 'propagationPolicy'],
  'meta.v1.ObjectMeta': ['deletionGracePeriodSeconds'],
  'meta.v1.OwnerReference': ['controller', 'blockOwnerDeletion'],
  'meta.v1.Preconditions': ['uid', 'resourceVersion'],
};

/**
 * Fields whose proto name is not their JSON name: go-to-protobuf names a field after its Go struct
 * tag `protobuf:"...,name=..."`, which for these differs from the `json` tag
 * (`BoundObjectReference.UID` is `name=uID` but `json:"uid"`). The table holds JSON names, as the
 * decoder writes them; the OpenAPI check in `main` catches a new one ("property uid has no proto field").
 */
const jsonNames: Record<string, string> = {
  'authentication.v1.BoundObjectReference.uID': 'uid',
};

/** Messages the decoder maps to JSON by hand: their fields are kept, their closure is not walked further. */
const special = new Set([
  'meta.v1.Time',
  'meta.v1.MicroTime',
  'meta.v1.Duration',
  'meta.v1.FieldsV1',
  'intstr.IntOrString',
  'resource.Quantity',
  'runtime.RawExtension',
]);

/** Differences from the v1.27 OpenAPI definitions that upstream made on purpose since. */
const knownChanges = new Map([
  [
    'core.v1.PersistentVolumeClaimSpec.resources: k8s.io.api.core.v1.VolumeResourceRequirements, OpenAPI says ref:io.k8s.api.core.v1.ResourceRequirements',
    'the type was split out in v1.29, same JSON',
  ],
  ['core.v1.PodResourceClaim: OpenAPI property source has no proto field', 'replaced in v1.31'],
]);

const scalars = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float']);

interface ProtoField {
  number: number;
  name: string;
  type: string;
  repeated: boolean;
  mapKey?: string;
}

/** `k8s.io.api.core.v1.Pod` → `core.v1.Pod`; `k8s.io.apimachinery.pkg.apis.meta.v1.Time` → `meta.v1.Time`. */
function shortName(full: string): string {
  for (const prefix of ['k8s.io.api.', 'k8s.io.apimachinery.pkg.apis.', 'k8s.io.apimachinery.pkg.util.']) {
    if (full.startsWith(prefix)) return full.slice(prefix.length);
  }
  for (const prefix of ['k8s.io.apimachinery.pkg.api.', 'k8s.io.apimachinery.pkg.']) {
    if (full.startsWith(prefix)) return full.slice(prefix.length);
  }
  throw new Error(`no short name for ${full}`);
}

/** The OpenAPI definition name of a message (`core.v1.Pod` → `io.k8s.api.core.v1.Pod`). */
function openApiName(full: string): string {
  return full.replace(/^k8s\.io\./, 'io.k8s.');
}

/** Parses the messages of one proto2 file (no nested messages, enums or groups: generated.proto has none). */
function parseProto(text: string, into: Map<string, ProtoField[]>): void {
  const clean = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  const pkg = /\bpackage\s+([\w.]+)\s*;/.exec(clean)?.[1];
  if (!pkg) throw new Error('proto file without a package');
  const messageRe = /\bmessage\s+(\w+)\s*\{([^{}]*)\}/g;
  for (const m of clean.matchAll(messageRe)) {
    const [, name, body] = m;
    if (!name || body === undefined) continue;
    const fields: ProtoField[] = [];
    for (const statement of body.split(';')) {
      const s = statement.trim();
      if (s === '' || /^(reserved|option)\s/.test(s)) continue;
      const map = /^map\s*<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)/.exec(s);
      if (map) {
        const [, key, value, fieldName, number] = map;
        fields.push({
          number: Number(number),
          name: fieldName as string,
          type: resolve(value as string, pkg),
          repeated: false,
          mapKey: key as string,
        });
        continue;
      }
      const field = /^(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)/.exec(s);
      if (!field) throw new Error(`${pkg}.${name}: cannot parse "${s}"`);
      const [, label, type, fieldName, number] = field;
      fields.push({
        number: Number(number),
        name: fieldName as string,
        type: resolve(type as string, pkg),
        repeated: label === 'repeated',
      });
    }
    into.set(`${pkg}.${name}`, fields);
  }
}

/** Gives the fields of `jsonNames` their JSON names; a name that matches no field is an error. */
function renameToJson(protos: Map<string, ProtoField[]>): void {
  for (const [path, json] of Object.entries(jsonNames)) {
    const at = path.lastIndexOf('.');
    const message = [...protos.keys()].find((n) => shortName(n) === path.slice(0, at));
    const field = message ? protos.get(message)?.find((f) => f.name === path.slice(at + 1)) : undefined;
    if (!field) throw new Error(`jsonNames: ${path} is no field of the source files`);
    field.name = json;
  }
}

/** A field's type: a scalar as is, a message as its full name (relative names are in the file's package). */
function resolve(type: string, pkg: string): string {
  if (scalars.has(type)) return type;
  if (type.startsWith('.')) return type.slice(1);
  if (type.startsWith('k8s.io.')) return type;
  if (!/^[A-Z]\w*$/.test(type)) throw new Error(`unsupported type ${type} in ${pkg}`);
  return `${pkg}.${type}`;
}

/** The message every body is wrapped in (after the 4-byte magic `k8s\\0`). */
const envelope = 'k8s.io.apimachinery.pkg.runtime.Unknown';

/**
 * The root messages, by `apiVersion/kind`. A group's proto package is its first label:
 * `rbac.authorization.k8s.io` is `k8s.io.api.rbac`, `authorization.k8s.io` is
 * `k8s.io.api.authorization`, `authentication.k8s.io` is `k8s.io.api.authentication`.
 */
function roots(): Map<string, string> {
  const out = new Map<string, string>();
  const add = (group: string, version: string, kind: string) => {
    const pkg = group === '' ? 'core' : (group.split('.')[0] as string);
    out.set(
      `${group === '' ? version : `${group}/${version}`}/${kind}`,
      `k8s.io.api.${pkg}.${version}.${kind}`,
    );
  };
  for (const t of [...resourceTypes, ...reviewTypes]) add(t.group, t.version, t.kind);
  for (const k of Object.values(subresourceKinds)) add(k.group, k.version, k.kind);
  out.set('*/DeleteOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions');
  return out;
}

function main(): void {
  const root = process.argv[2];
  if (!root) throw new Error('usage: npx tsx shared/protobuf/generate.ts <proto-root>');
  const protos = new Map<string, ProtoField[]>();
  for (const source of sources) parseProto(readFileSync(join(root, source.file), 'utf8'), protos);
  renameToJson(protos);

  const kinds = roots();
  const reachable = new Set<string>();
  const walk = (name: string, from: string) => {
    if (reachable.has(name)) return;
    const fields = protos.get(name);
    if (!fields) throw new Error(`${from} refers to ${name}, which no source file defines`);
    reachable.add(name);
    if (special.has(shortName(name))) return;
    for (const f of fields) if (!scalars.has(f.type)) walk(f.type, `${name}.${f.name}`);
  };
  for (const [kind, name] of kinds) walk(name, kind);
  walk(envelope, 'the envelope');

  const defs = definitions();
  const warnings: string[] = [];
  const errors: string[] = [];
  const inlined: string[] = [];
  const inline = new Set<string>();
  const propertiesOf = (full: string): Set<string> | undefined => {
    const def = defs[openApiName(full)] as OpenApiSchema | undefined;
    const props = def?.properties;
    return props && typeof props === 'object' && !Array.isArray(props)
      ? new Set(Object.keys(props))
      : undefined;
  };
  for (const name of reachable) {
    if (special.has(shortName(name))) continue;
    const props = propertiesOf(name);
    const fields = protos.get(name) ?? [];
    if (!props) {
      if (fields.length > 0) warnings.push(`${shortName(name)}: no OpenAPI definition to check against`);
      continue;
    }
    const covered = new Set<string>();
    for (const f of fields) {
      if (props.has(f.name)) {
        covered.add(f.name);
        const problem = typeProblem(defs[openApiName(name)] as OpenApiSchema, f);
        const message = `${shortName(name)}.${f.name}: ${problem}`;
        if (problem && knownChanges.has(message)) warnings.push(`${message} (${knownChanges.get(message)})`);
        else if (problem) errors.push(message);
        continue;
      }
      const embedded =
        !scalars.has(f.type) && !f.repeated && !f.mapKey
          ? (propertiesOf(f.type) ?? new Set((protos.get(f.type) ?? []).map((x) => x.name)))
          : undefined;
      const shared = embedded ? [...embedded].filter((p) => props.has(p)).length : 0;
      if (embedded && shared > 0 && shared * 2 >= embedded.size) {
        inline.add(`${name}.${f.name}`);
        inlined.push(`${shortName(name)}.${f.name} (${shortName(f.type)})`);
        for (const p of embedded) covered.add(p);
        continue;
      }
      warnings.push(`${shortName(name)}.${f.name}: not in the v1.27 OpenAPI definition (newer field)`);
    }
    for (const p of props) {
      if (p === 'apiVersion' || p === 'kind' || covered.has(p)) continue;
      const problem = `${shortName(name)}: OpenAPI property ${p} has no proto field`;
      if (knownChanges.has(problem)) warnings.push(`${problem} (${knownChanges.get(problem)})`);
      else errors.push(problem);
    }
  }

  for (const [message, names] of Object.entries(presence)) {
    const fields = [...reachable].find((n) => shortName(n) === message);
    if (!fields) {
      errors.push(`presence: ${message} is not in the table`);
      continue;
    }
    for (const n of names) {
      const f = protos.get(fields)?.find((x) => x.name === n);
      if (!f) errors.push(`presence: ${message}.${n} is no field`);
      else if (f.repeated || f.mapKey) errors.push(`presence: ${message}.${n} is a list or map`);
    }
  }

  for (const w of warnings) console.warn(`warning: ${w}`);
  for (const i of inlined) console.warn(`inline: ${i}`);
  if (errors.length > 0) {
    for (const e of errors) console.error(`error: ${e}`);
    process.exit(1);
  }

  const lines: string[] = [];
  for (const name of [...reachable].sort((a, b) => shortName(a).localeCompare(shortName(b)))) {
    const short = shortName(name);
    const keep = new Set(presence[short] ?? []);
    const fields = (protos.get(name) ?? [])
      .slice()
      .sort((a, b) => a.number - b.number)
      .map((f) => {
        const type = scalars.has(f.type) ? f.type : shortName(f.type);
        if (f.mapKey && f.mapKey !== 'string') throw new Error(`${short}.${f.name}: map key ${f.mapKey}`);
        const suffix = f.mapKey ? '{}' : f.repeated ? '[]' : keep.has(f.name) ? '?' : '';
        const label = inline.has(`${name}.${f.name}`) ? '...' : f.name;
        return `${f.number} ${label} ${type}${suffix}`;
      });
    lines.push(`  '${short}': '${fields.join(';')}',`);
  }
  const kindLines = [...kinds].sort().map(([k, v]) => `  '${k}': '${shortName(v)}',`);
  const sourceLines = sources.map(
    (s) => `  { repo: '${s.repo}', path: '${s.path}', commit: '${s.commit}' },`,
  );
  const out = `// Generated by shared/protobuf/generate.ts from upstream Kubernetes generated.proto files (field
// numbers, names and types only). Do not edit; regenerate with
// \`npx tsx shared/protobuf/generate.ts <proto-root>\` (see that file).

/** The upstream files (repository, path, commit) this table was generated from. */
export const protobufSources = [
${sourceLines.join('\n')}
] as const;

/** The envelope every body is wrapped in, after the magic \`k8s\\0\`. */
export const protobufEnvelope = '${shortName(envelope)}';

/** The message each \`apiVersion/kind\` decodes with (\`*\` matches any apiVersion). */
export const protobufKinds: Readonly<Record<string, string>> = {
${kindLines.join('\n')}
};

/**
 * Each message's fields, \`;\`-separated, as \`<number> <json name> <type><suffix>\`: the type a scalar
 * (\`string\`, \`int32\`, ...) or a message of this table; the suffix \`[]\` for a list, \`{}\` for a map
 * with string keys, \`?\` for a Go pointer (its zero value is kept). The name \`...\` marks an embedded
 * Go struct whose fields are inlined into the parent's JSON.
 */
export const protobufMessages: Readonly<Record<string, string>> = {
${lines.join('\n')}
};
`;
  const target = fileURLToPath(new URL('./schema.generated.ts', import.meta.url));
  writeFileSync(target, out);
  execFileSync('npx', ['biome', 'format', '--write', target], { stdio: 'ignore' });
  console.log(`${reachable.size} messages, ${kinds.size} kinds, ${statSync(target).size} bytes: ${target}`);
}

/** Whether an OpenAPI property's type fits a proto field's (a transcription check). */
function typeProblem(def: OpenApiSchema, f: ProtoField): string | undefined {
  const props = def.properties as Record<string, OpenApiSchema>;
  const p = props[f.name];
  if (!p) return undefined;
  const describe = (s: OpenApiSchema): string => {
    if (typeof s.$ref === 'string') return `ref:${s.$ref.replace('#/definitions/', '')}`;
    return `${String(s.type)}${s.format ? `:${String(s.format)}` : ''}`;
  };
  const expectScalar = (type: string, s: OpenApiSchema): boolean => {
    const d = describe(s);
    if (!scalars.has(type)) return d === `ref:${openApiName(type)}`;
    switch (type) {
      case 'string':
        return d === 'string' || d.startsWith('string:');
      case 'bytes':
        return d === 'string:byte';
      case 'bool':
        return d === 'boolean';
      case 'int32':
        return d === 'integer:int32' || d === 'integer';
      case 'int64':
        return d === 'integer:int64' || d === 'integer';
      default:
        return d.startsWith('number') || d.startsWith('integer');
    }
  };
  if (f.mapKey) {
    const inner = p.additionalProperties as OpenApiSchema | undefined;
    if (p.type !== 'object' || !inner) return `map, OpenAPI says ${describe(p)}`;
    return expectScalar(f.type, inner) ? undefined : `map of ${f.type}, OpenAPI values ${describe(inner)}`;
  }
  if (f.repeated) {
    const items = p.items as OpenApiSchema | undefined;
    if (p.type !== 'array' || !items) return `list, OpenAPI says ${describe(p)}`;
    return expectScalar(f.type, items) ? undefined : `list of ${f.type}, OpenAPI items ${describe(items)}`;
  }
  return expectScalar(f.type, p) ? undefined : `${f.type}, OpenAPI says ${describe(p)}`;
}

main();
