/**
 * The synchronizer's contracts: what a reconcile execution receives, how executions are named,
 * and the ports the dispatcher and the sweeper start executions through. Pure; no AWS imports.
 */

/** Why an execution was started. */
export type StartReason = 'stream' | 'wake' | 'sweep' | 'resync';

/** Input of one reconcile execution: the object is re-read by the Load step (level-based). */
export interface ExecutionInput {
  readonly kind: string;
  readonly id: string;
  /** The version this execution reconciles; an execution never records over a newer version. */
  readonly version: number;
  readonly reason: StartReason;
}

/**
 * Execution name of a reconcile: `<Kind>-<id>-v<version>` for the stream's start (so duplicate
 * stream records start nothing new), with a suffix for restarts of the same version (wake-ups,
 * the sweeper, resync), since Step Functions keeps names unique for 90 days.
 */
export function executionName(input: Pick<ExecutionInput, 'kind' | 'id' | 'version'>, suffix?: string): string {
  const base = `${input.kind}-${input.id}-v${input.version}`;
  return suffix ? `${base}-${suffix}` : base;
}

/** Starts reconcile executions. Starting a name that already exists is success ('exists'), never an error. */
export interface WorkflowStarter {
  start(name: string, input: ExecutionInput): Promise<'started' | 'exists'>;
}

/** A change to one object as the dispatcher sees it (a stream record, unmarshalled). */
export interface ObjectChange {
  /** Stream record id (the dispatcher maps it back to the sequence number Lambda wants in batch item failures). */
  readonly eventId: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: { readonly PK: string; readonly SK: string };
  readonly newImage?: Record<string, unknown>;
  readonly oldImage?: Record<string, unknown>;
}

/**
 * Which changes need a reconcile: object items (SK = META) whose `version` changed (a user
 * write, a delete); synchronizer feedback never changes `version`, so it never triggers a run.
 */
export function changesToStart(
  changes: readonly ObjectChange[],
): Array<{ eventId: string; name: string; input: ExecutionInput }> {
  const out: Array<{ eventId: string; name: string; input: ExecutionInput }> = [];
  for (const c of changes) {
    if (c.keys.SK !== 'META' || c.eventName === 'REMOVE' || !c.newImage) continue;
    const version = c.newImage.version;
    if (typeof version !== 'number') continue;
    if (c.oldImage && c.oldImage.version === version) continue;
    const input: ExecutionInput = {
      kind: String(c.newImage.kind),
      id: String(c.newImage.id),
      version,
      reason: 'stream',
    };
    out.push({ eventId: c.eventId, name: executionName(input), input });
  }
  return out;
}
