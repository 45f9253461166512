/**
 * The HTTP API's routes, derived from the model registry: per kind its collection, its members and
 * its member actions (`history`, `resync`, `audit`, and the kind-specific ones such as a
 * controller's `credentials`), plus the public health check and OpenAPI document. Routes are `ANY`
 * and actions one `{action}` route per kind, so the core (shared/api/app.ts) stays the one place
 * that knows which methods and actions exist: what it does not serve gets its own 404/405, as
 * locally. The local login, refresh and logout are not deployed: in AWS people sign in with Cognito.
 */
import { CORE_PREFIX } from '../../shared/api/app';
import { MODELS } from '../../shared/model/registry';

/** One API Gateway route. */
export interface ApiRoute {
  /** `ANY` or one HTTP method. */
  readonly method: 'ANY' | 'GET';
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
      { method: 'ANY', path: `${base}/{id}/{action}`, authorized: true },
    );
  }
  return routes;
}
