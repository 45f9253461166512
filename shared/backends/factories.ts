/**
 * The back-end factories by Controller `backend_type`: the one table the AWS composition and the
 * local runtime hand to BackendRouter. Each driver module registers itself here with one line.
 */
import type { BackendFactory, ControllerResolver } from './router';

/** backend_type -> factory. */
export const BACKEND_FACTORIES: Readonly<Partial<Record<string, BackendFactory>>> = {};

/** Extra placement rules contributed by drivers (kind -> resolver). */
export const BACKEND_RESOLVERS: Readonly<Record<string, ControllerResolver>> = {};
