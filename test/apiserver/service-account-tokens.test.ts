import { createHash, createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  issueToken,
  leewaySeconds,
  maxExpirationSeconds,
  type ObjectLookup,
  openIdConfiguration,
  publicJwks,
  type ServiceAccountKeys,
  serviceAccountAuthenticator,
  signingKeyFromSecret,
  type TokenBinding,
  validateExpirationSeconds,
  verifyToken,
} from '../../functions/apiserver/auth/service-account-tokens.js';

const secret = 'a-generated-password-of-forty-characters!';
const otherSecret = 'another-generated-password-of-forty-chars';
const issuer = 'https://kubernetes.default.svc.cluster.local';
const audiences = [issuer];
const t0 = new Date('2025-06-01T12:00:00Z');
const seconds = (n: number) => new Date(t0.getTime() + n * 1000);

const serviceAccount = { namespace: 'team-a', name: 'builder', uid: 'sa-uid-1' };
const pod = { name: 'builder-7d9f', uid: 'pod-uid-1' };
const node = { name: 'worker-1', uid: 'node-uid-1' };
const podBinding: TokenBinding = { serviceAccount, pod, node };

let keys: ServiceAccountKeys;
let otherKeys: ServiceAccountKeys;
beforeAll(async () => {
  [keys, otherKeys] = await Promise.all([signingKeyFromSecret(secret), signingKeyFromSecret(otherSecret)]);
});

const issue = (binding: TokenBinding = podBinding, expirationSeconds = 3600) =>
  issueToken(keys, { binding, audiences, expirationSeconds, issuer, now: t0 });
const verify = (token: string, now = seconds(10)) => verifyToken(keys, token, { issuer, audiences, now });

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (token: string) => token.split('.') as [string, string, string];

/** A token with our header and a payload of the test's choosing, signed with our real key. */
async function signedWithOurKey(payload: JWTPayload) {
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid: keys.kid }).sign(keys.privateKey);
}

/** The payload `issue` produces, to vary one claim at a time. */
async function issuedPayload(): Promise<JWTPayload> {
  return decodeJwt((await issue()).token);
}

describe('service account signing key', () => {
  it('is the same key with the same kid for the same secret, and another for another secret', async () => {
    const again = await signingKeyFromSecret(secret);
    expect(again.kid).toBe(keys.kid);
    expect(again.publicJwk).toEqual(keys.publicJwk);
    expect(otherKeys.kid).not.toBe(keys.kid);
    // A token signed by one container verifies in another that derived the key afresh.
    const { token } = await issue();
    expect(await verifyToken(again, token, { issuer, audiences, now: seconds(10) })).toBeDefined();
  });

  it('names the key as kube-apiserver does: base64url SHA-256 of the public key’s SPKI DER', () => {
    const spki = createPublicKey({ key: keys.publicJwk, format: 'jwk' }).export({
      type: 'spki',
      format: 'der',
    });
    expect(keys.kid).toBe(createHash('sha256').update(spki).digest('base64url'));
    expect(keys.publicJwk).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      alg: 'EdDSA',
      use: 'sig',
      kid: keys.kid,
    });
    expect(keys.publicJwk).not.toHaveProperty('d');
  });

  it('ignores whitespace around the secret (a trailing newline in the local file)', async () => {
    expect((await signingKeyFromSecret(`  ${secret}\n`)).kid).toBe(keys.kid);
  });

  it('refuses an empty or short secret', async () => {
    await expect(signingKeyFromSecret('')).rejects.toThrow(/empty/);
    await expect(signingKeyFromSecret('   \n')).rejects.toThrow(/empty/);
    await expect(signingKeyFromSecret('x'.repeat(31))).rejects.toThrow(/shorter than 32 characters/);
    await expect(signingKeyFromSecret('x'.repeat(32))).resolves.toBeDefined();
  });
});

