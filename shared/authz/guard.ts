/**
 * The access checks of one API write, as ObjectService hooks: the caller must be allowed the verb
 * by the kind's policy (on the object before and after the change), may set admin-only fields only
 * to what they were, may reference only objects it can read (an invisible target looks absent),
 * and every committed change goes to the audit trail.
 */

import type { FieldErrors } from '../errors';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { Model } from '../model/define';
import { requireModel } from '../model/registry';
import type { PendingChange, WriteHooks } from '../objects/service';
import type { StoredObject } from '../store/store';
import { type AuditTrail, auditRecord } from './audit';
import type { Authorizer } from './authorizer';

/** 404 when the caller may not read the object (its existence is not revealed), else nothing. */
export async function requireReadable(authz: Authorizer, model: Model, obj: StoredObject): Promise<void> {
  if (!(await authz.can('read', model, obj))) throw new NotFoundError(`${model.kind} ${obj.id} not found`);
}

/** 404 when unreadable, 403 when readable but the verb is not allowed. */
export async function requireAllowed(
  authz: Authorizer,
  verb: 'update' | 'delete',
  model: Model,
  obj: StoredObject,
): Promise<void> {
  await requireReadable(authz, model, obj);
  if (!(await authz.can(verb, model, obj))) {
    throw new ForbiddenError(`you may not ${verb} this ${model.kind}: ${describeGrants(model, verb)}`);
  }
}

/** Who may, in words, for error messages. */
export function describeGrants(model: Model, verb: 'create' | 'update' | 'delete'): string {
  const grants = model.policy[verb];
  if (grants.length === 0) return 'only administrators may';
  const parts = grants.map((g) => {
    if ('anyone' in g) return 'anyone';
    if ('self' in g) return g.self === 'id' ? 'the user itself' : `the user named by ${g.self}`;
    if ('role' in g) return `role ${g.role.join('/')} on ${g.on === 'id' ? `the ${model.kind}` : g.on}`;
    return `whoever may ${g.as ?? 'update'} ${g.via}`;
  });
  return `needs ${parts.join(', or ')}`;
}

/** Field rules: non-administrators may not set or change admin-only fields. */
function adminFieldErrors(authz: Authorizer, model: Model, p: PendingChange): FieldErrors {
  const errors: FieldErrors = {};
  if (authz.caller.isAdmin) return errors;
  for (const name of model.policy.adminFields) {
    if (!(name in p.input)) continue;
    const field = model.allFields[name];
    const value = p.input[name] ?? null;
    const baseline = p.before ? (p.before[name] ?? null) : (field?.default ?? null);
    // Naming oneself as the creator is what the default does anyway.
    const self = !p.before && field?.type === 'ref' && field.target === 'User' && value === authz.caller.userId;
    if (JSON.stringify(value) !== JSON.stringify(baseline) && !self) {
      errors[name] = 'only administrators may set this field';
    }
  }
  return errors;
}

/** The write hooks of one API request. */
export function writeHooks(authz: Authorizer, model: Model, audit?: AuditTrail): WriteHooks {
  return {
    existing: (action, current) => requireAllowed(authz, action, model, current),
    async change(p) {
      const fieldErrors = adminFieldErrors(authz, model, p);
      if (Object.keys(fieldErrors).length > 0) {
        throw new ForbiddenError('only administrators may set these fields', fieldErrors);
      }
      if (!authz.caller.isAdmin) {
        const hidden: FieldErrors = {};
        for (const ref of p.setRefs) {
          const target = p.refs.get(ref.id);
          if (target && !(await authz.can('read', requireModel(ref.kind), target))) {
            hidden[ref.field] = `no ${ref.kind} with id ${ref.id}`;
          }
        }
        if (Object.keys(hidden).length > 0) throw new ValidationError('references must point at live objects', hidden);
      }
      if (!(await authz.can(p.action, model, p.after))) {
        throw new ForbiddenError(
          p.action === 'create'
            ? `you may not create this ${model.kind}: ${describeGrants(model, 'create')}`
            : `you may not move this ${model.kind} where you cannot update it`,
        );
      }
    },
    audit: audit
      ? (changes) => {
          const time = new Date().toISOString();
          return changes.map((c) => auditRecord(authz.caller, c.action, c.before, c.after, time));
        }
      : undefined,
    committed: audit ? (records) => audit.logged(records) : undefined,
  };
}
