/**
 * ONOS's own JSON schemas (the Swagger definitions copied to ../shared/peers/onos/swagger/), read
 * from there at test time, never copied into the project. They are Swagger 2.0 definitions with
 * known defects that no JSON Schema validator accepts as written; `repair` fixes exactly these,
 * each for a reason taken from the ONOS codecs (../shared/peers/onos/API.md), and nothing else:
 *  1. `type` values that are Java types (int64, int32, uint16, byte, Hex16, String): String ->
 *     string; the numeric ones -> integer or string (the codecs read them with asText/parse, and
 *     the schemas' own examples are strings such as "0x88cc").
 *  2. `required: false` (Swagger 1 style) on a property -> dropped.
 *  3. `required` on an array schema (meaningless) -> dropped.
 *  4. Example key names used as property names in NetCfgGet (`deviceId`, `deviceId/port-deviceId/port`)
 *     -> the same schema applies to any key (additionalProperties), not required.
 *  5. Host schemas require `location` but define and encode `locations` (HostCodec) -> `locations`.
 *  6. ApplicationPost.json is the Application reply, not the request: the resource reads only
 *     `url` and `activate` (ApplicationsWebResource.installApp). The request is checked against
 *     its property types with `required` dropped, and `activate` must be a boolean or "true"/"false".
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OnosSchemaCheck, OnosSchemaName } from '../../../infra/local/standins/onos';

/** Where the schemas live: ../shared/peers/onos/swagger relative to the repository (or ONOS_SWAGGER_DIR). */
export const SWAGGER_DIR = process.env.ONOS_SWAGGER_DIR ?? resolve(__dirname, '../../../../shared/peers/onos/swagger');

const JAVA_NUMERIC = new Set(['int64', 'int32', 'uint16', 'byte', 'Hex16']);

type Node = Record<string, unknown>;

/** Apply the documented repairs to one schema (a deep copy). */
export function repair(name: string, schema: unknown): unknown {
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (typeof n !== 'object' || n === null) return n;
    const out: Node = {};
    for (const [k, v] of Object.entries(n)) out[k] = walk(v);
    if (out.type === 'String') out.type = 'string';
    if (typeof out.type === 'string' && JAVA_NUMERIC.has(out.type)) {
      out.type = ['integer', 'string'];
      delete out.format;
    }
    if (typeof out.required === 'boolean') delete out.required;
    if (out.type === 'array') delete out.required;
    if (Array.isArray(out.required))
      out.required = out.required.map((r) =>
        r === 'location' && out.properties && 'locations' in (out.properties as Node) ? 'locations' : r,
      );
    return out;
  };
  const fixed = walk(schema) as Node;
  if (name === 'NetCfgGet') {
    const props = fixed.properties as Node;
    for (const cls of ['devices', 'links']) {
      const c = props[cls] as Node | undefined;
      if (!c?.properties) continue;
      const [placeholder] = Object.values(c.properties as Node);
      delete c.properties;
      delete c.required;
      c.additionalProperties = placeholder;
    }
  }
  if (name === 'ApplicationPost') {
    delete fixed.required;
    (fixed.properties as Node).activate = { type: ['boolean', 'string'], enum: [true, false, 'true', 'false'] };
    fixed.required = ['url'];
  }
  return fixed;
}

/** Compiled validators, one per schema file; undefined when the folder is missing (tests then skip loudly). */
export function loadOnosSchemas(): Map<OnosSchemaName, ValidateFunction> | undefined {
  if (!existsSync(SWAGGER_DIR)) {
    console.warn(`ONOS schemas not found at ${SWAGGER_DIR}: schema checks are SKIPPED (set ONOS_SWAGGER_DIR)`);
    return undefined;
  }
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (x: number) => Number.isInteger(x) && Math.abs(x) < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (x: number) => Number.isInteger(x) });
  ajv.addFormat('uint16', { type: 'number', validate: (x: number) => Number.isInteger(x) && x >= 0 && x < 65536 });
  const names: OnosSchemaName[] = [
    'ApplicationPost',
    'Application',
    'Applications',
    'FlowsPost',
    'FlowsBatchPost',
    'FlowEntries',
    'NetCfgGet',
    'DeviceGet',
    'DevicesGet',
    'DeviceGetPorts',
    'HostPut',
    'Host',
    'Hosts',
  ];
  const out = new Map<OnosSchemaName, ValidateFunction>();
  for (const name of names) {
    const raw = JSON.parse(readFileSync(join(SWAGGER_DIR, `${name}.json`), 'utf8'));
    out.set(name, ajv.compile(repair(name, raw) as object));
  }
  return out;
}

/** A check for the stand-in and the request recorder: undefined when valid, else ajv's errors. */
export function schemaCheck(validators: Map<OnosSchemaName, ValidateFunction>): OnosSchemaCheck {
  return (schema, value) => {
    const v = validators.get(schema);
    if (!v) return `no schema ${schema}`;
    return v(value) ? undefined : ajvErrors(v);
  };
}

function ajvErrors(v: ValidateFunction): string {
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
}
