/**
 * AWS IAM authentication with `aws eks get-token` tokens. There is no STS here, so `fetch` is replaced
 * by a stand-in that plays STS honestly: it recomputes the SigV4 signature of the URL it is given
 * from the known test credentials and the `x-k8s-aws-id` header it receives, and answers 403 unless
 * the signature matches, as STS does. Everything else is the real code.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { describe, expect, it, vi } from 'vitest';
import {
  type AwsIdentity,
  canonicalizeArn,
  type IamAccessConfig,
  iamAuthenticator,
  parseEksToken,
  parseIamAccessConfig,
  renderTemplate,
  type StsFetch,
  verifyEksToken,
} from '../../functions/apiserver/auth/aws-iam.js';
import { EKS_TOKEN_PREFIX, eksToken, NodeSha256 } from '../../shared/auth/eks-token.js';

const clusterName = 'lambernetes-test';
const region = 'eu-west-1';
const signedAt = new Date('2024-05-06T07:08:09Z');
const oneMinuteLater = new Date(signedAt.getTime() + 60_000);
const account = '111122223333';

interface Principal {
  credentials: AwsCredentialIdentity;
  identity: { Account: string; Arn: string; UserId: string };
}

const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const principals = {
  alice: {
    credentials: { accessKeyId: 'AKIAALICEEXAMPLE0001', secretAccessKey: `${secret}1` },
    identity: {
      Account: account,
      Arn: `arn:aws:iam::${account}:user/dev/alice`,
      UserId: 'AIDAALICEEXAMPLE0001',
    },
  },
  adminSession: {
    credentials: {
      accessKeyId: 'ASIAADMINEXAMPLE0002',
      secretAccessKey: `${secret}2`,
      sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//session+token=',
    },
    identity: {
      Account: account,
      Arn: `arn:aws:sts::${account}:assumed-role/Admins/alice@example.com`,
      UserId: 'AROAADMINSEXAMPLE002:alice@example.com',
    },
  },
  node: {
    credentials: {
      accessKeyId: 'ASIANODEEXAMPLE00003',
      secretAccessKey: `${secret}3`,
      sessionToken: 'nodeToken',
    },
    identity: {
      Account: account,
      Arn: `arn:aws:sts::${account}:assumed-role/NodeRole/i-0123456789abcdef0`,
      UserId: 'AROANODEROLEEXAMPLE3:i-0123456789abcdef0',
    },
  },
  stranger: {
    credentials: { accessKeyId: 'AKIASTRANGEREXAMPLE4', secretAccessKey: `${secret}4` },
    identity: {
      Account: '444455556666',
      Arn: 'arn:aws:iam::444455556666:user/mallory',
      UserId: 'AIDAMALLORYEXAMPLE04',
    },
  },
} satisfies Record<string, Principal>;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** STS as it behaves: signature recomputed from the request, 403 unless it matches. */
function fakeSts(now: () => Date = () => oneMinuteLater) {
  const byAccessKey = new Map<string, Principal>(
    Object.values(principals).map((p) => [p.credentials.accessKeyId, p] as const),
  );
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const denied = () => json(403, { Error: { Code: 'SignatureDoesNotMatch' } });
  const fetch: StsFetch = async (url, init) => {
    calls.push({ url, headers: init.headers });
    const target = new URL(url);
    const q = target.searchParams;
    const [accessKeyId = '', , scopeRegion = '', service = ''] = (q.get('X-Amz-Credential') ?? '').split('/');
    const principal = byAccessKey.get(accessKeyId);
    if (!principal || (q.get('X-Amz-Security-Token') ?? undefined) !== principal.credentials.sessionToken) {
      return denied();
    }
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    if (!date) return denied();
    const signingDate = new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`);
    if (now().getTime() > signingDate.getTime() + 15 * 60_000) return denied();
    const headers: Record<string, string> = {};
    for (const name of (q.get('X-Amz-SignedHeaders') ?? '').split(';')) {
      const value = name === 'host' ? target.host : init.headers[name];
      if (value === undefined) return denied();
      headers[name] = value;
    }
    const query = Object.fromEntries([...q].filter(([name]) => !name.startsWith('X-Amz-')));
    const signer = new SignatureV4({
      service,
      region: scopeRegion,
      credentials: principal.credentials,
      sha256: NodeSha256,
    });
    const expected = await signer.presign(
      { method: 'GET', protocol: 'https:', hostname: target.hostname, path: target.pathname, query, headers },
      { signingDate, expiresIn: Number(q.get('X-Amz-Expires')) },
    );
    const presented = [...q].filter(([name]) => name.startsWith('X-Amz-'));
    const expectedAmz = Object.entries(expected.query ?? {}).filter(([name]) => name.startsWith('X-Amz-'));
    const same =
      presented.length === expectedAmz.length &&
      presented.every(([name, value]) => expected.query?.[name] === value);
    if (!same) return denied();
    return json(200, {
      GetCallerIdentityResponse: {
        GetCallerIdentityResult: principal.identity,
        ResponseMetadata: { RequestId: '01234567-89ab-cdef-0123-456789abcdef' },
      },
    });
  };
  return { fetch, calls };
}

const tokenFor = (principal: Principal, options: { cluster?: string; now?: Date; region?: string } = {}) =>
  eksToken({
    clusterName: options.cluster ?? clusterName,
    region: options.region ?? region,
    credentials: principal.credentials,
    now: options.now ?? signedAt,
  });

const urlOf = (token: string) => Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString();
const tokenOf = (url: string) => EKS_TOKEN_PREFIX + Buffer.from(url).toString('base64url');

const access: IamAccessConfig = {
  roles: [
    {
      roleArn: `arn:aws:iam::${account}:role/platform/Admins`,
      username: 'admin:{{SessionName}}',
      groups: ['system:masters'],
    },
    {
      roleArn: `arn:aws:iam::${account}:role/NodeRole`,
      username: 'system:node:{{EC2PrivateDNSName}}',
      groups: ['system:bootstrappers', 'system:nodes'],
    },
  ],
  users: [{ userArn: `arn:aws:iam::${account}:user/dev/Alice`, username: 'alice', groups: ['developers'] }],
};

function authenticator(options: Partial<Parameters<typeof iamAuthenticator>[0]> = {}) {
  const sts = fakeSts();
  const logError = vi.fn<(message: string) => void>();
  const privateDnsName = vi.fn(async (instanceId: string) =>
    instanceId === 'i-0123456789abcdef0' ? 'ip-10-0-1-23.eu-west-1.compute.internal' : '',
  );
  const authenticate = iamAuthenticator({
    clusterName,
    access,
    fetch: sts.fetch,
    now: () => oneMinuteLater,
    privateDnsName,
    logError,
    ...options,
  });
  return { authenticate, sts, logError, privateDnsName };
}

describe('eksToken', () => {
  // Produced by the AWS CLI's own code (awscli.customizations.eks.get_token.TokenGenerator over
  // botocore's presigner) with these fake keys and the clock frozen at 2024-05-06T07:08:09Z.
  const awsCli = {
    credentials: {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
    euWest1Token:
      'k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lBSU9TRk9ETk43RVhBTVBMRSUyRjIwMjQwNTA2JTJGZXUtd2VzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDA1MDZUMDcwODA5WiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9MGQwYTcwMzI0MDg5MzE3N2ExOWZiODQ3ZTcxOTY2OGUyMDZiZjExZjE2YjBjMmM5MzUwMGQzOGJiMzViNGFjYg',
    cnNorth1Signature: '26b4ee4c9878335c604427a623a2146da23a936fa425acc652aa491322325250',
    usEast2SessionUrl:
      'https://sts.us-east-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20240506%2Fus-east-2%2Fsts%2Faws4_request&X-Amz-Date=20240506T070809Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE%2F%2Fsession%2Btoken%3D&X-Amz-Signature=6b023e91fdd6b3241c2adda7a4909ed5801b8efc529ae71ec5e316be123f185a',
  };

  it('mints the same token as aws eks get-token', async () => {
    const token = await eksToken({
      clusterName: 'my-cluster',
      region,
      credentials: awsCli.credentials,
      now: signedAt,
    });
    expect(token).toBe(awsCli.euWest1Token);
  });

  it('signs with temporary credentials and in the China partition as the AWS CLI does', async () => {
    const session = { ...awsCli.credentials, accessKeyId: 'ASIAIOSFODNN7EXAMPLE' };
    const withToken = await eksToken({
      clusterName: 'my-cluster',
      region: 'us-east-2',
      credentials: { ...session, sessionToken: 'FQoGZXIvYXdzEXAMPLE//session+token=' },
      now: signedAt,
    });
    expect(urlOf(withToken)).toBe(awsCli.usEast2SessionUrl);
    const china = new URL(
      urlOf(
        await eksToken({
          clusterName: 'my-cluster',
          region: 'cn-north-1',
          credentials: awsCli.credentials,
          now: signedAt,
        }),
      ),
    );
    expect(china.hostname).toBe('sts.cn-north-1.amazonaws.com.cn');
    expect(china.searchParams.get('X-Amz-Signature')).toBe(awsCli.cnNorth1Signature);
  });

  it('accepts a credential provider', async () => {
    const token = await eksToken({
      clusterName: 'my-cluster',
      region,
      credentials: async () => awsCli.credentials,
      now: signedAt,
    });
    expect(token).toBe(awsCli.euWest1Token);
  });
});

describe('parseEksToken', () => {
  it('returns the STS URL of a fresh token', async () => {
    const url = parseEksToken(await tokenFor(principals.alice), { now: oneMinuteLater });
    expect(url).toBeInstanceOf(URL);
    expect((url as URL).hostname).toBe('sts.eu-west-1.amazonaws.com');
    expect((url as URL).searchParams.get('Action')).toBe('GetCallerIdentity');
  });

  it.each([
    'sts.amazonaws.com',
    'sts.us-east-1.amazonaws.com',
    'sts.us-gov-west-1.amazonaws.com',
    'sts-fips.us-east-2.amazonaws.com',
    'sts.cn-northwest-1.amazonaws.com.cn',
  ])('accepts STS host %s', async (host) => {
    const url = urlOf(await tokenFor(principals.alice)).replace('sts.eu-west-1.amazonaws.com', host);
    expect(parseEksToken(tokenOf(url), { now: oneMinuteLater })).toBeInstanceOf(URL);
  });

  const hostileHosts = [
    'sts.amazonaws.com.evil.example',
    'sts.eu-west-1.amazonaws.com.evil.example',
    'evil.example',
    'sts.amazonaws.com:443',
    'sts.eu-west-1.amazonaws.com:8443',
    'user@sts.eu-west-1.amazonaws.com',
    'evil.example@sts.amazonaws.com',
    'sts.amazonaws.com.',
    'STS.amazonaws.com',
    'sts.eu-west-1.amazonaws.com.cn',
    'sts.cn-north-1.amazonaws.com',
    'sts-fips.cn-north-1.amazonaws.com.cn',
    'xsts.amazonaws.com',
    'sts.eu-west-1.amazonaws.comx',
    'sts.eu-west-1.evilamazonaws.com',
    '[::1]',
    '127.0.0.1',
  ];
  it.each(hostileHosts)('rejects host %s', async (host) => {
    const url = urlOf(await tokenFor(principals.alice)).replace('sts.eu-west-1.amazonaws.com', host);
    expect(parseEksToken(tokenOf(url), { now: oneMinuteLater })).toEqual({ error: expect.any(String) });
  });

  const tampered: [string, (url: string) => string][] = [
    ['plain http', (u) => u.replace('https://', 'http://')],
    ['another scheme', (u) => u.replace('https://', 'ftp://')],
    ['a path', (u) => u.replace('.com/?', '.com/v1/?')],
    ['a double slash path', (u) => u.replace('.com/?', '.com//?')],
    ['no path', (u) => u.replace('.com/?', '.com?')],
    ['a fragment', (u) => `${u}#x`],
    ['a space', (u) => u.replace('&Version', ' &Version')],
    ['another action', (u) => u.replace('Action=GetCallerIdentity', 'Action=AssumeRole')],
    ['no action', (u) => u.replace('Action=GetCallerIdentity&', '')],
    ['another version', (u) => u.replace('Version=2011-06-15', 'Version=2011-06-16')],
    ['an unknown parameter', (u) => `${u}&RoleArn=x`],
    ['a repeated parameter', (u) => `${u}&Action=GetCallerIdentity`],
    ['a parameter repeated in another case', (u) => `${u}&action=GetCallerIdentity`],
    ['an empty parameter', (u) => u.replace('&Version', '&&Version')],
    ['bad percent-encoding', (u) => u.replace('%2F', '%zz')],
    ['x-k8s-aws-id not signed', (u) => u.replace('host%3Bx-k8s-aws-id', 'host')],
    ['no signed headers', (u) => u.replace(/&X-Amz-SignedHeaders=[^&]*/, '')],
    ['no X-Amz-Date', (u) => u.replace(/&X-Amz-Date=[^&]*/, '')],
    ['a malformed X-Amz-Date', (u) => u.replace(/X-Amz-Date=[^&]*/, 'X-Amz-Date=2024-05-06T07:08:09Z')],
    ['an impossible X-Amz-Date', (u) => u.replace(/X-Amz-Date=[^&]*/, 'X-Amz-Date=20240230T070809Z')],
    ['no X-Amz-Expires', (u) => u.replace(/&X-Amz-Expires=[^&]*/, '')],
    ['X-Amz-Expires above 15 minutes', (u) => u.replace('X-Amz-Expires=60', 'X-Amz-Expires=901')],
    ['a negative X-Amz-Expires', (u) => u.replace('X-Amz-Expires=60', 'X-Amz-Expires=-1')],
    ['no X-Amz-Credential', (u) => u.replace(/&X-Amz-Credential=[^&]*/, '')],
  ];
  it.each(tampered)('rejects a URL with %s', async (_, change) => {
    const url = urlOf(await tokenFor(principals.alice));
    const changed = change(url);
    expect(changed).not.toBe(url);
    expect(parseEksToken(tokenOf(changed), { now: oneMinuteLater })).toEqual({ error: expect.any(String) });
  });

  it('rejects tokens that are not base64url of a URL', async () => {
    const token = await tokenFor(principals.alice);
    const body = token.slice(EKS_TOKEN_PREFIX.length);
    for (const bad of [
      `k8s-aws-v2.${body}`,
      body,
      `${token}=`,
      `${token}==`,
      `${EKS_TOKEN_PREFIX}${body.slice(0, 10)}+/${body.slice(12)}`,
      `${EKS_TOKEN_PREFIX}${body.slice(0, 10)}$${body.slice(11)}`,
      `${token}A`,
      EKS_TOKEN_PREFIX,
      `${token}${'A'.repeat(4096)}`,
    ]) {
      expect(parseEksToken(bad, { now: oneMinuteLater }), bad.slice(0, 20)).toEqual({
        error: expect.any(String),
      });
    }
  });

  it('accepts a token for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says, and not a second more', async () => {
    const token = await tokenFor(principals.alice);
    const at = (ms: number) => ({ now: new Date(signedAt.getTime() + ms) });
    expect(parseEksToken(token, at(61_000))).toBeInstanceOf(URL);
    expect(parseEksToken(token, at(15 * 60_000))).toBeInstanceOf(URL);
    expect(parseEksToken(token, at(15 * 60_000 + 1_000))).toEqual({ error: 'token has expired' });
  });

  it('never quotes the token in its reasons', async () => {
    const url = urlOf(await tokenFor(principals.adminSession));
    const signature = new URL(url).searchParams.get('X-Amz-Signature') ?? '';
    for (const [, change] of tampered) {
      const result = parseEksToken(tokenOf(change(url)), { now: oneMinuteLater });
      expect(JSON.stringify(result)).not.toContain(signature);
      expect(JSON.stringify(result)).not.toContain('session');
    }
  });
});

