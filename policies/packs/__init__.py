"""Built-in policy packs (YAML files shipped as package data)."""
