/**
 * Synchronizer conformance, ported from the original XOS's framework tests (test_scheduler.py,
 * test_services.py, test_controller_dependencies.py, test_payload.py, testservice/) and beyond,
 * through the whole local runtime: API -> DynamoDB Local stream -> dispatch -> the real ASL in
 * aws-local-stepfunctions -> step handlers -> stand-in back-end.
 */
import { DRIFT_MARKER, observeDrift } from '../../shared/sync/sweeper';
import { eventually, instanceBody, type SyncStack, seedTopology, startSyncStack } from '../helpers/sync-stack';

/** Time of an object's last history entry with `outcome`. */
async function when(s: SyncStack, plural: string, id: string, outcome: string): Promise<number> {
  const entry = (await s.history(plural, id)).find((e) => e.outcome === outcome);
  if (!entry) throw new Error(`${plural} ${id} has no ${outcome} entry`);
  return Date.parse(entry.time);
}

describe('create order, delete order, invariants', () => {
  let s: SyncStack;
  beforeAll(async () => {
    s = await startSyncStack({ standIn: { latencyMs: 30, settleMs: 150 } });
  });
  afterAll(async () => s.close());

  test('dependencies are enacted before what depends on them (Service -> ServiceInstance, Site -> Slice -> Instance -> Port, Image -> Instance)', async () => {
    const t = await seedTopology(s, 'order');
    const service = await s.create('services', { name: 'svc-order' });
    const si = await s.create('serviceinstances', { name: 'si-order', owner_id: service.id });
    const slice = await s.create('slices', { name: 'slice-order', site_id: t.site.id });
    await s.create('networks', { name: 'net-order', template_id: t.template.id, owner_id: slice.id });
    const instance = await s.create('instances', instanceBody(t, slice.id));
    await s.sync.settle();

    const [port] = await s.list('ports', `instance_id=${instance.id}`);
    expect(port).toMatchObject({ backend_code: 1, backend_status: 'OK' });
    expect(await s.get('instances', instance.id)).toMatchObject({ backend_code: 1, enacted_version: 1 });
    expect(await when(s, 'services', service.id, 'ok')).toBeLessThanOrEqual(
      await when(s, 'serviceinstances', si.id, 'ok'),
    );
    expect(await when(s, 'sites', t.site.id, 'ok')).toBeLessThanOrEqual(await when(s, 'slices', slice.id, 'ok'));
    expect(await when(s, 'slices', slice.id, 'ok')).toBeLessThanOrEqual(await when(s, 'instances', instance.id, 'ok'));
    expect(await when(s, 'images', t.image.id, 'ok')).toBeLessThanOrEqual(
      await when(s, 'instances', instance.id, 'ok'),
    );
    expect(await when(s, 'instances', instance.id, 'ok')).toBeLessThanOrEqual(await when(s, 'ports', port.id, 'ok'));
    // An instance created before its slice was enacted waited for it, and was restarted by it.
    const waits = (await s.history('serviceinstances', si.id)).filter((e) => e.outcome === 'waiting');
    for (const w of waits) expect(w.message).toBe(`waiting for Service ${service.id}`);
    for (const count of s.cloud.creates.values()) expect(count).toBe(1);
  });

  test('deletion removes dependents from the back-end first, purges, and the purged objects read 404', async () => {
    const t = await seedTopology(s, 'del');
    const slice = await s.create('slices', { name: 'slice-del', site_id: t.site.id });
    const network = await s.create('networks', { name: 'net-del', template_id: t.template.id, owner_id: slice.id });
    const instance = await s.create('instances', instanceBody(t, slice.id));
    await s.sync.settle();
    const [port] = await s.list('ports', `instance_id=${instance.id}`);
    const [cslice] = await s.list('controllerslices', `slice_id=${slice.id}`);
    const [cnet] = await s.list('controllernetworks', `network_id=${network.id}`);
    const resourcesBefore = s.cloud.resources.size;

    expect((await s.stack.request('DELETE', `/xosapi/v1/core/slices/${slice.id}`)).status).toBe(202);
    await s.sync.settle();

    for (const [plural, id] of [
      ['slices', slice.id],
      ['networks', network.id],
      ['instances', instance.id],
      ['ports', port.id],
      ['controllerslices', cslice.id],
      ['controllernetworks', cnet.id],
    ]) {
      expect((await s.stack.request('GET', `/xosapi/v1/core/${plural}/${id}`)).status).toBe(404);
    }
    const purged = (plural: string, id: string) => when(s, plural, id, 'deleted');
    expect(await purged('ports', port.id)).toBeLessThanOrEqual(await purged('instances', instance.id));
    expect(await purged('ports', port.id)).toBeLessThanOrEqual(await purged('networks', network.id));
    expect(await purged('controllernetworks', cnet.id)).toBeLessThanOrEqual(await purged('networks', network.id));
    expect(await purged('instances', instance.id)).toBeLessThanOrEqual(await purged('slices', slice.id));
    expect(await purged('networks', network.id)).toBeLessThanOrEqual(await purged('slices', slice.id));
    expect(await purged('controllerslices', cslice.id)).toBeLessThanOrEqual(await purged('slices', slice.id));
    // Placement records go after the deleted dependents of what they place (the registry's
    // `places`): the project after the slice's instance and network, the back-end network after its port.
    expect(await purged('instances', instance.id)).toBeLessThanOrEqual(await purged('controllerslices', cslice.id));
    expect(await purged('networks', network.id)).toBeLessThanOrEqual(await purged('controllerslices', cslice.id));
    expect(await purged('ports', port.id)).toBeLessThanOrEqual(await purged('controllernetworks', cnet.id));
    // Instance, port, controller slice and controller network are gone from the back-end.
    expect(s.cloud.resources.size).toBe(resourcesBefore - 4);
    // The site survives, still enacted.
    expect(await s.get('sites', t.site.id)).toMatchObject({ deleted: false, backend_code: 1 });
  });

  test('concurrent user writes during sync: enacted_version <= version throughout, converging to the last version', async () => {
    const t = await seedTopology(s, 'ver');
    const slice = await s.create('slices', { name: 'slice-ver', site_id: t.site.id });
    let version = 1;
    const seen: Array<[number, number | null]> = [];
    for (let i = 0; i < 6; i++) {
      const res = await s.stack.request('PATCH', `/xosapi/v1/core/slices/${slice.id}`, {
        body: { description: `d${i}`, version },
      });
      expect(res.status).toBe(200);
      version = res.body.version;
      const now = await s.get('slices', slice.id);
      seen.push([now.version, now.enacted_version]);
      await new Promise((r) => setTimeout(r, 15 * i));
    }
    await s.sync.settle();
    for (const [v, e] of seen) expect(e ?? 0).toBeLessThanOrEqual(v);
    const final = await s.get('slices', slice.id);
    expect(final).toMatchObject({ version: 7, enacted_version: 7, policed_version: 7, backend_code: 1 });
  });

  test('an old execution can never record over a newer version', async () => {
    const t = await seedTopology(s, 'old');
    const slice = await s.create('slices', { name: 'slice-old', site_id: t.site.id });
    await s.sync.settle();
    const v1 = await s.get('slices', slice.id);
    const res = await s.stack.request('PATCH', `/xosapi/v1/core/slices/${slice.id}`, {
      body: { description: 'x', version: 1 },
    });
    expect(res.status).toBe(200);
    // Replay the v1 record step after v2 exists, as a slow old execution would.
    const { record } = await import('../../shared/sync/steps');
    const out = await record(
      { kind: 'Slice', id: slice.id, version: 1, reason: 'stream', load: { action: 'sync', why: 'test' } },
      s.sync.ctx,
    );
    expect(out).toEqual({ recorded: 'superseded' });
    await s.sync.settle();
    const v2 = await s.get('slices', slice.id);
    expect(v1.enacted_version).toBe(1);
    expect(v2).toMatchObject({ version: 2, enacted_version: 2 });
  });

  test('a duplicate stream record (same object and version) starts nothing new', async () => {
    const t = await seedTopology(s, 'dup');
    const slice = await s.create('slices', { name: 'slice-dup', site_id: t.site.id });
    await s.sync.settle();
    const name = `Slice-${slice.id}-v1`;
    const input = { kind: 'Slice', id: slice.id, version: 1, reason: 'stream' as const };
    expect(await s.sync.workflows.start(name, input)).toBe('exists');
    expect(await s.sync.workflows.start(name, input)).toBe('exists');
    expect(s.sync.workflows.list().filter((e) => e.name === name)).toHaveLength(1);
  });
});

