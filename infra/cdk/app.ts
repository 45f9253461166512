/**
 * The CDK app: one XOS stack per stage, configured from context (see docs/deploy.md), checked by
 * cdk-nag's AwsSolutions and Serverless packs (an unsuppressed finding fails synthesis).
 * `npx cdk synth` works offline: without credentials the account is a placeholder.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { stageConfig } from './stage';
import { XosStack } from './xos-stack';

/** Build the app and its stack (tests pass context; the CLI passes it through the environment). */
export function buildApp(props: AppProps = {}): { app: App; stack: XosStack } {
  const app = new App(props);
  const config = stageConfig((key) => app.node.tryGetContext(key));
  const stack = new XosStack(app, `Xos-${config.stage}`, {
    config,
    env: { account: config.account, region: config.region },
    description: `XOS control plane (${config.stage})`,
    tags: { project: 'xos', stage: config.stage },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}

if (require.main === module) buildApp().app.synth();
