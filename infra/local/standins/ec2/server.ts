/**
 * The local EC2 stand-in: an in-process node:http server on 127.0.0.1 speaking the subset of the
 * EC2 query API the driver uses (form-encoded `Action=...`, XML answers and EC2's XML errors),
 * with asynchronous pending -> running. Knobs: latency, a rate of injected 503 `Unavailable`
 * errors, and a rate of timeouts (the action is performed, the answer never comes: what an
 * idempotent client must survive). `npm start` seeds a demo EC2 controller pointing at it; the
 * contract suite (test/drivers/ec2/) proves it answers like moto_server.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseForm } from './query';
import { DEFAULT_IMAGES, Ec2Fault, Ec2World, type SeedImage } from './world';
import { errorXml, responseXml } from './xml';

/** Knobs of the stand-in (all changeable at run time through `configure`). */
export interface Ec2StandInKnobs {
  /** Added to every answer, in ms. */
  latencyMs?: number;
  /** Probability (0..1) of a 503 `Unavailable` instead of performing the action. */
  errorRate?: number;
  /** Probability (0..1) that the action is performed but the answer is withheld until the client gives up. */
  timeoutRate?: number;
  /** How long a withheld answer hangs before the connection is dropped, in ms. */
  hangMs?: number;
  /** Time from launch to running (and from terminate to terminated), in ms. */
  settleMs?: number;
}

/** Options of startEc2StandIn. */
export interface Ec2StandInOptions extends Ec2StandInKnobs {
  /** Port to listen on (0: any free port). */
  port?: number;
  region?: string;
  /** The only credentials accepted (generated when omitted). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** AMIs present from the start. */
  images?: readonly SeedImage[];
  random?: () => number;
}

/** A running stand-in. */
export interface Ec2StandIn {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The simulated EC2 (for tests: counts, out-of-band changes). */
  readonly world: Ec2World;
  /** Requests per action, and injected faults. */
  readonly stats: { requests: Record<string, number>; errors: number; timeouts: number };
  configure(knobs: Ec2StandInKnobs): void;
  stop(): Promise<void>;
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start the stand-in on 127.0.0.1. */
export async function startEc2StandIn(options: Ec2StandInOptions = {}): Promise<Ec2StandIn> {
  const region = options.region ?? 'us-east-1';
  const accessKeyId = options.accessKeyId ?? `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = options.secretAccessKey ?? randomBytes(20).toString('base64');
  const random = options.random ?? Math.random;
  const knobs: Required<Ec2StandInKnobs> = {
    latencyMs: options.latencyMs ?? 0,
    errorRate: options.errorRate ?? 0,
    timeoutRate: options.timeoutRate ?? 0,
    hangMs: options.hangMs ?? 30_000,
    settleMs: options.settleMs ?? 1_000,
  };
  const world = new Ec2World(
    {
      region,
      get settleMs() {
        return knobs.settleMs;
      },
    },
    options.images ?? DEFAULT_IMAGES,
  );
  const stats = { requests: {} as Record<string, number>, errors: 0, timeouts: 0 };
  const hanging = new Map<NodeJS.Timeout, ServerResponse>();

  const send = (res: ServerResponse, status: number, xml: string) => {
    res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': 'stand-in' });
    res.end(xml);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomBytes(16).toString('hex');
    const params = parseForm(await readBody(req));
    const action = params.get('Action') ?? '';
    stats.requests[action] = (stats.requests[action] ?? 0) + 1;
    if (knobs.latencyMs > 0) await sleep(knobs.latencyMs);
    // SigV4 is not verified; the access key is, so a controller with the wrong secret fails as in EC2.
    const credential = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    if (credential !== accessKeyId) {
      send(
        res,
        401,
        errorXml('AuthFailure', 'AWS was not able to validate the provided access credentials', requestId),
      );
      return;
    }
    if (knobs.errorRate > 0 && random() < knobs.errorRate) {
      stats.errors++;
      send(res, 503, errorXml('Unavailable', 'The service is unavailable. Please try again shortly.', requestId));
      return;
    }
    let status = 200;
    let xml: string;
    try {
      xml = responseXml(action, world.perform(action, params), requestId);
    } catch (err) {
      const fault =
        err instanceof Ec2Fault ? err : new Ec2Fault('InternalError', 'An internal error has occurred', 500);
      status = fault.status;
      xml = errorXml(fault.code, fault.message, requestId);
    }
    if (knobs.timeoutRate > 0 && random() < knobs.timeoutRate) {
      stats.timeouts++;
      const timer = setTimeout(() => {
        hanging.delete(timer);
        res.destroy();
      }, knobs.hangMs);
      hanging.set(timer, res);
      return;
    }
    send(res, status, xml);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, errorXml('InternalError', 'An internal error has occurred', 'stand-in'));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    accessKeyId,
    secretAccessKey,
    world,
    stats,
    configure(next) {
      for (const [k, v] of Object.entries(next)) if (v !== undefined) (knobs as Record<string, number>)[k] = v;
    },
    async stop() {
      for (const [timer, res] of hanging) {
        clearTimeout(timer);
        res.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
