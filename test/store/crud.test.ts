import { randomBytes } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../shared/api/types.js';
import { maxObjectBytes } from '../../shared/store/body.js';
import type { Store } from '../../shared/store/store.js';
import { freshStore } from '../support/dynamo.js';
import { rejection } from '../support/errors.js';

function configMap(name: string, data: Record<string, string> = {}, namespace = 'default'): KubernetesObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, uid: `uid-${name}` }, data };
}

const key = (name: string, namespace = 'default') => ({ resource: 'configmaps', namespace, name });

describe('store CRUD', () => {
  let ctx: Awaited<ReturnType<typeof freshStore>>;
  let store: Store;
  beforeAll(async () => {
    ctx = await freshStore();
    store = ctx.store;
  });

  it('creates an object with an integer resourceVersion and gets it back', async () => {
    const created = await store.create(key('a'), configMap('a', { x: '1' }));
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(await store.get(key('a'))).toEqual(created);
  });

  it('rejects a second create of the same key with AlreadyExists and changes nothing', async () => {
    const first = await store.create(key('dup'), configMap('dup', { v: 'first' }));
    const error = await rejection(store.create(key('dup'), configMap('dup', { v: 'second' })));
    expect(error.code).toBe(409);
    expect(error.reason).toBe('AlreadyExists');
    expect(error.message).toBe('configmaps "dup" already exists');
    expect(await store.get(key('dup'))).toEqual(first);
  });

  it('answers NotFound for get, update and delete of a missing key', async () => {
    for (const attempt of [
      () => store.get(key('nope')),
      () => store.update(key('nope'), configMap('nope'), 1),
      () => store.delete(key('nope')),
    ]) {
      const error = await rejection(attempt());
      expect(error.code).toBe(404);
      expect(error.toStatus()).toMatchObject({
        reason: 'NotFound',
        details: { name: 'nope', kind: 'configmaps' },
      });
    }
  });

  it('updates only at the expected resourceVersion, else Conflict', async () => {
    const created = await store.create(key('cas'), configMap('cas', { n: '0' }));
    const rv = Number(created.metadata.resourceVersion);
    const updated = await store.update(key('cas'), configMap('cas', { n: '1' }), rv);
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(rv);
    const error = await rejection(store.update(key('cas'), configMap('cas', { n: 'stale' }), rv));
    expect(error.code).toBe(409);
    expect(error.reason).toBe('Conflict');
    expect(await store.get(key('cas'))).toEqual(updated);
  });

  it('refuses an expected resourceVersion that was never handed out', async () => {
    const created = await store.create(key('future'), configMap('future'));
    const error = await rejection(store.update(key('future'), configMap('future', { y: '1' }), 10 ** 9));
    expect(error.reason).toBe('Conflict');
    expect(await store.get(key('future'))).toEqual(created);
  });

  it('deletes with uid and resourceVersion preconditions, returning the last state at the deletion revision', async () => {
    const created = await store.create(key('del'), configMap('del'));
    const wrongUid = await rejection(store.delete(key('del'), { uid: 'other' }));
    expect(wrongUid.code).toBe(409);
    expect(wrongUid.message).toContain('Precondition failed: UID in precondition: other');
    const wrongRv = await rejection(store.delete(key('del'), { resourceVersion: '1' }));
    expect(wrongRv.message).toContain('Precondition failed: ResourceVersion in precondition: 1');
    const deleted = await store.delete(key('del'), {
      uid: 'uid-del',
      resourceVersion: created.metadata.resourceVersion as string,
    });
    expect(Number(deleted.metadata.resourceVersion)).toBeGreaterThan(
      Number(created.metadata.resourceVersion),
    );
    expect(deleted.data).toEqual(created.data);
    expect((await rejection(store.get(key('del')))).code).toBe(404);
  });

  it('keeps namespaces and resources apart', async () => {
    await store.create(key('same', 'ns1'), configMap('same', { ns: '1' }, 'ns1'));
    await store.create(key('same', 'ns2'), configMap('same', { ns: '2' }, 'ns2'));
    await store.create(
      { resource: 'secrets', namespace: 'ns1', name: 'same' },
      { ...configMap('same', {}, 'ns1'), kind: 'Secret' },
    );
    expect((await store.get(key('same', 'ns2'))).data).toEqual({ ns: '2' });
    expect((await store.list({ resource: 'configmaps', namespace: 'ns1' })).items.map((o) => o.data)).toEqual(
      [{ ns: '1' }],
    );
  });

  it('rejects keys it cannot store unambiguously, and objects whose metadata disagree with the key', async () => {
    expect((await rejection(store.get({ resource: 'configmaps', namespace: 'a/b', name: 'x' }))).code).toBe(
      400,
    );
    expect((await rejection(store.create(key('x\u0000y'), configMap('x\u0000y')))).code).toBe(400);
    expect((await rejection(store.create(key('one'), configMap('two')))).code).toBe(400);
  });

  it('round-trips a 1 MB object byte for byte, and shrinks and grows it without leaving chunks behind', async () => {
    const payload = randomBytes(768 * 1024).toString('base64'); // 1 MiB of incompressible text
    const created = await store.create(key('big'), configMap('big', { payload }));
    expect((await store.get(key('big'))).data).toEqual({ payload });
    const small = await store.update(
      key('big'),
      configMap('big', { payload: 'tiny' }),
      Number(created.metadata.resourceVersion),
    );
    expect((await store.get(key('big'))).data).toEqual({ payload: 'tiny' });
    const chunksLeft = async () =>
      (
        await ctx.table.doc.send(
          new QueryCommand({
            TableName: ctx.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :chunk)',
            ExpressionAttributeValues: { ':pk': 'o#configmaps', ':chunk': 'default/big\u0000' },
          }),
        )
      ).Items ?? [];
    expect(await chunksLeft()).toEqual([]);
    const grown = await store.update(
      key('big'),
      configMap('big', { payload }),
      Number(small.metadata.resourceVersion),
    );
    expect((await store.get(key('big'))).data).toEqual({ payload });
    expect((await chunksLeft()).length).toBeGreaterThan(0);
    const listed = await store.list({ resource: 'configmaps', namespace: 'default' });
    expect(listed.items.find((o) => o.metadata.name === 'big')).toEqual(grown);
    await store.delete(key('big'));
    expect(await chunksLeft()).toEqual([]);
  });

  it('rejects an object above 1.5 MiB with RequestEntityTooLarge and writes nothing', async () => {
    const before = await store.marks();
    const payload = 'x'.repeat(maxObjectBytes);
    const error = await rejection(store.create(key('huge'), configMap('huge', { payload })));
    expect(error.code).toBe(413);
    expect(error.reason).toBe('RequestEntityTooLarge');
    expect((await rejection(store.get(key('huge')))).code).toBe(404);
    // The revision it took is void, not a hole: the log settles at once.
    const settled = await store.currentRevision();
    expect(settled).toBeGreaterThan(before.revision);
  });
});