describe('discovery documents', () => {
  it('let an external verifier check a token with the JWKS alone', async () => {
    const { token } = await issue();
    const jwks = JSON.parse(JSON.stringify(publicJwks(keys)));
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer,
      audience: issuer,
      currentDate: seconds(10),
    });
    expect(payload.sub).toBe('system:serviceaccount:team-a:builder');
    await expect(
      jwtVerify(token, createLocalJWKSet(publicJwks(otherKeys)), { currentDate: seconds(10) }),
    ).rejects.toThrow();
  });

  it('describe the issuer as kube-apiserver’s /.well-known/openid-configuration does', () => {
    expect(openIdConfiguration('https://oidc.example.com/cluster-1')).toEqual({
      issuer: 'https://oidc.example.com/cluster-1',
      jwks_uri: 'https://oidc.example.com/cluster-1/openid/v1/jwks',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['EdDSA'],
    });
  });
});

describe('issuing a token', () => {
  it('carries upstream’s claims and header', async () => {
    const { token, expirationTimestamp } = await issue(podBinding, 3600);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: keys.kid });
    const claims = decodeJwt(token);
    const iat = t0.getTime() / 1000;
    expect(claims).toEqual({
      iss: issuer,
      sub: 'system:serviceaccount:team-a:builder',
      aud: [issuer],
      iat,
      nbf: iat,
      exp: iat + 3600,
      jti: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      'kubernetes.io': {
        namespace: 'team-a',
        serviceaccount: { name: 'builder', uid: 'sa-uid-1' },
        pod: { name: 'builder-7d9f', uid: 'pod-uid-1' },
        node: { name: 'worker-1', uid: 'node-uid-1' },
      },
    });
    expect(expirationTimestamp).toBe('2025-06-01T13:00:00Z');
  });

  it('gives every token its own jti', async () => {
    const [a, b] = await Promise.all([issue(), issue()]);
    expect(decodeJwt(a.token).jti).not.toBe(decodeJwt(b.token).jti);
  });

  it('refuses a pod and a secret binding together, and no audience', async () => {
    const secretRef = { name: 's', uid: 'u' };
    await expect(issue({ serviceAccount, pod, secret: secretRef })).rejects.toThrow(/pod or a secret/);
    await expect(
      issueToken(keys, { binding: podBinding, audiences: [], expirationSeconds: 3600, issuer, now: t0 }),
    ).rejects.toThrow(/audience/);
  });
});

describe('expiration rules', () => {
  it('follow TokenRequest validation', () => {
    expect(validateExpirationSeconds(599)).toBe('may not specify a duration less than 10 minutes');
    expect(validateExpirationSeconds(0)).toBe('may not specify a duration less than 10 minutes');
    expect(validateExpirationSeconds(600)).toBeUndefined();
    expect(validateExpirationSeconds(2 ** 32)).toBeUndefined();
    expect(validateExpirationSeconds(2 ** 32 + 1)).toBe(
      'may not specify a duration larger than 2^32 seconds',
    );
    expect(validateExpirationSeconds(600.5)).toBe('must be a whole number of seconds');
    expect(validateExpirationSeconds(Number.NaN)).toBe('must be a whole number of seconds');
  });

  it('refuse to issue a token shorter than 10 minutes', async () => {
    await expect(issue(podBinding, 599)).rejects.toThrow(/less than 10 minutes/);
    const { token } = await issue(podBinding, 600);
    const { iat, exp } = decodeJwt(token);
    expect((exp as number) - (iat as number)).toBe(600);
  });

  it('shorten a longer request to the 48 hour maximum', async () => {
    expect(maxExpirationSeconds).toBe(48 * 3600);
    const { token, expirationTimestamp } = await issue(podBinding, 365 * 24 * 3600);
    const { iat, exp } = decodeJwt(token);
    expect((exp as number) - (iat as number)).toBe(maxExpirationSeconds);
    expect(expirationTimestamp).toBe('2025-06-03T12:00:00Z');
    expect(await verify(token, seconds(maxExpirationSeconds + leewaySeconds + 1))).toBeUndefined();
  });

  it('default to an hour', async () => {
    const { expirationTimestamp } = await issueToken(keys, {
      binding: podBinding,
      audiences,
      issuer,
      now: t0,
    });
    expect(expirationTimestamp).toBe('2025-06-01T13:00:00Z');
  });
});

