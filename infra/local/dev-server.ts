/**
 * The local API Gateway: a node:http server that turns each request into an API Gateway HTTP API
 * (payload v2) event and calls the unchanged Lambda handler with it.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { localLambdaContext } from './lambda-context';

/** A Lambda-shaped HTTP handler. */
export type HttpLambda = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** A running dev server. */
export interface DevServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Requests bodies larger than this are cut off with 413 before reaching the handler. */
const MAX_RAW_BODY = 1024 * 1024;

/** Build the v2 event of a request. */
export function toEvent(req: IncomingMessage, body: Buffer, requestId: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // Null prototypes: "__proto__" or "toString" are ordinary parameter names here.
  const headers: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = Object.create(null);
  for (const [k, v] of url.searchParams) query[k] = Object.hasOwn(query, k) ? `${query[k]},${v}` : v;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: body.length > 0 ? body.toString('utf8') : undefined,
    isBase64Encoded: false,
  };
}

/** Serve `handler` on 127.0.0.1:`port` (0 picks a free port). */
export function startDevServer(handler: HttpLambda, port = 0, host = '127.0.0.1'): Promise<DevServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_RAW_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', async () => {
      const requestId = randomUUID();
      if (tooLarge) {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { code: 'payload_too_large', message: 'request body too large', request_id: requestId },
          }),
        );
        return;
      }
      try {
        const out = await handler(
          toEvent(req, Buffer.concat(chunks), requestId),
          localLambdaContext('xos-api-local', { requestId }),
        );
        res.writeHead(out.statusCode ?? 200, out.headers as Record<string, string>);
        res.end(out.body ?? '');
      } catch {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'internal_error', message: 'internal error', request_id: requestId } }),
        );
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const actual = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host}:${actual}`,
        port: actual,
        server,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
