// Local Cosmos DB (NoSQL API) stand-in for development and tests; never deployed.
// The package's own CLI answers `Connection: close`, which makes the SDK pay a TLS handshake per
// request (~22 ms); keep-alive brings an upsert down to ~1.4 ms.
const { createHttpsServer } = require("@vercel/cosmosdb-server");

const port = Number(process.env.COSMOS_PORT || 8081);
const host = process.env.COSMOS_HOST || "127.0.0.1";
const server = createHttpsServer({ keepAlive: true }).listen(port, host, () => {
  console.log(`cosmosdb-server listening on https://${host}:${port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
