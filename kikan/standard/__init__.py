"""Standard layouts and code tables (data files) and the conformance checker."""