describe('canonicalizeArn', () => {
  it.each([
    [`arn:aws:iam::${account}:user/Alice`, `arn:aws:iam::${account}:user/Alice`],
    [`arn:aws:iam::${account}:user/dev/Alice`, `arn:aws:iam::${account}:user/dev/Alice`],
    [`arn:aws:iam::${account}:role/Users`, `arn:aws:iam::${account}:role/Users`],
    [`arn:aws:iam::${account}:root`, `arn:aws:iam::${account}:root`],
    [`arn:aws:sts::${account}:assumed-role/Admin/Session`, `arn:aws:iam::${account}:role/Admin`],
    [`arn:aws:sts::${account}:assumed-role/Admin/alice@example.com`, `arn:aws:iam::${account}:role/Admin`],
    [
      `arn:aws:sts::${account}:assumed-role/NodeRole/i-0123456789abcdef0`,
      `arn:aws:iam::${account}:role/NodeRole`,
    ],
    [`arn:aws-cn:sts::${account}:assumed-role/Admin/Session`, `arn:aws-cn:iam::${account}:role/Admin`],
    [
      `arn:aws-us-gov:sts::${account}:assumed-role/Admin/Session`,
      `arn:aws-us-gov:iam::${account}:role/Admin`,
    ],
    [`arn:aws:sts::${account}:federated-user/Bob`, `arn:aws:sts::${account}:federated-user/Bob`],
  ])('%s → %s', (arn, canonical) => {
    expect(canonicalizeArn(arn)).toBe(canonical);
  });

  it.each([
    'NOT AN ARN',
    '',
    `arn:aws:sts::${account}:assumed-role/Admin`,
    `arn:aws:sts::${account}:assumed-role//Session`,
    `arn:aws:sts::${account}:something/Admin/Session`,
    `arn:aws:iam::${account}:group/Admins`,
    `arn:aws:s3:::${account}:bucket`,
    `arn:aws:ec2:eu-west-1:${account}:instance/i-0123456789abcdef0`,
    `arn:evil:iam::${account}:user/Alice`,
    `arn:aws:iam::12345:user/Alice`,
    `urn:aws:iam::${account}:user/Alice`,
  ])('rejects %s', (arn) => {
    expect(canonicalizeArn(arn)).toBeUndefined();
  });
});

