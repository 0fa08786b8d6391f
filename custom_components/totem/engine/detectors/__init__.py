"""Alert detectors: each a small plugin that watches a few hooks and raises alerts.

A detector never sees a packet. The guard (:mod:`.guard`) hands it flows
when they start and again when they *settle* (a few seconds later, or when
they end): by then the flow knows whether it was answered, which is what
tells a scan from browsing. ARP frames, DNS queries and DHCP offers come
through the engine's and the identifier's callbacks.

- :mod:`.base`       the ``Detector`` base class, its ``DetectorContext`` and the registry
- :mod:`.guard`      the guard: shared state, the alert sink, control commands
- :mod:`.thresholds` every threshold, in one place
- :mod:`.baseline` :mod:`.policy`  what a device did while learning; what its type may do
- :mod:`.window`     bounded sliding windows over packet time
- one module per family: :mod:`.lan`, :mod:`.scans`, :mod:`.dns`, :mod:`.behaviour`

Nothing is imported here, so importing one detector module never drags in
the guard (and the import graph stays acyclic).
"""
