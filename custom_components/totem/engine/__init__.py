"""TOTEM's packet engine: plain Python, no Home Assistant import.

It turns captured frames into a device table, flows, identities and alerts.
The Home Assistant integration above it only reads its snapshots.
"""
