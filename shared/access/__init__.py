"""Who may see which conversation: Dynamics 365 decides, the app asks and remembers for a while."""
