"""Staff administer accounts from the web: list, create, disable, re-enable, one-time passwords."""
