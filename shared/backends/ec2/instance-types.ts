/**
 * Flavor -> EC2 instance type. A Flavor has no back-end presence of its own on EC2 (instance types
 * are fixed by AWS); the Instance driver maps it when launching. `flavor` (else `name`) is used as
 * the instance type, except the classic OpenStack flavor names XOS deployments carry, which map
 * to current general-purpose types of the same size.
 */

/** OpenStack's default flavors and their EC2 counterparts. */
export const OPENSTACK_FLAVORS: Readonly<Record<string, string>> = {
  'm1.tiny': 't3.nano',
  'm1.small': 't3.small',
  'm1.medium': 't3.medium',
  'm1.large': 't3.large',
  'm1.xlarge': 't3.xlarge',
};

/** The instance type of a flavor. */
export function instanceTypeOf(flavor: Readonly<Record<string, unknown>> | undefined): string {
  const wanted =
    (typeof flavor?.flavor === 'string' && flavor.flavor) || (typeof flavor?.name === 'string' && flavor.name);
  if (!wanted) return 't3.micro';
  return OPENSTACK_FLAVORS[wanted] ?? wanted;
}
