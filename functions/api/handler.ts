/**
 * The API Lambda: API Gateway HTTP API (payload v2) in, the runtime-neutral API core in the middle.
 * The local dev server calls this same handler with the same event shape.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { apiConfigFromEnv, type ComposedApi, composeApi } from '../../shared/adapters/compose';
import type { ApiRequest } from '../../shared/api/http';
import { observability, observed } from '../observability';

/** Translate an API Gateway v2 event into the core's request. */
export function toApiRequest(event: APIGatewayProxyEventV2, requestId: string): ApiRequest {
  // Null prototypes: a parameter named "__proto__" must arrive as a parameter (and be refused), not vanish.
  const headers: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  // Claims of a JWT the gateway's authorizer verified (AWS); a local event never carries them.
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer
    ?.jwt?.claims;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query,
    headers,
    body,
    requestId,
    ...(claims ? { jwtClaims: claims } : {}),
  };
}

/** Build the handler around a lazily composed API (composed once per container, at first use). */
export function makeHandler(compose: () => ComposedApi) {
  let composed: ComposedApi | undefined;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .handler(async (event, context) => {
      composed ??= compose();
      const res = await composed.api(toApiRequest(event, context.awsRequestId));
      return {
        statusCode: res.status,
        headers: { ...res.headers, 'x-request-id': context.awsRequestId },
        body: res.body,
      };
    })
    .onError(async (request) => {
      // The core never throws; this covers configuration failures at cold start, without details.
      console.error(
        JSON.stringify({ level: 'ERROR', message: 'handler failed', error: String(request.error?.message) }),
      );
      request.response = {
        statusCode: 500,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          error: { code: 'internal_error', message: 'internal error', request_id: request.context.awsRequestId },
        }),
      };
    });
}

const o = observability('xos-api');

/** The Lambda handler: configuration from the environment; a count of responses per status class. */
export const handler = observed(
  makeHandler(() => composeApi({ ...apiConfigFromEnv(), log: o.log })),
  o,
  (_event, response) => ({ [`Responses${Math.floor((response.statusCode ?? 500) / 100)}xx`]: 1 }),
);