describe('failures, backoff, resync', () => {
  let s: SyncStack;
  beforeAll(async () => {
    // Backoff base 1 s, cap 4 s: long enough to observe "not due yet" on a loaded machine.
    s = await startSyncStack({
      standIn: { failKinds: { Instance: 'terminal' } },
      sync: { retryBaseMs: 1000, retryCapMs: 4000 },
    });
  });
  afterAll(async () => s.close());

  test('a terminal failure is recorded with the back-end message, propagates to dependents, is not retried, and resync retries it', async () => {
    const t = await seedTopology(s, 'fail');
    const slice = await s.create('slices', { name: 'slice-fail', site_id: t.site.id });
    await s.create('networks', { name: 'net-fail', template_id: t.template.id, owner_id: slice.id });
    const instance = await s.create('instances', instanceBody(t, slice.id));
    await s.sync.settle();
    const failed = await s.get('instances', instance.id);
    expect(failed).toMatchObject({ backend_code: 2, enacted_version: null });
    expect(failed.backend_status).toBe('stand-in: Instance rejected (quota exceeded)');
    expect(failed.backend_register).toMatchObject({ terminal: true, failures: 1, next_run: null });

    const [port] = await s.list('ports', `instance_id=${instance.id}`);
    expect(port.backend_code).toBe(2);
    expect(port.backend_status).toBe(
      `Failed due to error in Instance ${instance.id}: stand-in: Instance rejected (quota exceeded)`,
    );

    // Not retried by the sweeper.
    const before = (await s.history('instances', instance.id)).length;
    const swept = (await s.sync.sweep({ graceMs: 0 })).started;
    expect(swept.filter((n) => n.startsWith(`Instance-${instance.id}-`))).toHaveLength(0);
    await s.sync.settle();
    expect((await s.history('instances', instance.id)).length).toBe(before);

    // The operator fixes the back-end and asks for a resync.
    s.cloud.configure({ failKinds: {} });
    const resync = await s.stack.request('POST', `/xosapi/v1/core/instances/${instance.id}/resync`);
    expect(resync.status).toBe(202);
    await s.sync.settle();
    expect(await s.get('instances', instance.id)).toMatchObject({
      backend_code: 1,
      backend_status: 'OK',
      enacted_version: 1,
    });
    // The port was waiting on the instance and was restarted by its success.
    await eventually(async () =>
      expect(await s.get('ports', port.id)).toMatchObject({ backend_code: 1, backend_status: 'OK' }),
    );
    const outcomes = (await s.history('instances', instance.id)).map((e) => e.outcome);
    expect(outcomes).toEqual(expect.arrayContaining(['error', 'resync', 'ok']));
  });

  test('retryable failures back off exponentially with a cap, recorded as next_run and honoured by the sweeper', async () => {
    const t = await seedTopology(s, 'back');
    s.cloud.configure({ failKinds: { ControllerSlice: 'retryable' } });
    const slice = await s.create('slices', { name: 'slice-back', site_id: t.site.id });
    await s.sync.settle();
    const [cs] = await s.list('controllerslices', `slice_id=${slice.id}`);
    const delays: number[] = [];
    for (let failures = 1; failures <= 4; failures++) {
      const obj = await eventually(async () => {
        const o = await s.get('controllerslices', cs.id);
        expect(o.backend_register.failures).toBe(failures);
        return o;
      });
      expect(obj.backend_code).toBe(2);
      const reg = obj.backend_register;
      const delay = Date.parse(reg.next_run) - Date.parse(reg.last_failure);
      delays.push(delay);
      // Not due yet: the sweeper leaves it alone; once due, it restarts it. (On a busy machine the
      // first, short delay may be over before the test looks: then only the second half is checked.)
      const mine = (names: string[]) => names.filter((n) => n.startsWith(`ControllerSlice-${cs.id}-`));
      if (Date.parse(reg.next_run) - Date.now() > 250)
        expect(mine((await s.sync.sweep({ graceMs: 0 })).started)).toHaveLength(0);
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(reg.next_run) - Date.now()) + 20));
      expect(mine((await s.sync.sweep({ graceMs: 0 })).started)).toHaveLength(1);
      await s.sync.settle();
    }
    // base 1 s doubling, capped at 4 s, each within +-20 % jitter.
    const expected = [1000, 2000, 4000, 4000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual((expected[i] as number) * 0.8 - 5);
      expect(d).toBeLessThanOrEqual((expected[i] as number) * 1.2 + 5);
    });
    const status = (await s.get('controllerslices', cs.id)).backend_status as string;
    expect(status.split(' // ')).toHaveLength(2); // the last two errors, as XOS kept them
    s.cloud.configure({ failKinds: {} });
    await s.sync.sweep({ graceMs: 0 });
    await eventually(async () => {
      await s.sync.sweep({ graceMs: 0 });
      await s.sync.settle();
      expect(await s.get('controllerslices', cs.id)).toMatchObject({ backend_code: 1, enacted_version: 1 });
    });
  });
});

