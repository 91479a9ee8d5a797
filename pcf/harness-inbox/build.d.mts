export function buildInboxHarness(): Promise<void>;
