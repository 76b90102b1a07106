"""Platform services every business module stands on: settings, database, tenancy, auth, audit."""
