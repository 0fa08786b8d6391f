"""TOTEM's packet engine: plain Python, no Home Assistant import.

It turns captured frames into a device table, flows, identities and alerts.
The Home Assistant integration above it only reads its snapshots.

Where things are, in the order a frame meets them:

- frames in: ``sources`` (pcap/pcapng files), ``capture`` and ``bpf`` (live
  interfaces)
- ``engine``: the hot loop; ``decode``: L2-L4 headers (Ethernet/VLAN, IPv4,
  IPv6, ARP, ports, cooked captures)
- ``flows``: the flow table; ``devices``: the device table
- ``protocols`` and ``dissect``: application protocols and payload parsers
- ``identify`` (with ``evidence``, ``classify``, ``type_rules``, ``vendor``):
  who a MAC is
- ``detectors``: the guard and its alert detectors (``detectors.base`` is the
  plugin seam)
- out: ``snapshot`` and ``model`` (the JSON contract), ``report`` (the table),
  ``probe``, ``messages`` and ``protocol`` (the child process Home Assistant
  runs, the lines it sends and the commands it takes)
- blocking: ``enforce``, ``hostinfo``; the commands: ``__main__``, ``cli_*``
"""
