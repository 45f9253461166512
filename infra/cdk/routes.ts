/**
 * The HTTP API's routes, derived from the model registry: per kind its collection, its members and
 * the two member actions; plus the three routes outside the model. A route is `ANY` where the core
 * answers several methods, so a method the core does not serve gets the core's own 405, as locally.
 */
import { CORE_PREFIX } from '../../shared/api/app';
import { MODELS } from '../../shared/model/registry';

/** One API Gateway route. */
export interface ApiRoute {
  /** `ANY` or one HTTP method. */
  readonly method: 'ANY' | 'GET' | 'POST';
  readonly path: string;
  /** Whether the gateway's JWT authorizer guards it. */
  readonly authorized: boolean;
}

/** Every route of the API. */
export function apiRoutes(): ApiRoute[] {
  const routes: ApiRoute[] = [
    { method: 'GET', path: '/healthz', authorized: false },
    { method: 'GET', path: '/openapi.json', authorized: false },
  ];
  for (const model of MODELS) {
    const base = `${CORE_PREFIX}${model.plural}`;
    routes.push(
      { method: 'ANY', path: base, authorized: true },
      { method: 'ANY', path: `${base}/{id}`, authorized: true },
      { method: 'GET', path: `${base}/{id}/history`, authorized: true },
      { method: 'POST', path: `${base}/{id}/resync`, authorized: true },
    );
  }
  return routes;
}
