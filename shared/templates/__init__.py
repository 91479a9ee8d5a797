"""Message templates: the catalog of a WhatsApp Business Account's templates (read from Meta, cached in
Cosmos DB), what an agent fills in, and what a filled template sends and says."""