describe('lost events, crashes and drift', () => {
  let s: SyncStack;
  beforeAll(async () => {
    s = await startSyncStack({ standIn: { latencyMs: 40, settleMs: 200 } });
  });
  afterAll(async () => s.close());

  test('writes made while no synchronizer listens (lost stream events) are recovered by the sweep at start', async () => {
    const t = await seedTopology(s, 'lost');
    await s.sync.settle();
    await s.sync.stop();
    const slice = await s.create('slices', { name: 'slice-lost', site_id: t.site.id });
    await new Promise((r) => setTimeout(r, 300));
    expect((await s.get('slices', slice.id)).enacted_version).toBeNull();
    await s.restart();
    await s.sync.settle();
    await eventually(async () => {
      await s.sync.settle();
      expect(await s.get('slices', slice.id)).toMatchObject({ backend_code: 1, enacted_version: 1 });
      const [cs] = await s.list('controllerslices', `slice_id=${slice.id}`);
      expect(cs).toMatchObject({ backend_code: 1 });
    });
  });

  test('a crash mid-convergence followed by a restart converges with no duplicate back-end objects', async () => {
    const t = await seedTopology(s, 'crash');
    const slice = await s.create('slices', { name: 'slice-crash', site_id: t.site.id });
    await s.create('networks', { name: 'net-crash', template_id: t.template.id, owner_id: slice.id });
    const instances: Array<{ id: string }> = [];
    for (let i = 0; i < 6; i++) {
      instances.push(await s.create('instances', instanceBody(t, slice.id, { name: `crash-${i}` })));
    }
    await new Promise((r) => setTimeout(r, 400));
    s.sync.crash();
    await s.restart();
    // The crashed executions' leases run out (1.5 s here), then the sweeper restarts their objects,
    // as the runtime's sweeper timer does.
    await eventually(
      async () => {
        await s.sync.sweep({ graceMs: 0 });
        await s.sync.settle();
        for (const i of instances)
          expect(await s.get('instances', i.id)).toMatchObject({ backend_code: 1, enacted_version: 1 });
        const ports = await s.list(
          'ports',
          `network_id__isnull=false&instance_id__in=${instances.map((i) => i.id).join(',')}`,
        );
        expect(ports).toHaveLength(instances.length);
        for (const p of ports) expect(p.backend_code).toBe(1);
      },
      60_000,
      250,
    );
    for (const [name, count] of s.cloud.creates) expect([name, count]).toEqual([name, 1]);
  });

  test('a Check loop longer than the lease extends it: sweeps during it start no second execution', async () => {
    const t = await seedTopology(s, 'long');
    await s.sync.settle();
    const settleMs = s.cloud.options.settleMs;
    s.cloud.options = { ...s.cloud.options, settleMs: 3_000 }; // twice the lease (1.5 s here)
    try {
      const slice = await s.create('slices', { name: 'slice-long', site_id: t.site.id });
      const [cs] = await eventually(async () => {
        const found = await s.list('controllerslices', `slice_id=${slice.id}`);
        if (found.length !== 1) throw new Error('no ControllerSlice yet');
        return found;
      });
      // Sweep only once its execution holds the lease (before that, a sweep with no grace rightly
      // starts the object itself: that is not what is tested here).
      await eventually(async () => {
        if (!(await s.sync.ctx.store.get('ControllerSlice', cs.id))?.lease_owner) throw new Error('no lease yet');
      });
      const started: string[] = [];
      const deadline = Date.now() + 15_000;
      while ((await s.get('controllerslices', cs.id)).backend_code !== 1 && Date.now() < deadline) {
        started.push(...(await s.sync.sweep({ graceMs: 0 })).started);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(await s.get('controllerslices', cs.id)).toMatchObject({ backend_code: 1, enacted_version: 1 });
      expect(started.filter((name) => name.includes(cs.id))).toEqual([]);
      const oks = (await s.history('controllerslices', cs.id)).filter((h) => h.outcome === 'ok');
      expect(oks).toHaveLength(1);
    } finally {
      s.cloud.options = { ...s.cloud.options, settleMs };
    }
  });

  /** An enacted Instance whose back-end server is then deleted behind XOS's back. */
  async function enactedInstanceDeletedOutOfBand(tag: string): Promise<{ id: string }> {
    const t = await seedTopology(s, tag);
    const slice = await s.create('slices', { name: `slice-${tag}`, site_id: t.site.id });
    const instance = await s.create('instances', instanceBody(t, slice.id));
    await s.sync.settle();
    expect(s.cloud.deleteOutOfBand({ kind: 'Instance', id: instance.id })).toBe(true);
    return instance;
  }

  test('drift: a back-end object deleted out of band is found by the sweeper, shown, and repaired', async () => {
    const instance = await enactedInstanceDeletedOutOfBand('drift');
    let repaired = 0;
    for (let i = 0; i < 20 && repaired === 0; i++) repaired += (await s.sync.sweep({ drift: true })).repaired;
    expect(repaired).toBeGreaterThanOrEqual(1);
    await s.sync.settle();
    const entries = await s.history('instances', instance.id);
    expect(entries.find((e) => e.outcome === 'drift')?.message).toBe(
      `drift: Instance ${instance.id} is missing from the back-end; repairing`,
    );
    expect(await s.get('instances', instance.id)).toMatchObject({
      backend_code: 1,
      backend_status: 'OK',
      enacted_version: 1,
    });
    expect(s.cloud.resources.has(`xos-instance-${instance.id.toLowerCase()}`)).toBe(true);
  });

  test('drift observation resumes where the last sweep stopped, across cold starts (the position is in the table)', async () => {
    const instance = await enactedInstanceDeletedOutOfBand('round');
    // One object per sweep, each sweep with no memory of the last (a cold-started Lambda): the
    // round still reaches the Instance, after the placement kinds declared before it.
    let repaired = 0;
    let sweeps = 0;
    while (repaired === 0 && sweeps < 300) {
      repaired += await observeDrift(s.sync.ctx, 1);
      sweeps++;
    }
    expect(repaired).toBe(1);
    expect(sweeps).toBeGreaterThan(1);
    expect(JSON.parse((await s.sync.ctx.store.readMarker(DRIFT_MARKER)) ?? '{}').partition).toEqual(expect.any(String));
    await s.sync.settle();
    expect(await s.get('instances', instance.id)).toMatchObject({ backend_code: 1, enacted_version: 1 });
  });
});
