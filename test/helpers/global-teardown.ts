/** Stop the DynamoDB Local the global setup started (no stray Java process). */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __XOS_DDB__?: { stop(): Promise<void> } }).__XOS_DDB__?.stop();
}
