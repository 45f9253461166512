/**
 * Module boundaries (DESIGN section 3, STYLE "Boundaries"):
 * - the core (shared/, except shared/adapters/) never imports the AWS SDK, Lambda types, middy
 *   or CDK, nor an adapter, nor functions/ or infra/;
 * - functions/ (Lambda entry points) never import infra/;
 * - the CDK app (infra/, except the local runtime) never imports handlers' internals.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-no-aws-sdk',
      comment:
        'The core is runtime-neutral: AWS SDK, aws-lambda, middy and CDK live at the edge (shared/adapters, functions, infra).',
      severity: 'error',
      from: { path: '^shared/', pathNot: '^shared/adapters/' },
      to: { path: '(@aws-sdk|aws-lambda|@middy|aws-cdk-lib|constructs)' },
    },
    {
      name: 'core-no-adapters',
      comment:
        'Ports live in the core, adapters implement them: the core never imports an adapter (which may pull the AWS SDK in).',
      severity: 'error',
      from: { path: '^shared/', pathNot: '^shared/adapters/' },
      to: { path: '^shared/adapters/' },
    },
    {
      name: 'core-no-edges',
      comment: 'The core never reaches into Lambda entry points or infrastructure.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|infra|bin)/' },
    },
    {
      name: 'functions-no-infra',
      comment: 'Lambda entry points do not depend on infrastructure code.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^infra/' },
    },
    {
      name: 'cdk-no-handler-internals',
      comment: 'The CDK app bundles handlers by entry path; it reads the registry, not handler code.',
      severity: 'error',
      from: { path: '^infra/', pathNot: '^infra/local/' },
      to: { path: '^functions/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '(\\.data|cdk\\.out)' },
  },
};
