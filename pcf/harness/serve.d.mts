/** Serves harness/ on localhost (port 0: any free port). */
export function serveHarness(port?: number): Promise<{ origin: string; close(): Promise<void> }>;
