/**
 * Synthesize the stack for assertions, once per test file (10-40 s on a shared 2-core machine).
 * The context is cdk.json's (the same feature flags as `npx cdk synth`) plus the test's; Lambda
 * bundling is skipped (the bundle report builds the same entries with the same options) and the
 * built-in CloudFormation schema validation is left to the CI synth. The cdk-nag packs run as in
 * the CLI: an unacknowledged finding fails synthesis.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/cdk/app';
import type { XosStack } from '../../infra/cdk/xos-stack';

/** A synthesized stack and its template. */
export interface Synthesized {
  readonly stack: XosStack;
  readonly template: Template;
  /** The template as JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are inspected dynamically
  readonly json: any;
}

const CDK_JSON = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** Synthesize with extra context (stage, backendVpcId, ...). */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const { app, stack } = buildApp({
    context: {
      ...CDK_JSON.context,
      account: '123456789012',
      region: 'eu-west-1',
      ...context,
      'aws:cdk:bundling-stacks': [],
    },
    builtinCloudFormationValidation: false,
  });
  app.synth();
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() };
}

/** Resources of a type, by logical id. */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources are inspected dynamically
export function resourcesOf(json: any, type: string): Record<string, any> {
  return Object.fromEntries(
    Object.entries(json.Resources as Record<string, { Type: string }>).filter(([, r]) => r.Type === type),
  );
}