describe('verifyEksToken', () => {
  it('returns the identity STS vouches for', async () => {
    const sts = fakeSts();
    const identity = await verifyEksToken(await tokenFor(principals.adminSession), {
      clusterName,
      fetch: sts.fetch,
      now: oneMinuteLater,
    });
    expect(identity).toEqual<AwsIdentity>({
      arn: `arn:aws:sts::${account}:assumed-role/Admins/alice@example.com`,
      canonicalArn: `arn:aws:iam::${account}:role/Admins`,
      accountId: account,
      userId: 'AROAADMINSEXAMPLE002',
      sessionName: 'alice@example.com',
      accessKeyId: 'ASIAADMINEXAMPLE0002',
    });
    expect(sts.calls).toHaveLength(1);
    expect(sts.calls[0]?.headers).toEqual({ 'x-k8s-aws-id': clusterName, accept: 'application/json' });
  });

  it('has no session name for an IAM user', async () => {
    const identity = await verifyEksToken(await tokenFor(principals.alice), {
      clusterName,
      fetch: fakeSts().fetch,
      now: oneMinuteLater,
    });
    expect(identity).toMatchObject({ userId: 'AIDAALICEEXAMPLE0001', accessKeyId: 'AKIAALICEEXAMPLE0001' });
    expect(identity).not.toHaveProperty('sessionName');
  });

  it('rejects a token whose query was changed anywhere', async () => {
    const sts = fakeSts();
    const url = urlOf(await tokenFor(principals.adminSession));
    const queryStart = url.indexOf('?') + 1;
    const accepted: string[] = [];
    for (let i = queryStart; i < url.length; i++) {
      const replacement = /x/i.test(url.charAt(i)) ? 'y' : 'x';
      const changed = url.slice(0, i) + replacement + url.slice(i + 1);
      const identity = await verifyEksToken(tokenOf(changed), {
        clusterName,
        fetch: sts.fetch,
        now: oneMinuteLater,
      });
      if (identity) accepted.push(changed);
    }
    expect(accepted).toEqual([]);
    // The stand-in is not rejecting everything: the untouched token still passes.
    expect(
      await verifyEksToken(tokenOf(url), { clusterName, fetch: sts.fetch, now: oneMinuteLater }),
    ).toBeDefined();
  });
});

