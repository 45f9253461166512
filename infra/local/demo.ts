/**
 * The demo back-ends of `npm start`: the three local stand-ins (OpenStack, EC2, ONOS) on loopback,
 * driven by the real drivers through the production BackendRouter, and a seeded demo deployment
 * per back-end so that a newcomer can create a slice and an instance and watch them become
 * enacted. The stand-ins keep their clouds in memory: after a restart the sweeper's drift check
 * finds the enacted objects missing and recreates them.
 */

import { BACKEND_FACTORIES, BACKEND_RESOLVERS } from '../../shared/adapters/backend-factories';
import type { Logger } from '../../shared/api/errors';
import { BackendRouter } from '../../shared/backends/router';
import type { Caller } from '../../shared/model/define';
import { requireModel } from '../../shared/model/registry';
import type { ObjectService } from '../../shared/objects/service';
import { ChainSecrets, MemorySecrets, type SecretsPort } from '../../shared/secrets/secrets';
import type { StoredObject } from '../../shared/store/store';
import { startEc2StandIn } from './standins/ec2/server';
import { startOnosStandIn } from './standins/onos/server';
import { startOpenStackStandIn } from './standins/openstack';

/** Name of the demo image: a Glance image on OpenStack, an AMI of that name on EC2. */
export const DEMO_IMAGE = 'xos-demo-image';
/** Name of the demo flavor (an OpenStack flavor name; EC2 maps it to an instance type). */
export const DEMO_FLAVOR = 'm1.small';

/** Knobs shared by the three stand-ins. */
export interface DemoOptions {
  /** Latency of every back-end call, in ms. */
  readonly latencyMs?: number;
  /** Probability (0..1) of an injected retryable error per call. */
  readonly errorRate?: number;
  /** BUILD -> ACTIVE / pending -> running, in ms. */
  readonly settleMs?: number;
  /** Secrets operators configured themselves (environment, encrypted file), consulted after the demo's. */
  readonly secrets?: SecretsPort;
  readonly log?: Logger;
}

/** The running demo back-ends. */
export interface DemoBackends {
  readonly router: BackendRouter;
  /** One line per back-end, for the start banner. */
  readonly endpoints: readonly string[];
  /** Create (or re-point, after a restart) the demo deployments, controllers and bindings. */
  seed(objects: ObjectService, caller: Caller, siteId: string): Promise<void>;
  stop(): Promise<void>;
}

/** Start the three stand-ins and the router that drives them. */
export async function startDemoBackends(options: DemoOptions = {}): Promise<DemoBackends> {
  const knobs = { latencyMs: options.latencyMs ?? 0, errorRate: options.errorRate ?? 0 };
  const settleMs = options.settleMs ?? 1000;
  const openstack = await startOpenStackStandIn({ ...knobs, buildMs: settleMs });
  const ec2 = await startEc2StandIn({
    ...knobs,
    settleMs,
    images: [{ id: 'ami-0de70de70de70de70', name: DEMO_IMAGE }],
  });
  const onos = await startOnosStandIn(knobs);
  const demoSecrets = new MemorySecrets();
  demoSecrets.set('demo/openstack', { username: openstack.adminUser, password: openstack.adminPassword });
  demoSecrets.set('demo/ec2', { access_key_id: ec2.accessKeyId, secret_access_key: ec2.secretAccessKey });
  demoSecrets.set('demo/onos', { username: onos.username, password: onos.password });
  const secrets = options.secrets ? new ChainSecrets([demoSecrets, options.secrets]) : demoSecrets;
  const router = new BackendRouter({
    factories: BACKEND_FACTORIES,
    resolvers: BACKEND_RESOLVERS,
    secrets,
    log: options.log,
  });
  const controllers: Record<string, Record<string, unknown>> = {
    openstack: {
      backend_type: 'openstack',
      auth_url: openstack.authUrl,
      admin_user: openstack.adminUser,
      admin_tenant: openstack.adminProject,
      domain: openstack.domain,
      region: openstack.region,
      credentials_ref: 'demo/openstack',
    },
    ec2: { backend_type: 'ec2', auth_url: ec2.endpoint, region: ec2.region, credentials_ref: 'demo/ec2' },
    onos: { backend_type: 'onos', auth_url: onos.url, credentials_ref: 'demo/onos' },
  };
  return {
    router,
    endpoints: [`OpenStack (Keystone ${openstack.authUrl})`, `EC2 (${ec2.endpoint})`, `ONOS (${onos.url})`],
    async seed(objects, caller, siteId) {
      for (const [type, fields] of Object.entries(controllers)) {
        const deployment = await upsert(objects, caller, 'Deployment', { name: `demo-${type}` }, {});
        const controller = await upsert(
          objects,
          caller,
          'Controller',
          { name: `demo-${type}` },
          { ...fields, deployment_id: deployment.id },
        );
        await upsert(
          objects,
          caller,
          'SiteDeployment',
          { site_id: siteId, deployment_id: deployment.id },
          { controller_id: controller.id },
        );
      }
      await upsert(objects, caller, 'Image', { name: DEMO_IMAGE }, { disk_format: 'qcow2', container_format: 'bare' });
      await upsert(objects, caller, 'Flavor', { name: DEMO_FLAVOR }, {});
    },
    async stop() {
      await Promise.allSettled([openstack.stop(), ec2.stop(), onos.stop()]);
    },
  };
}

/** Find an object by its identifying fields; create it, or patch the fields that differ. */
async function upsert(
  objects: ObjectService,
  caller: Caller,
  kind: string,
  key: Record<string, string>,
  fields: Record<string, unknown>,
): Promise<StoredObject> {
  const model = requireModel(kind);
  const [found] = (await objects.list(model, { ...key, limit: '1' })).items;
  if (!found) return objects.create(model, { ...key, ...fields }, caller);
  const changed = Object.fromEntries(Object.entries(fields).filter(([k, v]) => found[k] !== v));
  if (Object.keys(changed).length === 0) return found;
  return objects.update(model, found.id, 'patch', changed, found.version, caller);
}
