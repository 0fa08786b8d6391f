"""TOTEM IoT Network Guard."""