describe('verifying a token', () => {
  it('gives back the binding, the jti and the accepted audiences', async () => {
    const { token } = await issue();
    expect(await verify(token)).toEqual({
      binding: podBinding,
      jti: decodeJwt(token).jti,
      audiences: [issuer],
      expiresAt: seconds(3600),
    });
  });

  it('round-trips any binding', async () => {
    const ref = fc.record({ name: fc.string({ minLength: 1 }), uid: fc.uuid() });
    const binding = fc.record(
      {
        serviceAccount: fc.record({
          namespace: fc.string({ minLength: 1 }),
          name: fc.string({ minLength: 1 }),
          uid: fc.uuid(),
        }),
        pod: ref,
        node: ref,
      },
      { requiredKeys: ['serviceAccount'] },
    );
    await fc.assert(
      fc.asyncProperty(binding, async (b) => {
        const { token } = await issue(b);
        expect((await verify(token))?.binding).toEqual(b);
      }),
      { numRuns: 25 },
    );
  });

  it('rejects what is not a JWT', async () => {
    for (const token of [
      '',
      'an-admin-bearer-token',
      'a.b.c',
      'a.b',
      '...',
      `${b64url({ alg: 'EdDSA' })}.e30.`,
    ]) {
      expect(await verify(token), token).toBeUndefined();
    }
  });

  it('rejects a tampered payload', async () => {
    const [header, payload, signature] = parts((await issue()).token);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims['kubernetes.io'].namespace = 'kube-system';
    claims.sub = 'system:serviceaccount:kube-system:builder';
    expect(await verify(`${header}.${b64url(claims)}.${signature}`)).toBeUndefined();
    // The untouched token still verifies: the rejection is the tampering's.
    expect(await verify(`${header}.${payload}.${signature}`)).toBeDefined();
  });

  it('rejects a token signed with another key, even under our kid', async () => {
    const other = await issueToken(otherKeys, { binding: podBinding, audiences, issuer, now: t0 });
    expect(await verify(other.token)).toBeUndefined();
    const forged = await new SignJWT(await issuedPayload())
      .setProtectedHeader({ alg: 'EdDSA', kid: keys.kid })
      .sign(otherKeys.privateKey);
    expect(await verify(forged)).toBeUndefined();
  });

  it('rejects alg none', async () => {
    const payload = await issuedPayload();
    for (const alg of ['none', 'None', 'NONE']) {
      expect(await verify(`${b64url({ alg, kid: keys.kid })}.${b64url(payload)}.`), alg).toBeUndefined();
    }
  });

  it('rejects HS256 signed with the public key as the HMAC secret', async () => {
    const payload = await issuedPayload();
    const publicKey = createPublicKey({ key: keys.publicJwk, format: 'jwk' });
    const candidates = [
      Buffer.from(keys.publicJwk.x as string, 'base64url'),
      publicKey.export({ type: 'spki', format: 'der' }),
      Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }) as string),
      Buffer.from(JSON.stringify(keys.publicJwk)),
    ];
    for (const hmacSecret of candidates) {
      const token = await new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256', kid: keys.kid })
        .sign(hmacSecret);
      expect(await verify(token)).toBeUndefined();
    }
  });

  it(`rejects an expired token, with ${leewaySeconds} s of leeway for clock skew`, async () => {
    const { token } = await issue(podBinding, 3600);
    expect(await verify(token, seconds(3600 + leewaySeconds - 1))).toBeDefined();
    expect(await verify(token, seconds(3600 + leewaySeconds + 1))).toBeUndefined();
  });

  it(`rejects a token not yet valid, with ${leewaySeconds} s of leeway for clock skew`, async () => {
    const { token } = await issue();
    expect(await verify(token, seconds(-leewaySeconds + 1))).toBeDefined();
    expect(await verify(token, seconds(-leewaySeconds - 1))).toBeUndefined();
  });

  it('rejects a token for another audience, and accepts one with an audience in common', async () => {
    const { token } = await issueToken(keys, {
      binding: podBinding,
      audiences: ['vault', 'sts.amazonaws.com'],
      issuer,
      now: t0,
    });
    expect(await verify(token)).toBeUndefined();
    const accepted = await verifyToken(keys, token, {
      issuer,
      audiences: [issuer, 'vault'],
      now: seconds(10),
    });
    expect(accepted?.audiences).toEqual(['vault']);
    expect(await verifyToken(keys, token, { issuer, audiences: [], now: seconds(10) })).toBeUndefined();
  });

  it('rejects a token from another issuer', async () => {
    const { token } = await issueToken(keys, {
      binding: podBinding,
      audiences,
      issuer: 'https://other.example.com',
      now: t0,
    });
    expect(await verify(token)).toBeUndefined();
  });

  it('rejects missing or malformed kubernetes.io claims, a sub that does not match them, and no jti', async () => {
    const valid = await issuedPayload();
    const k8s = valid['kubernetes.io'] as Record<string, unknown>;
    const variants: [string, JWTPayload][] = [
      ['no kubernetes.io', { ...valid, 'kubernetes.io': undefined }],
      ['kubernetes.io a string', { ...valid, 'kubernetes.io': 'team-a' }],
      ['no namespace', { ...valid, 'kubernetes.io': { ...k8s, namespace: undefined } }],
      ['no serviceaccount', { ...valid, 'kubernetes.io': { ...k8s, serviceaccount: undefined } }],
      [
        'serviceaccount without uid',
        { ...valid, 'kubernetes.io': { ...k8s, serviceaccount: { name: 'builder' } } },
      ],
      ['pod uid a number', { ...valid, 'kubernetes.io': { ...k8s, pod: { name: 'p', uid: 7 } } }],
      ['node an array', { ...valid, 'kubernetes.io': { ...k8s, node: [] } }],
      ['pod and secret', { ...valid, 'kubernetes.io': { ...k8s, secret: { name: 's', uid: 'u' } } }],
      ['sub of another account', { ...valid, sub: 'system:serviceaccount:team-a:admin' }],
      ['sub a user', { ...valid, sub: 'admin' }],
      ['no jti', { ...valid, jti: undefined }],
      ['no exp', { ...valid, exp: undefined }],
      ['no nbf', { ...valid, nbf: undefined }],
    ];
    expect(await verify(await signedWithOurKey(valid))).toBeDefined();
    for (const [what, payload] of variants) {
      const clean = JSON.parse(JSON.stringify(payload));
      expect(await verify(await signedWithOurKey(clean)), what).toBeUndefined();
    }
  });
});

