/**
 * Regenerate docs/openapi.json from the model registry (`npm run openapi`). A unit test fails when
 * the committed file drifts from what the registry produces.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApi } from '../shared/model/emit/openapi';

const out = join(__dirname, '..', 'docs', 'openapi.json');
writeFileSync(out, `${JSON.stringify(buildOpenApi(), null, 2)}\n`);
process.stdout.write(`wrote ${out}\n`);