describe('iamAuthenticator', () => {
  it('maps an assumed role to its user and groups', async () => {
    const { authenticate } = authenticator();
    expect(await authenticate(await tokenFor(principals.adminSession))).toEqual({
      name: 'admin:alice-example.com',
      uid: `aws-iam-authenticator:${account}:AROAADMINSEXAMPLE002`,
      groups: ['system:masters', 'system:authenticated'],
      extra: {
        arn: [`arn:aws:sts::${account}:assumed-role/Admins/alice@example.com`],
        canonicalArn: [`arn:aws:iam::${account}:role/Admins`],
        sessionName: ['alice@example.com'],
        accessKeyId: ['ASIAADMINEXAMPLE0002'],
      },
    });
  });

  it('maps an IAM user, ignoring the case of the configured ARN', async () => {
    const { authenticate } = authenticator();
    expect(await authenticate(await tokenFor(principals.alice))).toMatchObject({
      name: 'alice',
      uid: `aws-iam-authenticator:${account}:AIDAALICEEXAMPLE0001`,
      groups: ['developers', 'system:authenticated'],
      extra: { arn: [`arn:aws:iam::${account}:user/dev/alice`], sessionName: [''] },
    });
  });

  it("names a node after its EC2 instance's private DNS name", async () => {
    const { authenticate, privateDnsName } = authenticator();
    expect(await authenticate(await tokenFor(principals.node))).toMatchObject({
      name: 'system:node:ip-10-0-1-23.eu-west-1.compute.internal',
      groups: ['system:bootstrappers', 'system:nodes', 'system:authenticated'],
      extra: { sessionName: ['i-0123456789abcdef0'] },
    });
    expect(privateDnsName).toHaveBeenCalledWith('i-0123456789abcdef0');
  });

  it('does not authenticate a node whose private DNS name cannot be found', async () => {
    const withoutResolver = authenticator({ privateDnsName: undefined });
    expect(await withoutResolver.authenticate(await tokenFor(principals.node))).toBeUndefined();
    expect(withoutResolver.logError).toHaveBeenCalledWith(expect.stringContaining('no EC2 resolver'));

    const failing = authenticator({
      privateDnsName: async () => {
        throw new Error('UnauthorizedOperation: ec2:DescribeInstances');
      },
    });
    expect(await failing.authenticate(await tokenFor(principals.node))).toBeUndefined();
    expect(failing.logError).toHaveBeenCalledWith(expect.stringContaining('UnauthorizedOperation'));

    const notAnInstance = authenticator({
      access: {
        roles: [{ roleArn: `arn:aws:iam::${account}:role/Admins`, username: '{{EC2PrivateDNSName}}' }],
      },
    });
    expect(await notAnInstance.authenticate(await tokenFor(principals.adminSession))).toBeUndefined();
    expect(notAnInstance.privateDnsName).not.toHaveBeenCalled();
  });

  it('does not authenticate an identity that is not mapped', async () => {
    const { authenticate, sts, logError } = authenticator();
    expect(await authenticate(await tokenFor(principals.stranger))).toBeUndefined();
    expect(sts.calls).toHaveLength(1);
    expect(logError).not.toHaveBeenCalled();
  });

  it('does not authenticate a token minted for another cluster (STS refuses the signature)', async () => {
    const { authenticate, sts, logError } = authenticator();
    expect(
      await authenticate(await tokenFor(principals.adminSession, { cluster: 'other-cluster' })),
    ).toBeUndefined();
    expect(sts.calls).toHaveLength(1);
    expect(sts.calls[0]?.headers['x-k8s-aws-id']).toBe(clusterName);
    expect(logError).not.toHaveBeenCalled();
  });

  it('does not authenticate an expired token, without asking STS', async () => {
    const { authenticate, sts } = authenticator();
    const stale = await tokenFor(principals.adminSession, {
      now: new Date(signedAt.getTime() - 16 * 60_000),
    });
    expect(await authenticate(stale)).toBeUndefined();
    expect(sts.calls).toHaveLength(0);
  });

  it('does not send a token for a look-alike host anywhere', async () => {
    const { authenticate, sts } = authenticator();
    const url = urlOf(await tokenFor(principals.adminSession));
    const evil = url.replace('sts.eu-west-1.amazonaws.com', 'sts.eu-west-1.amazonaws.com.evil.example');
    expect(await authenticate(tokenOf(evil))).toBeUndefined();
    expect(sts.calls).toHaveLength(0);
  });

  it('does not authenticate a token that does not sign x-k8s-aws-id, although STS would accept it', async () => {
    const { authenticate, sts } = authenticator();
    const host = 'sts.eu-west-1.amazonaws.com';
    const signer = new SignatureV4({
      service: 'sts',
      region,
      credentials: principals.adminSession.credentials,
      sha256: NodeSha256,
    });
    const presigned = await signer.presign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: host,
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host },
      },
      { expiresIn: 60, signingDate: signedAt },
    );
    const query = Object.entries(presigned.query ?? {})
      .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
      .join('&');
    const unbound = tokenOf(`https://${host}/?${query}`);
    // Proof that it is a genuine token: STS would answer for any cluster.
    const direct = await fakeSts().fetch(urlOf(unbound), {
      method: 'GET',
      headers: { 'x-k8s-aws-id': 'anything' },
      redirect: 'manual',
      signal: AbortSignal.timeout(1000),
    });
    expect(direct.status).toBe(200);
    expect(await authenticate(unbound)).toBeUndefined();
    expect(sts.calls).toHaveLength(0);
  });

  it('leaves other tokens to the next authenticator without a network call', async () => {
    const fetch = vi.fn<StsFetch>();
    const authenticate = iamAuthenticator({ clusterName, access, fetch, logError: () => {} });
    for (const token of ['', 'a-static-token', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'k8s-aws-v1']) {
      expect(await authenticate(token)).toBeUndefined();
    }
    expect(fetch).not.toHaveBeenCalled();
  });

  it('treats STS being unreachable as not authenticated and logs why without the token', async () => {
    const token = await tokenFor(principals.adminSession);
    const url = urlOf(token);
    const signature = new URL(url).searchParams.get('X-Amz-Signature') ?? '';
    const fetch: StsFetch = async (target) => {
      throw new TypeError('fetch failed', {
        cause: new Error(`connect ECONNREFUSED 203.0.113.7:443 while fetching ${target} (token ${token})`),
      });
    };
    const { authenticate, logError } = authenticator({ fetch });
    expect(await authenticate(token)).toBeUndefined();
    expect(logError).toHaveBeenCalledTimes(1);
    const [message] = logError.mock.calls[0] ?? [''];
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain('sts.eu-west-1.amazonaws.com');
    for (const secret of [token, token.slice(EKS_TOKEN_PREFIX.length), url, signature, 'session+token']) {
      expect(message).not.toContain(secret);
    }
    expect(message).not.toContain(encodeURIComponent('IQoJb3JpZ2luX2VjEXAMPLE//session+token='));
  });

  it('gives up on a slow STS', async () => {
    const fetch: StsFetch = (_, init) =>
      new Promise((_resolve, reject) =>
        init.signal.addEventListener('abort', () => reject(init.signal.reason)),
      );
    const { authenticate, logError } = authenticator({ fetch, timeoutMs: 20 });
    expect(await authenticate(await tokenFor(principals.adminSession))).toBeUndefined();
    expect(logError).toHaveBeenCalledWith(expect.stringContaining('TimeoutError'));
  });

  it('logs STS failures and nonsense answers, not its refusals', async () => {
    const answers = [
      json(500, { Error: { Code: 'InternalFailure' } }),
      json(302, {}),
      new Response('<GetCallerIdentityResponse/>', { status: 200 }),
      json(200, { GetCallerIdentityResponse: { GetCallerIdentityResult: { Account: account } } }),
      json(200, {
        GetCallerIdentityResponse: {
          GetCallerIdentityResult: { Account: account, Arn: `arn:aws:s3:::bucket`, UserId: 'AIDA' },
        },
      }),
    ];
    for (const answer of answers) {
      const { authenticate, logError } = authenticator({ fetch: async () => answer });
      expect(await authenticate(await tokenFor(principals.adminSession))).toBeUndefined();
      expect(logError).toHaveBeenCalledTimes(1);
    }
  });
});

