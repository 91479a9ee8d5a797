/** Serves `folder` (its index.html at `/`) on localhost (port 0: any free port). */
export function serveFolder(folder: string, port?: number): Promise<{ origin: string; close(): Promise<void> }>;
/** Serves harness/ on localhost (port 0: any free port). */
export function serveHarness(port?: number): Promise<{ origin: string; close(): Promise<void> }>;