/** An in-memory store the authenticator looks objects up in, counting lookups. */
function memoryStore() {
  const objects = new Map<string, { metadata: { uid?: string; deletionTimestamp?: string } }>();
  const key = (resource: string, namespace: string, name: string) => `${resource}/${namespace}/${name}`;
  const store = {
    lookups: 0,
    put(resource: string, name: string, uid: string, deletionTimestamp?: string) {
      objects.set(key(resource, 'team-a', name), {
        metadata: { uid, ...(deletionTimestamp ? { deletionTimestamp } : {}) },
      });
    },
    delete(resource: string, name: string) {
      objects.delete(key(resource, 'team-a', name));
    },
    lookup: (async (resource, namespace, name) => {
      store.lookups++;
      return objects.get(key(resource, namespace, name));
    }) as ObjectLookup,
  };
  store.put('serviceaccounts', 'builder', 'sa-uid-1');
  store.put('pods', 'builder-7d9f', 'pod-uid-1');
  store.put('secrets', 'builder-token', 'secret-uid-1');
  return store;
}

describe('service account authenticator', () => {
  const at = (n: number) => () => seconds(n);
  const authenticator = (store: ReturnType<typeof memoryStore>, now = at(10)) =>
    serviceAccountAuthenticator({ keys, issuer, audiences, lookup: store.lookup, now });

  it('authenticates a pod-bound token as upstream’s service account user', async () => {
    const { token } = await issue();
    const user = await authenticator(memoryStore())(token);
    expect(user).toEqual({
      name: 'system:serviceaccount:team-a:builder',
      uid: 'sa-uid-1',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['builder-7d9f'],
        'authentication.kubernetes.io/pod-uid': ['pod-uid-1'],
        'authentication.kubernetes.io/node-name': ['worker-1'],
        'authentication.kubernetes.io/node-uid': ['node-uid-1'],
        'authentication.kubernetes.io/credential-id': [`JTI=${decodeJwt(token).jti}`],
      },
    });
  });

  it('gives an unbound token only its credential id as extra', async () => {
    const { token } = await issue({ serviceAccount });
    const user = await authenticator(memoryStore())(token);
    expect(user?.extra).toEqual({
      'authentication.kubernetes.io/credential-id': [`JTI=${decodeJwt(token).jti}`],
    });
  });

  it('passes over a token that is not ours without looking anything up', async () => {
    const store = memoryStore();
    const authenticate = authenticator(store);
    const foreign = await issueToken(keys, {
      binding: podBinding,
      audiences,
      issuer: 'https://other.example',
      now: t0,
    });
    const otherKey = await issueToken(otherKeys, { binding: podBinding, audiences, issuer, now: t0 });
    for (const token of ['an-admin-bearer-token', foreign.token, otherKey.token]) {
      expect(await authenticate(token)).toBeUndefined();
    }
    expect(store.lookups).toBe(0);
  });

  it('rejects a token whose service account was deleted', async () => {
    const { token } = await issue({ serviceAccount });
    const store = memoryStore();
    expect(await authenticator(store)(token)).toBeDefined();
    store.delete('serviceaccounts', 'builder');
    expect(await authenticator(store)(token)).toBeUndefined();
  });

  it('rejects a token whose service account was recreated with a new uid', async () => {
    const { token } = await issue({ serviceAccount });
    const store = memoryStore();
    store.put('serviceaccounts', 'builder', 'sa-uid-2');
    expect(await authenticator(store)(token)).toBeUndefined();
  });

  it('rejects a token whose pod was deleted or recreated', async () => {
    const { token } = await issue();
    const store = memoryStore();
    store.put('pods', 'builder-7d9f', 'pod-uid-2');
    expect(await authenticator(store)(token)).toBeUndefined();
    store.delete('pods', 'builder-7d9f');
    expect(await authenticator(store)(token)).toBeUndefined();
  });

  it('keeps a pod’s tokens through its grace period and rejects them once it is past', async () => {
    const { token } = await issue();
    const store = memoryStore();
    // Deleted at t0+10 s with a 30 s grace period: deletionTimestamp is t0+40 s.
    store.put('pods', 'builder-7d9f', 'pod-uid-1', seconds(40).toISOString());
    expect(await authenticator(store, at(20))(token)).toBeDefined();
    expect(await authenticator(store, at(40 + leewaySeconds - 1))(token)).toBeDefined();
    expect(await authenticator(store, at(40 + leewaySeconds + 1))(token)).toBeUndefined();
  });

  it('rejects a token bound to a secret that was deleted or recreated', async () => {
    const { token } = await issue({ serviceAccount, secret: { name: 'builder-token', uid: 'secret-uid-1' } });
    const store = memoryStore();
    expect(await authenticator(store)(token)).toBeDefined();
    store.put('secrets', 'builder-token', 'secret-uid-2');
    expect(await authenticator(store)(token)).toBeUndefined();
    store.delete('secrets', 'builder-token');
    expect(await authenticator(store)(token)).toBeUndefined();
  });

  it('rejects a service account deleted past the leeway, and an unreadable deletionTimestamp', async () => {
    const { token } = await issue({ serviceAccount });
    const store = memoryStore();
    store.put('serviceaccounts', 'builder', 'sa-uid-1', t0.toISOString());
    expect(await authenticator(store, at(leewaySeconds + 1))(token)).toBeUndefined();
    store.put('serviceaccounts', 'builder', 'sa-uid-1', 'not a time');
    expect(await authenticator(store)(token)).toBeUndefined();
  });

  it('lets a failing store throw rather than pass for an invalid token', async () => {
    const { token } = await issue();
    const authenticate = serviceAccountAuthenticator({
      keys,
      issuer,
      audiences,
      now: at(10),
      lookup: async () => {
        throw new Error('store unavailable');
      },
    });
    await expect(authenticate(token)).rejects.toThrow('store unavailable');
  });

  it('needs an audience to accept', () => {
    expect(() =>
      serviceAccountAuthenticator({ keys, issuer, audiences: [], lookup: memoryStore().lookup }),
    ).toThrow(/audience/);
  });
});