describe('renderTemplate', () => {
  const identity: AwsIdentity = {
    arn: `arn:aws:sts::${account}:assumed-role/Dev/bob@example.com`,
    canonicalArn: `arn:aws:iam::${account}:role/Dev`,
    accountId: account,
    userId: 'AROADEV',
    sessionName: 'bob@example.com',
    accessKeyId: 'ASIADEV',
  };

  it.each([
    ['{{AccountID}}:{{SessionName}}', `${account}:bob-example.com`],
    ['{{SessionNameRaw}}', 'bob@example.com'],
    ['node:{{EC2PrivateDNSName}}', 'node:ip-10-0-0-1.ec2.internal'],
    ['key:{{AccessKeyID}}', 'key:ASIADEV'],
    ['plain', 'plain'],
  ])('%s → %s', (template, rendered) => {
    expect(renderTemplate(template, identity, 'ip-10-0-0-1.ec2.internal')).toBe(rendered);
  });

  it('never expands a value a second time', () => {
    const tricky = { ...identity, sessionName: '{{AccountID}}' };
    expect(renderTemplate('{{SessionNameRaw}}', tricky)).toBe('{{AccountID}}');
  });
});

describe('parseIamAccessConfig', () => {
  it('reads EKS-style role and user mappings', () => {
    const config = JSON.stringify(access);
    expect(parseIamAccessConfig(config)).toEqual(access);
    expect(parseIamAccessConfig('{}')).toEqual({});
  });

  it.each([
    ['not JSON', '{roles: []}', /not JSON/],
    ['not an object', '[]', /expected an object/],
    ['an unknown field', '{"mapRoles": []}', /unknown field mapRoles/],
    ['roles not a list', '{"roles": {}}', /roles: expected an array/],
    [
      'a user ARN as a role',
      `{"roles": [{"roleArn": "arn:aws:iam::${account}:user/alice", "username": "a"}]}`,
      /roles\[0\]\.roleArn: expected an IAM role ARN/,
    ],
    [
      'an assumed-role ARN as a role',
      `{"roles": [{"roleArn": "arn:aws:sts::${account}:assumed-role/Admin/x", "username": "a"}]}`,
      /roles\[0\]\.roleArn/,
    ],
    [
      'a role ARN as a user',
      `{"users": [{"userArn": "arn:aws:iam::${account}:role/Admin", "username": "a"}]}`,
      /users\[0\]\.userArn: expected an IAM user ARN/,
    ],
    ['no username', `{"users": [{"userArn": "arn:aws:iam::${account}:user/a"}]}`, /users\[0\]\.username/],
    [
      'an unknown placeholder',
      `{"users": [{"userArn": "arn:aws:iam::${account}:user/a", "username": "{{SesionName}}"}]}`,
      /unknown placeholder \{\{SesionName\}\}/,
    ],
    [
      'groups not a list',
      `{"users": [{"userArn": "arn:aws:iam::${account}:user/a", "username": "a", "groups": "system:masters"}]}`,
      /users\[0\]\.groups: expected an array/,
    ],
    [
      'an empty group',
      `{"users": [{"userArn": "arn:aws:iam::${account}:user/a", "username": "a", "groups": [""]}]}`,
      /users\[0\]\.groups\[0\]/,
    ],
    [
      'a misspelt field',
      `{"users": [{"userarn": "arn:aws:iam::${account}:user/a", "username": "a"}]}`,
      /unknown field userarn/,
    ],
    [
      'the same role twice (paths and case aside)',
      `{"roles": [{"roleArn": "arn:aws:iam::${account}:role/team/Admin", "username": "a"},
                  {"roleArn": "arn:aws:iam::${account}:role/admin", "username": "b"}]}`,
      /roles\[1\]\.roleArn: .* is already mapped by roles\[0\]/,
    ],
  ])('rejects %s', (_, json, message) => {
    expect(() => parseIamAccessConfig(json)).toThrow(message);
  });

  it('names every problem at once', () => {
    const json = `{"roles": [{"roleArn": "nope", "username": ""}], "users": [{"userArn": "nope", "username": "u"}]}`;
    expect(() => parseIamAccessConfig(json)).toThrow(
      /roles\[0\]\.roleArn[\s\S]*roles\[0\]\.username[\s\S]*users\[0\]\.userArn/,
    );
  });
});
