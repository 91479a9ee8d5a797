export function serveInboxHarness(port?: number): Promise<{ origin: string; close(): Promise<void> }>;
