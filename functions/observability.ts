/**
 * Powertools logging, metrics and tracing for the Lambda entry points, as middy middlewares added
 * around the same handlers the local runtime calls (so `npm start` and the tests see no change).
 * Logs keep the project's redaction: a detail key that looks like a secret is never written.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Logger as LoggerPort } from '../shared/api/errors';
import { redact } from '../shared/log/json-logger';

/** The Powertools trio of one function, plus the logger as the core's Logger port. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
  /** The core's logger port, written through Powertools (JSON, with the Lambda context). */
  readonly log: LoggerPort;
}

/** Counts to publish after an invocation, from its event and result. */
export type InvocationMetrics<E, R> = (event: E, result: R) => Readonly<Record<string, number>>;

/** Powertools for one function; service and namespace come from POWERTOOLS_* variables in AWS. */
export function observability(service: string): Observability {
  const logger = new Logger({ serviceName: service });
  return {
    logger,
    metrics: new Metrics({ serviceName: service, namespace: 'XOS' }),
    tracer: new Tracer({ serviceName: service }),
    log: {
      info: (message, detail) => logger.info(message, redact(detail) as Record<string, unknown>),
      error: (message, detail) => logger.error(message, redact(detail) as Record<string, unknown>),
    },
  };
}

/**
 * Wrap a handler with the Lambda context in every log line, a trace segment, and metrics (a cold
 * start metric, plus `count(event, result)` published once per invocation).
 */
export function observed<E, R>(
  handler: ((event: E, context: Context) => Promise<R>) | MiddyfiedHandler<E, R, Error, Context>,
  o: Observability,
  count: InvocationMetrics<E, R>,
): MiddyfiedHandler<E, R, Error, Context> {
  const wrapped = 'use' in handler ? handler : middy<E, R, Error, Context>().handler(handler);
  return wrapped
    .use(injectLambdaContext(o.logger))
    .use(captureLambdaHandler(o.tracer))
    .use(logMetrics(o.metrics, { captureColdStartMetric: true }))
    .use({
      after: async (request) => {
        for (const [name, value] of Object.entries(count(request.event, request.response as R)))
          o.metrics.addMetric(name, MetricUnit.Count, value);
      },
    });
}
