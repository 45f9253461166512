import type { IngressRule } from '../../../../shared/backends/ec2/api';

/**
 * The EC2 query protocol, request side: a form-encoded body (`Action=DescribeVpcs&Filter.1.Name=...`)
 * read into the lists and structures the stand-in's actions take.
 */

/** The parameters of one request. */
export type Params = ReadonlyMap<string, string>;

/** Parse a form-encoded body. */
export function parseForm(body: string): Params {
  return new Map(new URLSearchParams(body).entries());
}

/** Indices N present under `prefix.N` (1-based, in order). */
function indices(params: Params, prefix: string): number[] {
  const found = new Set<number>();
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)(?:\\.|$)`);
  for (const key of params.keys()) {
    const m = re.exec(key);
    if (m?.[1]) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

/** `Name.1`, `Name.2` ... as a list. */
export function list(params: Params, prefix: string): string[] {
  return indices(params, prefix)
    .map((i) => params.get(`${prefix}.${i}`))
    .filter((v): v is string => v !== undefined);
}

/** One filter of a Describe call. */
export interface QueryFilter {
  readonly name: string;
  readonly values: readonly string[];
}

/** `Filter.N.Name` / `Filter.N.Value.M`. */
export function filters(params: Params): QueryFilter[] {
  return indices(params, 'Filter').map((i) => ({
    name: params.get(`Filter.${i}.Name`) ?? '',
    values: list(params, `Filter.${i}.Value`),
  }));
}

/** Tags of `TagSpecification.N` whose ResourceType is `type`; or of `Tag.N` (CreateTags). */
export function tags(params: Params, type?: string): Record<string, string> {
  const out: Record<string, string> = {};
  const read = (prefix: string) => {
    for (const j of indices(params, prefix)) {
      const key = params.get(`${prefix}.${j}.Key`);
      if (key !== undefined) out[key] = params.get(`${prefix}.${j}.Value`) ?? '';
    }
  };
  if (type === undefined) read('Tag');
  else
    for (const i of indices(params, 'TagSpecification')) {
      if (params.get(`TagSpecification.${i}.ResourceType`) === type) read(`TagSpecification.${i}.Tag`);
    }
  return out;
}

/** One `IpPermissions.N` entry (the same shape as the driver's ingress rule). */
export type Permission = IngressRule;

/** `IpPermissions.N.*` (IpRanges.M.CidrIp, Groups.M.GroupId). */
export function permissions(params: Params): Permission[] {
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  return indices(params, 'IpPermissions').map((i) => {
    const p = `IpPermissions.${i}`;
    return {
      protocol: params.get(`${p}.IpProtocol`) ?? '-1',
      fromPort: num(params.get(`${p}.FromPort`)),
      toPort: num(params.get(`${p}.ToPort`)),
      cidrs: indices(params, `${p}.IpRanges`).map((j) => params.get(`${p}.IpRanges.${j}.CidrIp`) ?? ''),
      groups: indices(params, `${p}.Groups`).map((j) => params.get(`${p}.Groups.${j}.GroupId`) ?? ''),
    };
  });
}
