"""The fault suite: every process of the mesh killed, frozen and restarted under load.

``python -m chaos`` (``make chaos``) starts a stack of its own on free ports (scripts/devstack),
runs each fault of :mod:`chaos.faults` under the mixed load of :mod:`chaos.load`, audits what it
cost (:mod:`chaos.audit`) and writes ``chaos/reports/<time>-<profile>/report.md`` with the fault
table and its gates (:mod:`chaos.report`); it exits 1 when a gate is broken.
``tests/e2e/test_faults.py`` runs the short profile's faults on the test stack in ``make test``.
"""
