"""AFIRGen benchmark harness (issue 7).

``python -m bench run --profile short|full`` starts its own stack on free
ports (or attaches to ``make up``'s with ``--attach``), seeds data, runs the
scenarios of the profile, writes a report with tables and charts into
``bench/reports/<timestamp>/``, compares it with ``bench/baseline.json`` as
ratios and checks the SLA gates of ``bench/sla.toml``: the exit status is 1
when a gate is broken.
"""
